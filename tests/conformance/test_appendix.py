"""SPEC.md's appendices are the catalogue closures and the CDDL schemas, and nothing else (no drift)."""

from __future__ import annotations

import pytest

from conformance.appendix import blocks, current, render
from conformance.catalogue_closures import BEHAVIOUR, SEMANTICS, STANDARD, K
from conformance.spec import spec_path


@pytest.mark.clause("ADPT-10", "ADPT-12", "ADPT-14")
def test_appendix_a_is_the_catalogue() -> None:
    spec = spec_path()
    text = spec.read_text(encoding="utf-8")
    assert current(text, "closures") == blocks(spec)["closures"], "run `python -m conformance.appendix`"
    # every closure a case can run has a documented behaviour, and the table names every one of them
    assert set(BEHAVIOUR) | {STANDARD[0].name, STANDARD[1].name} == {d.name for d in (*STANDARD, *K)}
    assert set(SEMANTICS) == {d.name for d in (*STANDARD, K[0])}
    for d in STANDARD:
        assert f"`{d.name}`" in current(text, "closures")


@pytest.mark.clause("ADPT-18")
def test_appendix_b_is_the_schemas() -> None:
    spec = spec_path()
    text = spec.read_text(encoding="utf-8")
    assert current(text, "cddl") == blocks(spec)["cddl"], "run `python -m conformance.appendix`"
    for name in ("common.cddl", "bootstrap.cddl", "adapter.cddl"):
        assert (spec.parent / "schemas" / name).read_text(encoding="utf-8").strip() in text


def test_render_is_idempotent_and_changes_only_the_blocks() -> None:
    spec = spec_path()
    text = spec.read_text(encoding="utf-8")
    assert render(render(text, spec), spec) == render(text, spec)
    stale = text.replace("| `conformance:add` |", "| `conformance:add-old` |")
    assert render(stale, spec) == render(text, spec)

"""protocol/vectors/racks.json, read back with the reference ([PROC-2] .. [PROC-5])."""

from __future__ import annotations

from typing import Any

import pytest

from conformance import schemas
from gossamer.errors import GossamerError
from gossamer.rack_bootstrap import check_message
from gossamer.vectors import load

CASES = load()["racks"]["cases"]


@pytest.mark.clause("PROC-2", "PROC-3", "PROC-4", "PROC-5", "PROC-7", "PROC-11")
@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_rack_vector(case: dict[str, Any]) -> None:
    data = bytes.fromhex(case["message"])
    if case["error"]:
        with pytest.raises(GossamerError) as ei:
            check_message(data, case["app"])
        assert ei.value.code.name == case["error"]
        return
    answer = check_message(data, case["app"])
    assert answer == case["answer"]
    # every message a rack reads matches its rule of protocol/schemas/bootstrap.cddl ([ADPT-18])
    rule = {"hello": "hello-core", "error": "bootstrap-error"}.get(answer["kind"], answer["kind"])
    schemas.validate(rule, data)


def test_the_vectors_cover_every_kind_and_refusal() -> None:
    assert {c["answer"]["kind"] for c in CASES if c["answer"]} == {"hello", "caller", "done", "down", "spawn", "joined",
                                                                   "ready", "error"}
    assert {c["error"] for c in CASES} == {None, "BAD_HEADER", "MALFORMED_CBOR"}

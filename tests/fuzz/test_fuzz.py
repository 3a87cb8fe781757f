"""The fuzz targets in the test suite: corpus replay, a short search, and the oracle's teeth.

The long coverage-guided run is `python benchmarks/fuzz_run.py` (atheris); here every checked-in
input (seeds from the vectors, and every input that ever broke the reference) is replayed, and
Hypothesis searches each target for a few seconds. Both run without atheris.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from . import targets
from .seeds import ROOT, regressions, seeds
from .targets import TARGETS, Finding

HERE = Path(__file__).resolve().parent
CLAUSES = ("SEC-1", "DEC-1", "DEC-2", "DEC-3", "DEC-4", "DEC-5", "DEC-6", "DEC-7")


def _inputs(kind: str, target: str) -> list[Path]:
    d = HERE / kind / target
    return sorted(d.iterdir()) if d.exists() else []


@pytest.mark.clause(*CLAUSES)
@pytest.mark.parametrize("target", sorted(TARGETS))
def test_replay_corpus_and_regressions(target: str) -> None:
    paths = _inputs("corpus", target) + _inputs("regressions", target)
    assert _inputs("corpus", target), f"no seed corpus for {target}"
    for p in paths:
        try:
            TARGETS[target](p.read_bytes())
        except Finding as e:
            raise AssertionError(f"{p.relative_to(HERE)}: {e}") from None


def test_the_corpus_is_what_the_vectors_give() -> None:
    """`python -m tests.fuzz.seeds` wrote the checked-in corpus; it has not drifted."""
    for target, files in seeds().items():
        on_disk = {p.read_bytes() for p in (ROOT / target).iterdir()}
        assert on_disk == set(files.values()), f"tests/fuzz/corpus/{target} drifted: python -m tests.fuzz.seeds"
    for target, files in regressions().items():
        on_disk = {p.read_bytes() for p in (HERE / "regressions" / target).iterdir()}
        assert set(files.values()) <= on_disk


def _seeded(target: str) -> st.SearchStrategy[bytes]:
    seeds_ = [p.read_bytes() for p in _inputs("corpus", target)][:64]
    mutate = st.tuples(st.sampled_from(seeds_), st.integers(0, 4096), st.binary(max_size=8)).map(
        lambda t: t[0][: t[1]] + t[2] + t[0][t[1] + len(t[2]):])
    return st.binary(max_size=300) | mutate


@pytest.mark.clause(*CLAUSES)
@pytest.mark.parametrize("target", sorted(TARGETS))
def test_short_search(target: str) -> None:
    @settings(max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(_seeded(target))
    def run(data: bytes) -> None:
        TARGETS[target](data)

    run()


@pytest.mark.clause("SEC-1", "DEC-6")
def test_a_target_catches_a_reference_that_disagrees(monkeypatch: pytest.MonkeyPatch) -> None:
    """The oracle has teeth: a reference that accepts every CBOR item, or lets a bare exception
    out, is a finding."""
    monkeypatch.setattr(targets.REFERENCE, "op_check_cbor", lambda a: {})
    with pytest.raises(Finding, match="check_cbor"):
        targets.cbor_check(b"\x83\x01\x02")
    monkeypatch.setattr(targets.REFERENCE, "op_decode_frames", lambda a: int("1" * 5000))
    with pytest.raises(ValueError):
        targets.frame_stream(b"\x03\x80" + bytes(40))

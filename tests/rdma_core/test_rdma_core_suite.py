"""rdma-core's own pyverbs test suite on nic_emu, compared with the rxe baseline.

The whole suite runs in a subprocess (about 3 s); it needs Debian's python3-pyverbs for the test
files (never for the emulator), so it skips where /usr/share/doc/rdma-core/tests is missing and
the runner may not install it.  The comparison logic is tested on its own, with made-up records.
"""

from __future__ import annotations

import json
import os

import pytest

from nic_emu import rdma_core_tests as rct


def _rec(outcome: str) -> dict[str, str]:
    return {"outcome": outcome}


def test_compare_classifies_against_the_baseline() -> None:
    real = {"a": _rec("pass"), "b": _rec("pass"), "c": _rec("skip"), "d": _rec("skip"),
            "e": _rec("pass"), "f": _rec("error"), "g": _rec("pass")}
    emu = {"a": _rec("pass"), "b": _rec("error"), "c": _rec("skip"), "d": _rec("error"),
           "e": _rec("fail"), "f": _rec("pass"), "x": _rec("pass")}
    cmp = rct.compare(emu, real, {"e": "needs a kernel feature"})
    assert cmp["regressions"] == ["b"]
    assert cmp["skip_errors"] == ["d"]
    assert cmp["excluded"] == ["e"]
    assert cmp["extra_passes"] == ["f"]
    assert cmp["missing"] == ["g"]
    assert cmp["unknown"] == ["x"]


def test_summary_fails_on_a_regression_and_lists_exclusions() -> None:
    base = {"rdma_core_version": "44.0-2", "guest_kernel": "6.1", "suite_seconds": 1.0,
            "tests": {"t1": _rec("pass"), "t2": _rec("pass")}}
    run = {"duration_s": 0.1, "tests": {"t1": _rec("pass"), "t2": _rec("fail")}}
    text, ok = rct.summary(run, base, {})
    assert not ok and "REGRESSION" in text and text.endswith("FAILED")
    text, ok = rct.summary(run, base, {"t2": "why"})
    assert ok and "t2: why" in text


def test_exclusions_file_is_short_and_reasoned() -> None:
    excl = rct.load_exclusions()
    assert len(excl) <= 5
    assert all(len(reason) > 20 for reason in excl.values())
    data = json.loads(rct.EXCLUSIONS.read_text())
    assert set(data) >= {"exclusions"}


def test_baseline_records_its_provenance() -> None:
    base = json.loads(rct.BASELINE.read_text())
    assert base["rdma_core_version"] and base["guest_kernel"]
    assert sum(1 for r in base["tests"].values() if r["outcome"] == "pass") >= 80


@pytest.mark.skipif(not (rct.TESTS_DIR / "run_tests.py").exists() and os.geteuid() != 0,
                    reason="rdma-core's tests are not installed and apt-get needs root")
def test_every_rxe_passing_test_passes_on_nic_emu() -> None:
    run = rct.run_emulated()
    base = json.loads(rct.BASELINE.read_text())
    text, ok = rct.summary(run, base, rct.load_exclusions())
    assert ok, text

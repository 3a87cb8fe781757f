"""Boots a real Soft-RoCE guest (about 10-30 s); only with GOSSAMER_SOFTROCE=1."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from nic_emu.softroce.check import GUEST_SCRIPT, PYVERBS_WRITE
from nic_emu.softroce.run import run_in_guest

pytestmark = [
    pytest.mark.rxe,
    pytest.mark.skipif(
        os.environ.get("GOSSAMER_SOFTROCE") != "1",
        reason="boots a QEMU guest with rdma_rxe; set GOSSAMER_SOFTROCE=1",
    ),
    pytest.mark.skipif(
        os.environ.get("GOSSAMER_SOFTROCE_GUEST") == "1",
        reason="already inside a Soft-RoCE guest (no nested QEMU)",
    ),
]


def test_guest_runs_command_with_two_rxe_devices(tmp_path: Path) -> None:
    out = tmp_path / "out"
    res = run_in_guest(
        ["sh", "-c", 'pwd; rdma link show; echo "$GOSSAMER_T" > "$1/f"; echo e >&2; exit 5', "x",
         str(out)],
        devices=2,
        env={"GOSSAMER_T": "written in the guest"},
        writable=[str(out)],
        timeout=300,
        stream=False,
    )  # fmt: skip
    assert res.status == "ok", (res.message, res.console_tail)
    assert res.exit_code == 5
    text = res.stdout.decode()
    assert text.splitlines()[0] == os.getcwd()
    assert "rxe0" in text and "rxe1" in text and "ACTIVE" in text
    assert res.stderr == b"e\n"
    assert (out / "f").read_text() == "written in the guest\n"


def test_pyverbs_rdma_write_between_rxe0_and_rxe1() -> None:
    res = run_in_guest(["sh", "-c", GUEST_SCRIPT, "check", PYVERBS_WRITE], cwd="/", timeout=300, stream=False)
    assert res.status == "ok", (res.message, res.console_tail)
    assert res.exit_code == 0, res.stdout.decode() + res.stderr.decode()
    assert b'"match": true' in res.stdout

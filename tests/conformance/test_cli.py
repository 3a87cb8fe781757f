"""The `gossamer-conformance` command: main job, exit codes, and reports."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conformance.cli import main


def run_cli(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), out), out.getvalue()


def test_main_job_passes_on_the_reference_quickly() -> None:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "conformance.cli", "run"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert time.perf_counter() - t0 < 60
    assert "PASSED" in proc.stdout
    assert "SLOT-4" in proc.stdout  # the per-clause summary table
    assert "clauses checked of" in proc.stdout
    assert " 0 skipped" in proc.stdout  # the nic_* cases run on the default target (emulated NIC)


def test_run_fails_on_a_mutant() -> None:
    code, out = run_cli("run", "--target", "mutant:big-endian-header", "-q")
    assert code == 1
    assert "FAIL req.encode.single" in out


def test_list_and_filters() -> None:
    code, out = run_cli("list", "SLOT-4")
    assert code == 0 and "req.encode.exactly-full" in out and "cbor.valid" not in out
    assert run_cli("run", "no.such.case")[0] == 2
    assert run_cli("run", "--target", "nonsense")[0] == 2


@pytest.mark.clause("ADPT-11")
def test_reports_are_well_formed(tmp_path: Path) -> None:
    j, x, h = tmp_path / "r.json", tmp_path / "r.xml", tmp_path / "r.html"
    code, _ = run_cli("run", "-q", "--target", "mutant:big-endian-header", "--json", str(j), "--junit", str(x),
                      "--html", str(h))
    assert code == 1
    data = json.loads(j.read_text())
    assert data["passed"] is False and data["totals"]["fail"] > 0
    failed = [c for c in data["cases"] if c["verdict"] == "fail"]
    assert any(c["id"] == "req.encode.exactly-full" for c in failed)
    assert all(c["verdict"] == "pass" for c in data["cases"] if c["id"].startswith("req.decode."))
    assert all("received" in c for c in failed)
    assert data["clauses"]["SLOT-4"]["cases"]
    suite = ET.parse(x).getroot().find("testsuite")
    assert suite is not None and int(suite.get("failures", "0")) == data["totals"]["fail"]
    assert int(suite.get("tests", "0")) == data["totals"]["cases"]
    page = h.read_text()
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page and "http" not in page.split("</style>")[0]
    assert 'id="SLOT-4"' in page and "bytes expected" in page and "bytes received" in page and "<b>" in page


@pytest.mark.clause("ADPT-12", "BOOT-3")
def test_live_mode_without_a_listener_is_refused_loudly_not_passed() -> None:
    """[ADPT-12] live peers: a target nobody answers for is a usage error (exit 2), not a pass."""
    code, out = run_cli("run", "-q", "boot.hello-valid")
    assert code == 0 and "PASSED" in out
    import socket

    with socket.socket() as s:  # a port that is certainly closed: bound, never listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        assert run_cli("run", "--target", f"live:127.0.0.1:{port}", "--device", "emu1")[0] == 2
    assert run_cli("run", "--target", "live:nonsense")[0] == 2

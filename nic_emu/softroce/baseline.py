"""rdma-core's own pyverbs test suite on rxe, as a per-test baseline.

Debian's python3-pyverbs ships rdma-core's tests under /usr/share/doc/rdma-core/tests/ (some
files gzipped). :func:`run_baseline` boots a guest, copies them to the guest's /tmp, gunzips,
and runs them the way ``run_tests.py --dev rxe0 -v`` does, with a unittest result class that
records each test's outcome; :func:`write_baseline` stores that as JSON
(``nic_emu/rdma_core_baseline.json``). Other code (the conformance runner) can call both.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from .prepare import DEBIAN_PYTHON, log, prepare
from .run import report_failure, run_in_guest

TESTS_DIR = "/usr/share/doc/rdma-core/tests"
DEFAULT_OUTPUT = Path(__file__).resolve().parents[1] / "rdma_core_baseline.json"
OUTCOMES = ("pass", "skip", "fail", "error", "expected_failure", "unexpected_success")

#: Runs in the guest (/usr/bin/python3): argv = tests dir, device, output json path.
GUEST_RUNNER = r"""
import gzip, json, os, platform, shutil, sys, time, unittest
src, dev, out = sys.argv[1], sys.argv[2], sys.argv[3]
work = "/tmp/rdma-core-tests"
shutil.copytree(src, work)
for fn in os.listdir(work):
    if fn.endswith(".gz"):
        with gzip.open(os.path.join(work, fn)) as f, open(os.path.join(work, fn[:-3]), "wb") as g:
            g.write(f.read())
        os.unlink(os.path.join(work, fn))
os.chdir(work)
sys.path.insert(0, work)
sys.argv = ["run_tests.py", "--dev", dev, "-v"]
from importlib.machinery import SourceFileLoader
from args_parser import parser
tests = SourceFileLoader("tests", os.path.join(work, "__init__.py")).load_module()
parser.parse_args()
records = {}

def first_line(text):
    lines = [l for l in str(text).strip().splitlines() if l.strip()]
    return lines[-1][:300] if lines else ""

class Result(unittest.TextTestResult):
    def addSuccess(self, test):
        super().addSuccess(test); records[test.id()] = {"outcome": "pass"}
    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        records[test.id()] = {"outcome": "skip", "reason": str(reason)[:300]}
    def addFailure(self, test, err):
        super().addFailure(test, err)
        records[test.id()] = {"outcome": "fail", "reason": first_line(self.failures[-1][1])}
    def addError(self, test, err):
        super().addError(test, err)
        records[test.id()] = {"outcome": "error", "reason": first_line(self.errors[-1][1])}
    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err); records[test.id()] = {"outcome": "expected_failure"}
    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        records[test.id()] = {"outcome": "unexpected_success"}

suite = unittest.defaultTestLoader.loadTestsFromModule(tests)
t0 = time.monotonic()
unittest.TextTestRunner(stream=sys.stderr, verbosity=2, resultclass=Result).run(suite)
with open(out, "w") as f:
    json.dump({"tests": records, "duration_s": round(time.monotonic() - t0, 1),
               "guest_kernel": platform.release()}, f)
"""


def rdma_core_version() -> str:
    proc = subprocess.run(
        ["dpkg-query", "-W", "-f=${Version}", "python3-pyverbs"],
        capture_output=True,
        text=True,
        check=False,
    )
    return proc.stdout.strip() or "unknown"


def run_baseline(
    *, device: str = "rxe0", devices: int = 1, timeout: float = 900.0, mem_mb: int = 2048
) -> dict[str, Any]:
    """Run rdma-core's pyverbs tests on ``device`` in a guest; return the baseline dict.

    Raises RuntimeError when the guest run fails or produces no results.
    """
    prep = prepare()
    out_dir = Path(tempfile.mkdtemp(prefix="gossamer-baseline-"))
    try:
        out_file = out_dir / "result.json"
        t0 = time.monotonic()
        res = run_in_guest(
            [DEBIAN_PYTHON, "-c", GUEST_RUNNER, TESTS_DIR, device, str(out_file)],
            devices=devices,
            timeout=timeout,
            mem_mb=mem_mb,
            cwd="/",
            writable=[str(out_dir)],
            prepared=prep,
        )
        wall = time.monotonic() - t0
        if res.status != "ok" or not out_file.exists():
            report_failure(res)
            raise RuntimeError(f"baseline run failed: {res.status} {res.message} (exit {res.exit_code})")
        raw = json.loads(out_file.read_text())
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)
    tests: dict[str, dict[str, str]] = dict(sorted(raw["tests"].items()))
    summary = dict.fromkeys(OUTCOMES, 0)
    for rec in tests.values():
        summary[rec["outcome"]] += 1
    return {
        "generated_by": "python -m nic_emu.softroce baseline",
        "rdma_core_version": rdma_core_version(),
        "guest_kernel": raw.get("guest_kernel", prep.kernel_version),
        "device": device,
        "rxe_devices_in_guest": devices,
        "guest_mem_mb": mem_mb,
        "suite_seconds": raw.get("duration_s"),
        "guest_run_seconds": round(wall, 1),
        "summary": {k: v for k, v in summary.items() if v or k in ("pass", "skip", "fail", "error")},
        "tests": tests,
    }


def write_baseline(data: dict[str, Any], path: Path = DEFAULT_OUTPUT) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=False) + "\n")
    tmp.replace(path)


def main(output: str | None = None, timeout: float = 900.0, mem_mb: int = 2048) -> int:
    try:
        data = run_baseline(timeout=timeout, mem_mb=mem_mb)
    except RuntimeError as exc:
        log(str(exc))
        return 1
    path = Path(output) if output else DEFAULT_OUTPUT
    write_baseline(data, path)
    s = data["summary"]
    log(
        f"baseline: {s} in {data['suite_seconds']} s (guest run {data['guest_run_seconds']} s), "
        f"rdma-core {data['rdma_core_version']}, kernel {data['guest_kernel']} -> {path}"
    )
    return 0

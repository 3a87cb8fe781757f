"""rdma-core's own pyverbs test suite, run on nic_emu (default) or on rxe (``--real``).

The suite is not ours and is never copied into this repository: Debian ships it with
``python3-pyverbs`` under ``/usr/share/doc/rdma-core/tests/`` (some files gzipped).  This runner

1. makes sure the package is installed (``apt-get install python3-pyverbs rdma-core`` when the
   tests are missing; nothing when present),
2. copies the suite into a private temporary folder and gunzips it there,
3. runs it in a subprocess of this Python, from that folder, with a clean ``sys.path``, after
   ``nic_emu.provider.install_as_pyverbs()`` has made every ``pyverbs.*`` module (providers
   included) resolve to the emulator, and with one emulated device (``--dev``, default
   ``emu0``) on a fresh fabric,
4. compares each test's outcome with the rxe baseline (``rdma_core_baseline.json``) and the
   reviewed exclusions (``rdma_core_exclusions.json``), prints a summary, and (with
   ``--check-baseline``) fails when a test that passes on rxe does not pass here, or a test rxe
   skips errors here.

``--real`` instead runs the same suite on rxe0 in the Soft-RoCE guest and rewrites the baseline.

Usage::

    python -m nic_emu.rdma_core_tests --check-baseline     # CI: emulator vs. baseline
    python -m nic_emu.rdma_core_tests -k test_qpex -v      # a subset, with unittest's output
    python -m nic_emu.rdma_core_tests --real               # regenerate the baseline on rxe
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from nic_emu.softroce import baseline as softroce_baseline

TESTS_DIR = Path("/usr/share/doc/rdma-core/tests")
HERE = Path(__file__).resolve().parent
BASELINE = HERE / "rdma_core_baseline.json"
EXCLUSIONS = HERE / "rdma_core_exclusions.json"
PACKAGES = ("python3-pyverbs", "rdma-core")
OUTCOMES = ("pass", "skip", "fail", "error", "expected_failure", "unexpected_success")

#: Runs in the subprocess: argv = suite copy, device, output json, seed, test-id filters...
BOOTSTRAP = r"""
import json, os, platform, sys, time, unittest
work, dev, out, seed = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
filters = sys.argv[5:]
# A clean sys.path: the suite's folder first, then the interpreter's paths without '' / cwd and
# without any folder that holds another 'tests' package (a checkout of this repository has one),
# which would shadow the suite's. (An installed nic_emu lives in site-packages, which must stay.)
def _clash(p):
    return os.path.isfile(os.path.join(p or '.', 'tests', '__init__.py'))
sys.path[:] = [work] + [p for p in sys.path if p not in ('', '.', os.getcwd()) and not _clash(p)]
import nic_emu
from nic_emu.provider import install_as_pyverbs
install_as_pyverbs()
nic_emu.set_fabric(nic_emu.Fabric(seed=seed, machines=0))
nic_emu.current_fabric().add_machine(dev)
os.chdir(work)
sys.argv = ["run_tests.py", "--dev", dev] + (["-v"] if os.environ.get("RDMA_CORE_TESTS_VERBOSE") else [])
from importlib.machinery import SourceFileLoader
from args_parser import parser
tests = SourceFileLoader("tests", os.path.join(work, "__init__.py")).load_module()
parser.parse_args()
records = {}

def last_line(text):
    lines = [l for l in str(text).strip().splitlines() if l.strip()]
    return lines[-1][:300] if lines else ""

class Result(unittest.TextTestResult):
    def startTest(self, test):
        self._t0 = time.monotonic(); super().startTest(test)
    def _rec(self, test, outcome, reason=None):
        rec = {"outcome": outcome, "seconds": round(time.monotonic() - self._t0, 3)}
        if reason is not None:
            rec["reason"] = reason
        records[test.id()] = rec
    def addSuccess(self, test):
        super().addSuccess(test); self._rec(test, "pass")
    def addSkip(self, test, reason):
        super().addSkip(test, reason); self._rec(test, "skip", str(reason)[:300])
    def addFailure(self, test, err):
        super().addFailure(test, err); self._rec(test, "fail", last_line(self.failures[-1][1]))
    def addError(self, test, err):
        super().addError(test, err); self._rec(test, "error", last_line(self.errors[-1][1]))
    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err); self._rec(test, "expected_failure")
    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test); self._rec(test, "unexpected_success")

def flatten(suite):
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            yield from flatten(t)
        else:
            yield t

suite = unittest.defaultTestLoader.loadTestsFromModule(tests)
if filters:
    suite = unittest.TestSuite(t for t in flatten(suite) if any(f in t.id() for f in filters))
verbosity = 2 if os.environ.get("RDMA_CORE_TESTS_VERBOSE") else 0
t0 = time.monotonic()
unittest.TextTestRunner(stream=sys.stderr, verbosity=verbosity, resultclass=Result).run(suite)
with open(out, "w") as f:
    json.dump({"tests": records, "duration_s": round(time.monotonic() - t0, 1),
               "kernel": platform.release()}, f)
"""


def log(msg: str) -> None:
    print(f"[rdma-core-tests] {msg}", file=sys.stderr, flush=True)


# -- the suite ----------------------------------------------------------------------------------


def ensure_suite() -> Path:
    """The installed suite's folder; ``apt-get install`` its packages first when it is missing."""
    if (TESTS_DIR / "run_tests.py").exists():
        return TESTS_DIR
    cmd = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *PACKAGES]
    if os.geteuid() != 0:
        if shutil.which("sudo") is None:
            raise RuntimeError(f"{TESTS_DIR} is missing and not root: run {' '.join(cmd)}")
        cmd = ["sudo", "-n", *cmd]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    log(" ".join(cmd))
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        # A fresh machine may have stale package lists.
        subprocess.run([*cmd[: cmd.index("install")], "update", "-qq"], env=env, check=False)
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if not (TESTS_DIR / "run_tests.py").exists():
        raise RuntimeError(f"{' '.join(cmd)} did not provide {TESTS_DIR}:\n{proc.stderr[-2000:]}")
    return TESTS_DIR


def copy_suite(dest: Path, src: Path | None = None) -> Path:
    """A private copy of the suite in ``dest/tests``, every ``.py.gz`` unpacked."""
    src = src or ensure_suite()
    work = dest / "tests"
    shutil.copytree(src, work)
    for gz in work.glob("*.gz"):
        with gzip.open(gz) as f:
            gz.with_suffix("").write_bytes(f.read())
        gz.unlink()
    return work


def rdma_core_version() -> str:
    proc = subprocess.run(
        ["dpkg-query", "-W", "-f=${Version}", "python3-pyverbs"],
        capture_output=True, text=True, check=False,
    )
    return proc.stdout.strip() or "unknown"


# -- runs ---------------------------------------------------------------------------------------


def run_emulated(
    *, dev: str = "emu0", seed: int = 1, filters: tuple[str, ...] = (), verbose: bool = False,
    timeout: float = 900.0,
) -> dict[str, Any]:
    """Run the suite on nic_emu in a subprocess; return ``{"tests": {id: record}, ...}``."""
    with tempfile.TemporaryDirectory(prefix="rdma-core-tests-") as tmp:
        work = copy_suite(Path(tmp))
        out = Path(tmp) / "result.json"
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "GOSSAMER_VERBS")}
        if verbose:
            env["RDMA_CORE_TESTS_VERBOSE"] = "1"
        t0 = time.monotonic()
        proc = subprocess.run(
            [sys.executable, "-c", BOOTSTRAP, str(work), dev, str(out), str(seed), *filters],
            cwd=work, env=env, timeout=timeout, check=False,
            stderr=None if verbose else subprocess.PIPE, text=True,
        )
        wall = time.monotonic() - t0
        if not out.exists():
            tail = "" if verbose else (proc.stderr or "")[-4000:]
            raise RuntimeError(f"the suite produced no result (exit {proc.returncode}):\n{tail}")
        raw: dict[str, Any] = json.loads(out.read_text())
    raw["tests"] = dict(sorted(raw["tests"].items()))
    raw["wall_seconds"] = round(wall, 1)
    return raw


def run_real(*, timeout: float = 900.0, mem_mb: int = 2048) -> dict[str, Any]:
    """Run the suite on rxe0 in the Soft-RoCE guest; return the baseline dict."""
    data = softroce_baseline.run_baseline(timeout=timeout, mem_mb=mem_mb)
    data["generated_by"] = "python -m nic_emu.rdma_core_tests --real"
    return data


# -- comparison ---------------------------------------------------------------------------------


def load_exclusions(path: Path = EXCLUSIONS) -> dict[str, str]:
    """``{test id: reason}``: rxe-passing tests the emulator is not expected to pass."""
    if not path.exists():
        return {}
    data = json.loads(path.read_text())
    return {k: str(v) for k, v in data.get("exclusions", {}).items()}


def compare(
    emu: dict[str, dict[str, Any]], real: dict[str, dict[str, Any]], exclusions: dict[str, str]
) -> dict[str, list[str]]:
    """Classify every test id against the baseline.

    ``regressions``: passes on rxe, does not pass here, not excluded.  ``skip_errors``: rxe
    skips it, here it fails or errors.  ``excluded``: rxe-passing tests on the exclusion list.
    ``extra_passes``: passes here, not on rxe (a device feature rxe lacks; informational).
    ``missing``: in the baseline, not run here (or the reverse: ``unknown``).
    """
    out: dict[str, list[str]] = {k: [] for k in (
        "regressions", "skip_errors", "excluded", "extra_passes", "missing", "unknown")}
    for tid, rec in real.items():
        mine = emu.get(tid)
        if mine is None:
            out["missing"].append(tid)
            continue
        if rec["outcome"] == "pass":
            if tid in exclusions:
                out["excluded"].append(tid)
            elif mine["outcome"] != "pass":
                out["regressions"].append(tid)
        elif rec["outcome"] == "skip" and mine["outcome"] in ("fail", "error"):
            out["skip_errors"].append(tid)
        elif mine["outcome"] == "pass":
            out["extra_passes"].append(tid)
    out["unknown"] = [t for t in emu if t not in real]
    return out


def counts(tests: dict[str, dict[str, Any]]) -> dict[str, int]:
    c = dict.fromkeys(("pass", "skip", "fail", "error"), 0)
    for rec in tests.values():
        c[rec["outcome"]] = c.get(rec["outcome"], 0) + 1
    return c


def summary(
    emu_run: dict[str, Any], baseline: dict[str, Any], exclusions: dict[str, str],
    *, subset: bool = False,
) -> tuple[str, bool]:
    """The printed report and whether the run is acceptable."""
    emu, real = emu_run["tests"], baseline["tests"]
    if subset:
        real = {k: v for k, v in real.items() if k in emu}
    cmp = compare(emu, real, exclusions)
    ce, cr = counts(emu), counts(real)
    excluded_here = sum(1 for t in cmp["excluded"])
    lines = [
        f"rdma-core {baseline.get('rdma_core_version', '?')} pyverbs suite: "
        f"{len(real)} tests in the baseline, {len(emu)} run on nic_emu",
        f"{'':10}{'rxe (' + str(baseline.get('guest_kernel', '?')) + ')':>26}{'nic_emu':>12}",
    ]
    for k in ("pass", "skip", "fail", "error"):
        lines.append(f"{k:10}{cr.get(k, 0):>26}{ce.get(k, 0):>12}")
    lines.append(f"{'excluded':10}{'':>26}{excluded_here:>12}")
    lines.append(
        f"{'seconds':10}{baseline.get('suite_seconds', '?')!s:>26}{emu_run.get('duration_s', '?')!s:>12}"
    )
    ok = not cmp["regressions"] and not cmp["skip_errors"]
    lines.append(
        f"rxe-passing tests that pass on nic_emu: {cr['pass'] - len(cmp['regressions']) - excluded_here}"
        f"/{cr['pass']} ({excluded_here} excluded, {len(cmp['regressions'])} regressions); "
        f"rxe-skipped tests that fail/error here: {len(cmp['skip_errors'])}"
    )
    lines.append(f"exclusions (reviewed, nic_emu/rdma_core_exclusions.json): {len(exclusions) or 'none'}")
    lines += [f"  {tid}: {why}" for tid, why in sorted(exclusions.items())]
    for key, title in (
        ("regressions", "REGRESSION (passes on rxe, not on nic_emu)"),
        ("skip_errors", "SKIP->ERROR (skipped on rxe, fails/errors on nic_emu)"),
        ("extra_passes", "passes on nic_emu, not on rxe"),
        ("missing", "in the baseline, not run"),
        ("unknown", "not in the baseline"),
    ):
        for tid in cmp[key]:
            rec = emu.get(tid, {})
            why = f" -- {rec['outcome']}: {rec.get('reason', '')}" if rec else ""
            lines.append(f"{title}: {tid}{why}")
    lines.append("OK" if ok else "FAILED")
    return "\n".join(lines), ok


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m nic_emu.rdma_core_tests", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--real", action="store_true",
                    help="run on rxe0 in the Soft-RoCE guest and rewrite the baseline")
    ap.add_argument("--check-baseline", action="store_true",
                    help="exit 1 when an rxe-passing test does not pass (and is not excluded), "
                         "or an rxe-skipped test fails/errors")
    ap.add_argument("--dev", default="emu0", help="name of the emulated device (default emu0)")
    ap.add_argument("--seed", type=int, default=1, help="fabric seed (default 1)")
    ap.add_argument("-k", dest="filters", action="append", default=[],
                    help="run only test ids containing this text (repeatable)")
    ap.add_argument("-v", "--verbose", action="store_true", help="unittest's verbose output")
    ap.add_argument("--json", help="write the per-test results of this run here")
    ap.add_argument("--baseline", default=str(BASELINE), help="baseline file (read, or written by --real)")
    ap.add_argument("--timeout", type=float, default=900.0)
    args = ap.parse_args(argv)

    if args.real:
        try:
            data = run_real(timeout=args.timeout)
        except RuntimeError as exc:
            log(str(exc))
            return 1
        softroce_baseline.write_baseline(data, Path(args.baseline))
        log(f"baseline: {data['summary']} in {data['suite_seconds']} s "
            f"(guest run {data['guest_run_seconds']} s), rdma-core {data['rdma_core_version']}, "
            f"kernel {data['guest_kernel']} -> {args.baseline}")
        return 0

    try:
        run = run_emulated(dev=args.dev, seed=args.seed, filters=tuple(args.filters),
                           verbose=args.verbose, timeout=args.timeout)
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        log(str(exc))
        return 1
    run["rdma_core_version"] = rdma_core_version()
    if args.json:
        Path(args.json).write_text(json.dumps(run, indent=1) + "\n")
    baseline = json.loads(Path(args.baseline).read_text())
    text, ok = summary(run, baseline, load_exclusions(), subset=bool(args.filters))
    print(text)
    print(f"nic_emu run: {run['duration_s']} s in the suite, {run['wall_seconds']} s wall")
    return 1 if args.check_baseline and not ok else 0


if __name__ == "__main__":
    raise SystemExit(main())

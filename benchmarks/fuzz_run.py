"""Long coverage-guided fuzz run of every target (atheris / libFuzzer), with figures.

    python benchmarks/fuzz_run.py [--seconds 180] [--runs 1000000] [--jobs 1] [TARGET ...]

Each target runs in its own process (`python -m tests.fuzz.atheris_main`), seeded with
tests/fuzz/corpus/<target> and tests/fuzz/regressions/<target>, until it has run `--runs` inputs or
`--seconds` have passed, whichever is first. New coverage goes to a scratch corpus (--work, a temp
directory by default); a finding (crash, oracle disagreement, timeout) is written to
<work>/<target>/finding-* and should be copied to tests/fuzz/regressions/<target>/ once fixed.

Prints, per target: inputs run, inputs per second, coverage (libFuzzer's `cov` edges and `ft`
features, over the instrumented `gossamer` and `conformance` code), corpus size and findings; then
one JSON object per line {"name", "value", "unit"}.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fuzz.targets import TARGETS  # noqa: E402

STAT = re.compile(r"^stat::(\w+):\s+(\d+)", re.M)
COV = re.compile(r"cov: (\d+) ft: (\d+) corp: (\d+)")


def run_one(target: str, seconds: int, runs: int, work: Path) -> dict[str, Any]:
    out = work / target
    (out / "new").mkdir(parents=True, exist_ok=True)
    seeds = [ROOT / "tests" / "fuzz" / d / target for d in ("corpus", "regressions")]
    cmd = [sys.executable, "-m", "tests.fuzz.atheris_main", target, f"-runs={runs}",
           f"-max_total_time={seconds}", "-print_final_stats=1", "-timeout=10", "-rss_limit_mb=2048",
           f"-artifact_prefix={out}/finding-", str(out / "new"), *(str(s) for s in seeds if s.exists())]
    t0 = time.monotonic()
    p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    wall = time.monotonic() - t0
    (out / "log.txt").write_text(p.stderr)
    stats = {k: int(v) for k, v in STAT.findall(p.stderr)}
    cov = COV.findall(p.stderr)
    findings = sorted(str(f) for f in out.glob("finding-*"))
    inputs = stats.get("number_of_executed_units", 0)
    return {"target": target, "inputs": inputs, "seconds": round(wall, 1),
            "rate": stats.get("average_exec_per_sec") or (round(inputs / wall) if wall else 0),
            "cov": int(cov[-1][0]) if cov else 0, "ft": int(cov[-1][1]) if cov else 0,
            "corpus": int(cov[-1][2]) if cov else 0, "new_units": stats.get("new_units_added", 0),
            "findings": findings, "exit": p.returncode}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("targets", nargs="*", default=sorted(TARGETS))
    ap.add_argument("--seconds", type=int, default=180, help="per target (default 180)")
    ap.add_argument("--runs", type=int, default=1_000_000, help="inputs per target (default 10^6)")
    ap.add_argument("--jobs", type=int, default=1, help="targets run at once (default 1)")
    ap.add_argument("--work", type=Path, default=None, help="scratch corpus and findings (default: a temp dir)")
    a = ap.parse_args(argv)
    work = a.work or Path(tempfile.mkdtemp(prefix="gossamer-fuzz-"))
    with ThreadPoolExecutor(a.jobs) as pool:
        results = list(pool.map(lambda t: run_one(t, a.seconds, a.runs, work), a.targets))
    print(f"{'target':<16} {'inputs':>9} {'inputs/s':>9} {'cov':>5} {'ft':>6} {'corpus':>6} findings")
    for r in results:
        print(f"{r['target']:<16} {r['inputs']:>9} {r['rate']:>9} {r['cov']:>5} {r['ft']:>6} {r['corpus']:>6} "
              f"{len(r['findings'])} {' '.join(r['findings'])}")
    print(f"work directory: {work}")
    for r in results:
        t = r["target"]
        for name, value, unit in ((f"fuzz.{t}.inputs", r["inputs"], "inputs"),
                                  (f"fuzz.{t}.rate", r["rate"], "inputs/s"),
                                  (f"fuzz.{t}.coverage", r["cov"], "edges"),
                                  (f"fuzz.{t}.features", r["ft"], "features"),
                                  (f"fuzz.{t}.findings", len(r["findings"]), "findings")):
            print(json.dumps({"name": name, "value": value, "unit": unit}))
    return 1 if any(r["findings"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())

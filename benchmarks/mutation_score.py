"""The suite's mutation score on the reference: every mutant (or a seeded sample) of the codec and trustee.

    python benchmarks/mutation_score.py [--sample N] [--seed S] [--jobs 2] [--target reference]

Runs `python -m conformance.mutation run` (one forked child per mutant, a hard deadline each; see
`conformance/mutation/`), prints its report, then one JSON object per line ({"name", "value",
"unit"}): mutants total, killed, survived, equivalent, free-choice, open, unclassified, timeouts, the
score per module and overall, and mutants/s. The full set (about 2,900 mutants) takes about 15
minutes on two cores against the default target.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from conformance.mutation import engine, survivors
from conformance.mutation.cli import DEFAULT_TARGET
from conformance.mutation.cli import main as mutation_main
from conformance.mutation.operators import Point


def rescore(data: dict[str, Any]) -> dict[str, Any]:
    """An earlier run's outcomes scored again with today's `survivors.toml`."""
    outcomes = [engine.Outcome(point=Point(module=o["module"], function=o["function"], operator=o["operator"],
                                           line=o["line"], site=-1, variant=-1, original=o["original"],
                                           mutated=o["mutated"], key=o["key"]), status=o["status"])
                for o in data["outcomes"]]
    tallies = survivors.tally(outcomes, survivors.load())
    return {**data, "tally": {m: t.as_json() for m, t in tallies.items()}}


def rows(data: dict[str, Any]) -> list[tuple[str, float, str]]:
    """The figures of one run's outcome file (`run --json`)."""
    tally = data["tally"]
    overall = tally["overall"]
    out: list[tuple[str, float, str]] = [
        ("mutation.total", overall["total"], "mutants"),
        ("mutation.killed", overall["killed"], "mutants"),
        ("mutation.survived", overall["survived"], "mutants"),
        ("mutation.equivalent", overall.get("equivalent", 0), "mutants"),
        ("mutation.free_choice", overall.get("free_choice", 0), "mutants"),
        ("mutation.open", overall.get("open", 0), "mutants"),
        ("mutation.unclassified", overall["unclassified"], "mutants"),
        ("mutation.timeouts", overall["timeouts"], "mutants"),
        ("mutation.crashes", overall["crashes"], "mutants"),
        ("mutation.score", round(100 * overall["score"], 2), "%"),
    ]
    out += [(f"mutation.score.{m}", round(100 * t["score"], 2), "%") for m, t in tally.items() if m != "overall"]
    out.append(("mutation.rate", round(overall["total"] / data["seconds"], 2) if data["seconds"] else 0.0,
                "mutants/s"))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sample", type=int, default=None, help="a seeded sample instead of every mutant")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--target", default=DEFAULT_TARGET)
    ap.add_argument("--module", action="append", default=[])
    ap.add_argument("--json-out", help="also keep the full outcome file here")
    ap.add_argument("--from-json", help="print the figures of an earlier run's outcome file (scored with today's "
                                        "survivors.toml) instead of running")
    a = ap.parse_args()
    if a.from_json:
        data = rescore(json.loads(Path(a.from_json).read_text()))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(a.json_out or Path(tmp) / "mutation.json")
            argv = ["run", "--jobs", str(a.jobs), "--target", a.target, "--seed", str(a.seed), "--json", str(out),
                    "-q"]
            argv += [x for m in a.module for x in ("--module", m)]
            if a.sample is not None:
                argv += ["--sample", str(a.sample)]
            if mutation_main(argv) == 2:
                sys.exit(2)
            data = json.loads(out.read_text())
    print()
    for name, value, unit in rows(data):
        print(json.dumps({"name": name, "value": value, "unit": unit}))


if __name__ == "__main__":
    main()

"""`python -m conformance.mutation`: mutants of the reference, the suite run on each, the score.

```
python -m conformance.mutation run [--module M ...] [--operator OP ...] [--sample N] [--seed S]
                                   [--jobs J] [--timeout T] [--target T] [--json F] [--template] [-q]
python -m conformance.mutation list [--module M ...] [--sample N] [--seed S]   # the mutation points
python -m conformance.mutation show KEY ...                                     # one mutant as a diff
python -m conformance.mutation operators
```

`run` exits 0 when no mutant survived unclassified, 1 otherwise, 2 on a usage error or when the
unmutated reference itself fails the suite (then nothing can be measured).
"""

from __future__ import annotations

import argparse
import ast
import difflib
import fnmatch
import json
import os
import random
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import engine, survivors
from .operators import OPERATORS, Point, apply, enumerate_points

#: what is mutated by default: the codec, the sans-I/O trustee, and the runtime's trustee side
#: (`gossamer/__init__.py` only re-exports; `vectors.py` generates the checked-in vectors and
#: `protocol_files.py` finds them: neither answers a peer)
MODULES = (
    "gossamer.batch", "gossamer.bootstrap", "gossamer.buffer", "gossamer.closures", "gossamer.errors",
    "gossamer.fallback", "gossamer.layout", "gossamer.request", "gossamer.response", "gossamer.serial",
    "gossamer.slot", "gossamer.slot_state", "gossamer.trust_ids", "gossamer.trustee", "gossamer.vtable",
    "gossamer.runtime.trustee_side",
)
#: modules a `--module` glob may also name (the runtime's fallback transport, shared with its client side)
OPTIONAL = ("gossamer.runtime.tcp",)
#: the default target first (codec in process, trustee through the runtime on the emulated NIC),
#: then the sans-I/O one for what only it reaches (`Trustee.run_batch`, the sans-I/O slot states),
#: then the reference live trustee behind its TCP bootstrap (`accept_hello`, `check_rdma` and the
#: bootstrap stream reader on a connector's real hello; only the trustee cases run there)
DEFAULT_TARGET = "reference+reference-sansio+reference-live"


def points_of(modules: Sequence[str], operators: Sequence[str] = ()) -> list[Point]:
    out: list[Point] = []
    for m in modules:
        pts = enumerate_points(m, engine.source_of(engine.module_path(m)))
        out.extend(p for p in pts if not operators or p.operator in operators)
    return out


def select_modules(patterns: Sequence[str]) -> list[str]:
    if not patterns:
        return list(MODULES)
    known = MODULES + OPTIONAL
    out = [m for m in known if any(fnmatch.fnmatchcase(m, p) or m == f"gossamer.{p}" for p in patterns)]
    if not out:
        raise SystemExit(f"no module matches {list(patterns)}; known: {', '.join(known)}")
    return out


def sample(points: Sequence[Point], n: int | None, seed: int) -> list[Point]:
    """`n` points chosen with `seed`, in enumeration order (the same for the same source and seed)."""
    if n is None or n >= len(points):
        return list(points)
    chosen = sorted(random.Random(seed).sample(range(len(points)), n))
    return [points[i] for i in chosen]


def _where(p: Point) -> str:
    return f"{p.module.replace('.', '/')}.py:{p.line}"


def report(outcomes: Sequence[engine.Outcome], classes: dict[str, survivors.Classification],
           out: Any = sys.stdout) -> dict[str, survivors.Tally]:
    t = survivors.tally(outcomes, classes)
    w = max([len(m) for m in t] + [6])
    print(f"{'module':<{w}} {'total':>6} {'killed':>6} {'t/out':>5} {'crash':>5} {'surv':>5} {'equiv':>5} "
          f"{'free':>5} {'open':>5} {'uncl':>5} {'score':>7}", file=out)
    for m, x in t.items():
        print(f"{m:<{w}} {x.total:>6} {x.killed:>6} {x.timeouts:>5} {x.crashes:>5} {x.survived:>5} "
              f"{x.equivalent:>5} {x.free_choice:>5} {x.open:>5} {x.unclassified:>5} {100 * x.score:>6.1f}%",
              file=out)
    opened = [o for o in outcomes if not o.killed and classes.get(o.point.key) is not None
              and classes[o.point.key].kind == "open"]
    if opened:
        print(f"\nopen survivors (known, recorded in survivors.toml, no case kills them yet): {len(opened)}", file=out)
        for o in opened:
            p = o.point
            print(f"  {_where(p)} {p.function} [{p.operator}] {p.original}  ->  {p.mutated}\n"
                  f"      {classes[p.key].reason}", file=out)
    un = survivors.unclassified(outcomes, classes)
    print(f"\nunclassified survivors: {len(un)}", file=out)
    for o in un:
        p = o.point
        print(f"  {_where(p)} {p.function} [{p.operator}] {p.original}  ->  {p.mutated}\n      {p.key}", file=out)
    st = survivors.stale(outcomes, classes)
    if st:
        print(f"\nclassified in survivors.toml but killed (stale entries): {len(st)}", file=out)
        for o in st:
            print(f"  {o.point.key} by {o.case or o.status}", file=out)
    return t


def cmd_run(a: argparse.Namespace) -> int:
    engine.freeze()  # one snapshot of the tree for the whole run, the catalogue included
    from ..cases import catalogue, select

    modules = select_modules(a.module)
    pts = sample(points_of(modules, a.operator), a.sample, a.seed)
    cases = select(catalogue(), a.cases)
    classes = survivors.load(Path(a.survivors))
    jobs = max(1, min(a.jobs, os.cpu_count() or 1))
    t0 = time.perf_counter()
    try:
        cover = {t: engine.coverage(t, cases, modules) for t in engine.targets_of(a.target)}
    except RuntimeError as e:
        print(e, file=sys.stderr)
        return 2
    base_seconds = sum(sum(c.seconds.values()) for c in cover.values())
    print(f"gossamer-mutation: {len(pts)} mutants of {', '.join(modules)}"
          f"{f' (sample, seed {a.seed})' if a.sample else ''} against {a.target}: {len(cases)} cases, "
          f"{jobs} jobs; traced reference run {base_seconds:.1f} s, measured in {time.perf_counter() - t0:.1f} s; "
          f"deadline {a.timeout:g} s + 3 x the traced time of a mutant's cases", flush=True)
    done = [0]

    def progress(o: engine.Outcome) -> None:
        done[0] += 1
        if a.quiet:
            return
        if sys.stderr.isatty():
            print(f"\r{done[0]}/{len(pts)}", end="", file=sys.stderr, flush=True)
        elif done[0] % 200 == 0:
            print(f"{done[0]}/{len(pts)} in {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)

    t0 = time.perf_counter()
    outcomes = engine.run_mutants(pts, a.target, cases, jobs=jobs, timeout=a.timeout, cover=cover, progress=progress)
    seconds = time.perf_counter() - t0
    if not a.quiet and sys.stderr.isatty():
        print(file=sys.stderr)
    tallies = report(outcomes, classes)
    print(f"\n{len(pts)} mutants in {seconds:.1f} s ({len(pts) / seconds if seconds else 0:.1f} mutants/s)")
    if a.template:
        un = survivors.unclassified(outcomes, classes)
        print("\n# entries for survivors.toml (classify each, or kill it with a case):\n")
        print("\n".join(survivors.toml_entry(o) for o in un))
    if a.json:
        Path(a.json).write_text(json.dumps({
            "target": a.target, "seed": a.seed, "sample": a.sample, "modules": modules, "seconds": seconds,
            "reference_seconds": base_seconds, "timeout": a.timeout, "jobs": jobs,
            "tally": {m: x.as_json() for m, x in tallies.items()},
            "outcomes": [o.as_json() for o in outcomes],
        }, indent=1) + "\n")
    return 1 if survivors.unclassified(outcomes, classes) else 0


def cmd_list(a: argparse.Namespace) -> int:
    pts = sample(points_of(select_modules(a.module), a.operator), a.sample, a.seed)
    for p in pts:
        print(f"{p.key}\t{_where(p)}\t{p.describe()}")
    counts: dict[str, int] = {}
    for p in pts:
        counts[p.module] = counts.get(p.module, 0) + 1
    print(f"# {len(pts)} points: " + ", ".join(f"{m} {n}" for m, n in counts.items()), file=sys.stderr)
    return 0


def mutant_diff(point: Point) -> str:
    src = engine.source_of(engine.module_path(point.module))
    mutated = ast.unparse(apply(src, point))
    return "".join(difflib.unified_diff(ast.unparse(ast.parse(src)).splitlines(True), mutated.splitlines(True),
                                        f"a/{point.module}", f"b/{point.key}", n=2))


def cmd_show(a: argparse.Namespace) -> int:
    status = 0
    by_module: dict[str, list[Point]] = {}
    for key in a.keys:
        module = key.split(":", 1)[0]
        if module not in by_module:
            by_module[module] = points_of([module])
        match = [p for p in by_module[module] if p.key == key]
        if not match:
            print(f"no mutant {key}", file=sys.stderr)
            status = 2
            continue
        p = match[0]
        print(f"{p.key}  {_where(p)}  {p.describe()}\n{mutant_diff(p)}")
    return status


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m conformance.mutation", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)

    def scope(p: argparse.ArgumentParser) -> None:
        p.add_argument("--module", action="append", default=[], help="module glob (default: the codec and trustee)")
        p.add_argument("--operator", action="append", default=[], choices=sorted(OPERATORS))
        p.add_argument("--sample", type=int, default=None, help="run N mutants chosen with --seed")
        p.add_argument("--seed", type=int, default=0)

    r = sub.add_parser("run", help="run the suite on every mutant and report the score")
    scope(r)
    r.add_argument("--target", default=DEFAULT_TARGET,
                   help="a target, or several joined by + (killed on any of them is killed); default %(default)s")
    r.add_argument("--jobs", type=int, default=2, help="children at once (at most the CPU count)")
    r.add_argument("--timeout", type=float, default=5.0,
                   help="seconds per mutant on top of 3 x the traced time of its cases (default 5)")
    r.add_argument("--cases", action="append", default=[], help="only these cases (id glob, clause, tag:NAME)")
    r.add_argument("--survivors", default=str(survivors.DEFAULT_FILE), help="the classification file")
    r.add_argument("--json", help="write every outcome and the tallies here")
    r.add_argument("--template", action="store_true", help="print survivors.toml entries for unclassified survivors")
    r.add_argument("-q", "--quiet", action="store_true")
    li = sub.add_parser("list", help="print the mutation points")
    scope(li)
    sh = sub.add_parser("show", help="print mutants as diffs")
    sh.add_argument("keys", nargs="+")
    sub.add_parser("operators", help="print the operators")
    a = ap.parse_args(argv)
    if a.cmd == "run":
        return cmd_run(a)
    if a.cmd == "list":
        return cmd_list(a)
    if a.cmd == "show":
        return cmd_show(a)
    for name, text in OPERATORS.items():
        print(f"{name:<13} {text}")
    return 0

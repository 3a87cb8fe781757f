"""`gossamer-conformance`: list the cases, run them against a target, write reports.

    gossamer-conformance list [FILTER ...]
    gossamer-conformance run [--target T] [--device D] [FILTER ...] [--junit F] [--json F] [--html F] [-q]
    gossamer-conformance clauses

A FILTER is a case id or glob (`req.*`), a clause id (`SLOT-4`, or `SLOT-*`), or `tag:NAME`.
Exit status: 0 when no case failed, 1 when one did, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TextIO

from .cases import catalogue, select
from .model import CaseResult, Verdict
from .runner import run, summary_rows
from .spec import clauses

MARK = {Verdict.PASS: ".", Verdict.FAIL: "F", Verdict.SKIP: "s", Verdict.ERROR: "E"}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gossamer-conformance", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    ls = sub.add_parser("list", help="list the cases (id, clauses, title)")
    ls.add_argument("filters", nargs="*")
    sub.add_parser("clauses", help="list SPEC.md clauses with the number of cases that check each")
    r = sub.add_parser("run", help="run cases against a target")
    r.add_argument("filters", nargs="*", help="case id/glob, clause id, or tag:NAME")
    r.add_argument("--target", "-t", default="reference",
                   help="reference (default), reference-sansio, c, adapter:'CMD ARGS', mutant:NAME, live:HOST:PORT, "
                        "live-client:[HOST:]PORT")
    r.add_argument("--device", help="live: the local verbs device (default: the first one)")
    r.add_argument("--gid-index", type=int, default=1, help="live: the local GID index (default 1, RoCE v2)")
    r.add_argument("--timeout", type=float, default=10.0,
                   help="live: seconds to wait for each response, on top of the trustee's fallback timeout "
                        "(default 10; raise it for slow peers such as Soft-RoCE under software emulation)")
    r.add_argument("--junit", metavar="FILE")
    r.add_argument("--json", metavar="FILE")
    r.add_argument("--html", metavar="FILE")
    r.add_argument("-q", "--quiet", action="store_true", help="no progress, no table: failures and totals only")
    r.add_argument("-v", "--verbose", action="store_true", help="one line per case")
    r.add_argument("--all-clauses", action="store_true", help="summary table lists every clause, not only SPEC order")
    return p


def _progress(stream: TextIO, verbose: bool) -> object:
    tty = stream.isatty()
    counts = dict.fromkeys(Verdict, 0)

    def show(i: int, n: int, r: CaseResult) -> None:
        counts[r.verdict] += 1
        if verbose:
            stream.write(f"[{i:>3}/{n}] {r.verdict.value.upper():5} {r.case.id}"
                         f"{'  ' + r.message if r.verdict is not Verdict.PASS else ''}\n")
        elif tty:
            stream.write(f"\r[{i}/{n}] {counts[Verdict.PASS]} passed, {counts[Verdict.FAIL]} failed, "
                         f"{counts[Verdict.ERROR]} errors, {counts[Verdict.SKIP]} skipped  {r.case.id[:40]:<40}")
            if i == n:
                stream.write("\n")
        else:
            stream.write(MARK[r.verdict])
            if i % 80 == 0 or i == n:
                stream.write(f" {i}/{n}\n")
        stream.flush()

    return show


def cmd_run(a: argparse.Namespace, out: TextIO) -> int:
    from .targets import open_target

    cases = select(catalogue(), a.filters)
    if not cases:
        print(f"no case matches {a.filters}", file=sys.stderr)
        return 2
    try:
        target = open_target(a.target, device=a.device, gid_index=a.gid_index, timeout=a.timeout)
    except Exception as e:
        print(f"cannot open target {a.target!r}: {e}", file=sys.stderr)
        return 2
    try:
        print(f"gossamer-conformance: {len(cases)} cases against {target.name}", file=out)
        result = run(target, cases, None if a.quiet else _progress(out, a.verbose))  # type: ignore[arg-type]
    finally:
        target.close()
    bad = [r for r in result.results if r.verdict in (Verdict.FAIL, Verdict.ERROR)]
    if not a.quiet:
        spec = clauses()
        rows = [row for row in summary_rows(result, spec) if row[1]]
        print(f"\n{'clause':<10} {'cases':>5} {'pass':>5} {'fail':>5} {'skip':>5}", file=out)
        for cl, n, p_, f, s in rows:
            flag = "  <-- FAIL" if f else ""
            print(f"{cl:<10} {n:>5} {p_:>5} {f:>5} {s:>5}{flag}", file=out)
        missing = [cl for cl in spec if not any(cl in c.clauses for c in catalogue())]
        print(f"{len(rows)} clauses checked of {len(spec)} in SPEC.md"
              + (f"; without a case: {', '.join(missing)}" if missing else ""), file=out)
    for r in bad:
        print(f"{r.verdict.value.upper()} {r.case.id} [{', '.join(r.case.clauses)}]: {r.message}", file=out)
    print(f"{'PASSED' if result.passed else 'FAILED'}: {result.count(Verdict.PASS)} passed, "
          f"{result.count(Verdict.FAIL)} failed, {result.count(Verdict.ERROR)} errors, "
          f"{result.count(Verdict.SKIP)} skipped in {result.seconds:.2f} s (target {result.target})", file=out)
    from .report import write_html, write_json, write_junit

    if a.junit:
        write_junit(result, a.junit)
    if a.json:
        write_json(result, a.json)
    if a.html:
        write_html(result, a.html)
    return 0 if result.passed else 1


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    out = out if out is not None else sys.stdout
    a = _parser().parse_args(argv)
    if a.cmd == "list":
        for c in select(catalogue(), a.filters):
            print(f"{c.id:<40} {','.join(c.clauses):<28} {c.title}", file=out)
        return 0
    if a.cmd == "clauses":
        cat = catalogue()
        for cl, text in clauses().items():
            n = sum(cl in c.clauses for c in cat)
            print(f"{cl:<10} {n:>3}  {text[:90]}", file=out)
        return 0
    return cmd_run(a, out)


if __name__ == "__main__":
    sys.exit(main())

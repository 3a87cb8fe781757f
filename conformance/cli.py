"""`gossamer-conformance`: list the cases, run them against a target, write reports.

    gossamer-conformance list [FILTER ...]
    gossamer-conformance run [--target T] [--device D] [FILTER ...] [--timeout S] [--expect FILE]
                             [--junit F] [--json F] [--html F] [-q|-v]
    gossamer-conformance clauses

(`python -m conformance ...` is the same command, for an interpreter without the console script.)
A FILTER is a case id or glob (`req.*`), a clause id (`SLOT-4`, or `SLOT-*`), or `tag:NAME`.
Exit status: 0 when no case failed (with `--expect`: when only listed cases failed and none of them
passed), 1 otherwise, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Sequence
from typing import TextIO

from . import schemas
from .cases import catalogue, select
from .expect import Expectations, ExpectationsError
from .model import Case, CaseResult, Verdict
from .report.diff import diff_lines
from .report.fields import field_lines
from .runner import run, summary_rows
from .spec import clauses

MARK = {Verdict.PASS: ".", Verdict.FAIL: "F", Verdict.SKIP: "s", Verdict.ERROR: "E"}
#: A live case bootstraps a session and waits for several responses, each up to --timeout.
LIVE_CASE_FACTOR = 10
#: Without -v, a failure shows this many lines of its difference and of the adapter's stderr.
BRIEF_LINES = 8


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gossamer-conformance", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    ls = sub.add_parser("list", help="list the cases (id, clauses, title)")
    ls.add_argument("filters", nargs="*")
    sub.add_parser("clauses", help="list SPEC.md clauses with the number of cases that check each")
    r = sub.add_parser("run", help="run cases against a target")
    r.add_argument("filters", nargs="*", help="case id/glob, clause id, or tag:NAME")
    r.add_argument("--target", "-t", default="reference",
                   help="reference (default), reference-sansio, reference-live, c, adapter:'CMD ARGS', mutant:NAME, "
                        "live:HOST:PORT, "
                        "live-client:[HOST:]PORT")
    r.add_argument("--device", help="live: the local verbs device (default: the first one)")
    r.add_argument("--gid-index", type=int, default=1, help="live: the local GID index (default 1, RoCE v2)")
    r.add_argument("--timeout", type=float, default=10.0, metavar="S",
                   help="the deadline of one case in seconds (default 10): a case that overruns it is an ERROR "
                        "and the run goes on (an adapter is killed and restarted). Live targets: the wait for "
                        f"each response, on top of the trustee's fallback timeout, and a case may take "
                        f"{LIVE_CASE_FACTOR} times it; raise it for slow peers such as Soft-RoCE under emulation")
    r.add_argument("--expect", metavar="FILE",
                   help="known failures, one `case-id: reason` a line: the run exits 0 while only those fail, and "
                        "reports (and exits 1 on) an UNEXPECTED PASS of a listed case")
    r.add_argument("--junit", metavar="FILE")
    r.add_argument("--json", metavar="FILE")
    r.add_argument("--html", metavar="FILE")
    r.add_argument("--pcap", metavar="FILE",
                   help="write the run's traffic to FILE as a pcap (open it with protocol/wireshark/gossamer.lua): "
                        "emulated targets, the RDMA traffic of the whole run as RoCE v2 packets; live targets, "
                        "everything on the network interface of --device (AF_PACKET, root)")
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
            if r.verdict in (Verdict.FAIL, Verdict.ERROR):
                stream.writelines(f"        {line}\n" for line in _failure_detail(r, brief=False))
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


def _failure_detail(r: CaseResult, brief: bool) -> list[str]:
    """The lines shown under a failing case: the whole difference, the adapter's stderr."""
    lines: list[str] = []
    if r.received is not None:
        diff = diff_lines(r.case.expect, r.received)
        if diff:
            note = " (judged by the case's check; fields it leaves free may differ)" if r.case.check else ""
            lines.append(f"difference from the expected answer{note}:")
            if brief and len(diff) > BRIEF_LINES:
                diff = [*diff[:BRIEF_LINES], f"... {len(diff) - BRIEF_LINES} more lines (-v, --json or --html: all)"]
            lines += [f"  {d}" for d in diff]
        fields = field_lines(r)
        if fields:
            lines.append("differing fields (decoded by SPEC.md's layouts):")
            lines += [f"  {f}" for f in fields]
    if r.stderr:
        err = r.stderr.rstrip("\n").splitlines()
        lines.append("adapter stderr:")
        if brief and len(err) > BRIEF_LINES:
            lines.append(f"  ... {len(err) - BRIEF_LINES} lines before (-v: all)")
            err = err[-BRIEF_LINES:]
        lines += [f"  | {e}" for e in err]
    return lines


def _deadline(spec: str, timeout: float) -> float:
    """A case's deadline (a target's own `case_deadline` attribute wins, in the runner)."""
    return LIVE_CASE_FACTOR * timeout if spec.startswith("live") else timeout


def cmd_run(a: argparse.Namespace, out: TextIO) -> int:
    cases = select(catalogue(), a.filters)
    if not cases:
        print(f"no case matches {a.filters}", file=sys.stderr)
        return 2
    expectations = None
    if a.expect:
        try:
            expectations = Expectations.load(a.expect)
        except (OSError, ExpectationsError) as e:
            print(f"cannot read --expect {a.expect}: {e}", file=sys.stderr)
            return 2
    if a.timeout <= 0:
        print("--timeout must be positive", file=sys.stderr)
        return 2
    with contextlib.ExitStack() as stack:
        if a.pcap:
            from nic_emu import capture

            if a.target.startswith("live"):  # the device's network interface, as on the wire
                try:
                    stack.enter_context(capture.sniff(capture.netdev_of(a.device, a.gid_index), a.pcap))
                except OSError as e:
                    print(f"--pcap: cannot capture the interface of {a.device or 'the first device'}: {e}",
                          file=sys.stderr)
                    return 2
            else:  # every emulated fabric of the run
                stack.enter_context(capture.record(a.pcap))
        return _run_cases(a, out, cases, expectations)


def _run_cases(a: argparse.Namespace, out: TextIO, cases: list[Case], expectations: Expectations | None) -> int:
    from .targets import open_target

    try:
        target = open_target(a.target, device=a.device, gid_index=a.gid_index, timeout=a.timeout)
    except Exception as e:
        print(f"cannot open target {a.target!r}: {e}", file=sys.stderr)
        # a live peer caught breaking the protocol while opening fails the run (1); one the
        # suite cannot reach or drive is a usage error (2)
        return int(getattr(e, "exit_status", 2))
    try:
        print(f"gossamer-conformance: {len(cases)} cases against {target.name}", file=out)
        if not schemas.available():
            print("warning: pycddl is not installed, answers are not checked against protocol/schemas/ "
                  "([ADPT-18]); pip install pycddl", file=out)
        result = run(target, cases, None if a.quiet else _progress(out, a.verbose),  # type: ignore[arg-type]
                     deadline=_deadline(a.target, a.timeout))
    finally:
        target.close()
    judged = expectations.judge(result.results, (c.id for c in catalogue())) if expectations else None
    known = {r.case.id for r in judged.expected_failures} if judged else set()
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
        if r.case.id in known:
            if not a.quiet:
                assert expectations is not None
                print(f"KNOWN {r.verdict.value.upper()} {r.case.id}: {r.message} "
                      f"(listed: {expectations.reason(r.case.id)})", file=out)
            continue
        print(f"{r.verdict.value.upper()} {r.case.id} [{', '.join(r.case.clauses)}]: {r.message}", file=out)
        if not a.quiet and not a.verbose:  # -v showed it all under the case already
            for line in _failure_detail(r, brief=True):
                print(f"    {line}", file=out)
    if judged is not None:
        assert expectations is not None
        for r in judged.unexpected_passes:
            print(f"UNEXPECTED PASS {r.case.id}: listed in {expectations.source} as known to fail "
                  f"({expectations.reason(r.case.id)}); remove the entry", file=out)
        for cid in judged.unknown_ids:
            print(f"warning: {expectations.source} lists {cid}, which is no case of the catalogue", file=out)
    ok = judged.ok if judged is not None else result.passed
    extra = ""
    if judged is not None:
        extra = (f"; expectations {expectations.source if expectations else ''}: "
                 f"{len(judged.expected_failures)} known failures, {len(judged.unexpected_passes)} unexpected passes")
    print(f"{'PASSED' if ok else 'FAILED'}: {result.count(Verdict.PASS)} passed, "
          f"{result.count(Verdict.FAIL)} failed, {result.count(Verdict.ERROR)} errors, "
          f"{result.count(Verdict.SKIP)} skipped in {result.seconds:.2f} s (target {result.target}){extra}", file=out)
    from .report import write_html, write_json, write_junit

    if a.junit:
        write_junit(result, a.junit, expectations)
    if a.json:
        write_json(result, a.json, expectations)
    if a.html:
        write_html(result, a.html, expectations)
    return 0 if ok else 1


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

"""A self-contained HTML page: inline CSS, no script, no network.

Clauses in SPEC.md order, each with its cases; a failure shows the bytes sent, expected and received
as hex dumps, differing bytes highlighted.
"""

from __future__ import annotations

import html
from pathlib import Path

from ..expect import Expectations
from ..model import CaseResult, Verdict
from ..runner import Run
from ..spec import clauses
from .diff import diff_lines
from .fields import field_lines

CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1b1f24;background:#fff}
h1{font-size:22px;margin:0 0 4px}.sub{color:#57606a;margin-bottom:16px}
.totals span{display:inline-block;padding:4px 10px;border-radius:12px;margin-right:6px;font-weight:600}
.pass{background:#dafbe1;color:#116329}.fail{background:#ffebe9;color:#a40e26}
.skip{background:#eaeef2;color:#57606a}.error{background:#fff1c2;color:#7d4e00}
.clause{border:1px solid #d0d7de;border-radius:6px;margin:10px 0;padding:8px 12px}
.clause.bad{border-color:#cf222e;border-width:2px}
.clause h2{font-size:15px;margin:0}.clause .text{color:#57606a;font-size:12.5px;margin:2px 0 6px}
table.cases{border-collapse:collapse;width:100%}table.cases td{padding:2px 6px;vertical-align:top}
.v{font-weight:700;font-size:12px;border-radius:4px;padding:1px 6px}
.detail{margin:6px 0 10px 18px;padding:8px;background:#f6f8fa;border-radius:6px}
.msg{color:#a40e26;font-weight:600;margin-bottom:6px;overflow-wrap:anywhere}
pre.hex{font:12px/1.35 ui-monospace,Menlo,Consolas,monospace;margin:2px 0 8px;
white-space:pre-wrap;overflow-wrap:anywhere}
pre.hex b{background:#ffc1c0;color:#82071e}pre.hex i{background:#c8f0d0;font-style:normal}
.label{font-size:12px;font-weight:600;color:#57606a}
.known{background:#eaeef2;color:#57606a}.xpass{background:#ffebe9;color:#a40e26}
pre.diff{font:12px/1.35 ui-monospace,Menlo,Consolas,monospace;margin:2px 0 8px;white-space:pre-wrap;
overflow-wrap:anywhere;background:#fff8c5;padding:4px}
code{font-size:12.5px}
"""


def hexdump(data: bytes, other: bytes | None, mark: str, context: int = 2) -> str:
    """16 bytes per line; bytes that differ from `other` (or lie beyond it) wrapped in <mark>.

    Long dumps show only the lines near a difference (and the first and last line), so the bug is
    on screen without scrolling through a whole slot.
    """
    rows = []
    for off in range(0, len(data), 16):
        cells, differs = [], False
        for i in range(off, min(off + 16, len(data))):
            cell = f"{data[i]:02x}"
            if other is not None and (i >= len(other) or other[i] != data[i]):
                cell, differs = f"<{mark}>{cell}</{mark}>", True
            cells.append(cell)
        rows.append((differs, f"{off:06x}  " + " ".join(cells)))
    if not rows:
        return "(empty)"
    if len(rows) <= 16:
        return "\n".join(r for _, r in rows)
    keep = {0, len(rows) - 1}
    for i, (d, _) in enumerate(rows):
        if d:
            keep.update(range(max(0, i - context), min(len(rows), i + context + 1)))
    out, last = [], -1
    for i in sorted(keep):
        if i != last + 1:
            out.append(f"        ... {16 * (i - last - 1)} bytes equal ...")
        out.append(rows[i][1])
        last = i
    return "\n".join(out)


def _outcome(o: object) -> str:
    return html.escape(repr(o))  # whole: a failure is never cut short


def _detail(r: CaseResult, known: str | None = None) -> str:
    c = r.case
    parts = [f'<div class="detail"><div class="msg">{html.escape(r.message)}</div>']
    if known is not None:
        parts.append(f'<div class="label">known failure (--expect): {html.escape(known)}</div>')
    if r.received is not None:
        lines = diff_lines(c.expect, r.received)
        if lines:
            note = " (the case's own check judged it; fields it leaves free may differ)" if c.check else ""
            parts.append(f'<div class="label">difference from the expected answer{note}</div>'
                         f'<pre class="diff">{html.escape(chr(10).join(lines))}</pre>')
        fields = field_lines(r)
        if fields:
            parts.append('<div class="label">differing fields (decoded by SPEC.md\'s layouts)</div>'
                         f'<pre class="diff">{html.escape(chr(10).join(fields))}</pre>')
    parts.append(f'<div class="label">op <code>{html.escape(c.op)}</code>, request</div>'
                 f'<pre class="hex">{_outcome(r.request)}</pre>')
    if c.sent is not None:
        parts.append(f'<div class="label">bytes sent ({len(c.sent)})</div>'
                     f'<pre class="hex">{hexdump(c.sent, None, "b")}</pre>')
    exp, got = r.expected_bytes, r.received_bytes
    if exp is not None:
        parts.append(f'<div class="label">bytes expected ({len(exp)})</div>'
                     f'<pre class="hex">{hexdump(exp, got, "i")}</pre>')
    if got is not None:
        parts.append(f'<div class="label">bytes received ({len(got)})</div>'
                     f'<pre class="hex">{hexdump(got, exp, "b")}</pre>')
    parts.append(f'<div class="label">expected answer</div><pre class="hex">{_outcome(c.expect)}</pre>')
    parts.append(f'<div class="label">received answer</div><pre class="hex">{_outcome(r.received)}</pre>')
    if r.stderr:
        parts.append(f'<div class="label">adapter stderr</div><pre class="hex">{html.escape(r.stderr)}</pre>')
    parts.append("</div>")
    return "".join(parts)


def _mark(bad: bool, rs: list[CaseResult]) -> str:
    if bad:
        return "&#10007;"
    return "&#10003;" if rs and all(r.verdict is Verdict.PASS for r in rs) else "&#8211;"


def to_html(run: Run, expectations: Expectations | None = None) -> str:
    spec = clauses()
    by = run.by_clause(spec)
    bad_clauses = [cl for cl, rs in by.items() if any(r.verdict in (Verdict.FAIL, Verdict.ERROR) for r in rs)]
    out = [f"<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title>Gossamer conformance: "
           f"{html.escape(run.target)}</title><style>{CSS}</style></head><body>"]
    out.append(f"<h1>Gossamer conformance report</h1><div class=sub>target <b>{html.escape(run.target)}</b>, "
               f"{len(run.results)} cases, {len(by)} clauses, {run.seconds:.2f} s</div><div class=totals>")
    for v in Verdict:
        out.append(f'<span class="{v.value}">{run.count(v)} {v.value}</span>')
    out.append("</div>")
    if expectations is not None:
        j = expectations.judge(run.results)
        out.append(f"<p>Expectations <code>{html.escape(expectations.source)}</code>: "
                   f"{len(j.expected_failures)} known failures, {len(j.unexpected_failures)} unexpected failures, "
                   f'<span class="v xpass">{len(j.unexpected_passes)} unexpected passes</span>'
                   + "".join(f" <code>{html.escape(r.case.id)}</code>" for r in j.unexpected_passes) + "</p>")
    if bad_clauses:
        out.append("<p><b>Clauses violated:</b> " + ", ".join(
            f'<a href="#{cl}">{cl}</a>' for cl in bad_clauses) + "</p>")
    order = bad_clauses + [cl for cl in by if cl not in bad_clauses]
    for cl in order:
        rs = by[cl]
        bad = cl in bad_clauses
        out.append(f'<div class="clause{" bad" if bad else ""}" id="{cl}"><h2>[{cl}] '
                   f'{_mark(bad, rs)}'
                   f'</h2><div class=text>{html.escape(spec.get(cl, "(not in SPEC.md)")[:400])}</div>')
        if not rs:
            out.append('<div class="text"><i>no case checks this clause</i></div>')
        out.append('<table class="cases">')
        for r in rs:
            known = expectations.reason(r.case.id) if expectations is not None else None
            tag = ""
            if known is not None and r.verdict in (Verdict.FAIL, Verdict.ERROR):
                tag = ' <span class="v known">KNOWN</span>'
            elif known is not None and r.verdict is Verdict.PASS:
                tag = ' <span class="v xpass">UNEXPECTED PASS</span>'
            out.append(f'<tr><td><span class="v {r.verdict.value}">{r.verdict.value.upper()}</span>{tag}</td>'
                       f"<td><code>{html.escape(r.case.id)}</code></td><td>{html.escape(r.case.title)}</td></tr>")
            if r.verdict in (Verdict.FAIL, Verdict.ERROR):
                out.append(f"<tr><td></td><td colspan=2>{_detail(r, known)}</td></tr>")
            elif r.verdict is Verdict.SKIP:
                out.append(f'<tr><td></td><td colspan=2 class=text>{html.escape(r.message)}</td></tr>')
        out.append("</table></div>")
    out.append("</body></html>\n")
    return "".join(out)


def write_html(run: Run, path: str | Path, expectations: Expectations | None = None) -> None:
    Path(path).write_text(to_html(run, expectations), encoding="utf-8")

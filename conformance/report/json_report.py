"""JSON report: every case with its verdict, the request sent, the expected and the received answer
(passing cases too), and every clause with its cases. A failing case adds `diff`, the whole
difference (`report.diff`), and any case an adapter wrote to standard error during adds `stderr`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .. import schemas
from ..expect import Expectations
from ..model import CaseResult, Verdict
from ..runner import Run
from ..spec import clauses
from .diff import diff_lines
from .fields import field_lines


def _plain(v: Any) -> Any:
    if isinstance(v, (bytes, bytearray, memoryview)):
        return {"hex": bytes(v).hex()}
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    return repr(v)


def case_json(r: CaseResult, expectations: Expectations | None = None) -> dict[str, Any]:
    c = r.case
    out: dict[str, Any] = {
        "id": c.id, "title": c.title, "clauses": list(c.clauses), "tags": sorted(c.tags), "op": c.op,
        "verdict": r.verdict.value, "message": r.message, "seconds": round(r.seconds, 6),
        "request": _plain(r.request), "expected": _plain(c.expect), "received": _plain(r.received),
        "sent": c.sent.hex() if c.sent is not None else None,
    }
    if r.verdict in (Verdict.FAIL, Verdict.ERROR) and r.received is not None:
        out["diff"] = diff_lines(c.expect, r.received)
        out["fields"] = field_lines(r)  # the differing fields by name (report.fields)
        if c.check is not None:
            out["diff_note"] = "the case's own check judged this answer; fields it leaves free may differ"
    if r.received is not None:
        out["schema"] = schemas.answer_rule(c.op, r.received)  # the CDDL rule the answer was checked against
    if r.stderr:
        out["stderr"] = r.stderr
    if expectations is not None and (reason := expectations.reason(c.id)) is not None:
        out["known_failure"] = reason
    return out


def to_json(run: Run, expectations: Expectations | None = None) -> dict[str, Any]:
    spec = clauses()
    out: dict[str, Any] = {
        "suite": "gossamer-conformance",
        "target": run.target,
        "seconds": round(run.seconds, 3),
        "totals": {v.value: run.count(v) for v in Verdict} | {"cases": len(run.results)},
        "passed": run.passed,
        "clauses": {cl: {"text": spec.get(cl, ""), "cases": [r.case.id for r in rs],
                         "verdicts": [r.verdict.value for r in rs]}
                    for cl, rs in run.by_clause(spec).items()},
        "cases": [case_json(r, expectations) for r in run.results],
    }
    if expectations is not None:
        j = expectations.judge(run.results)
        out["expectations"] = {
            "file": expectations.source,
            "ok": j.ok,
            "expected_failures": [r.case.id for r in j.expected_failures],
            "unexpected_passes": [r.case.id for r in j.unexpected_passes],
            "unexpected_failures": [r.case.id for r in j.unexpected_failures],
        }
    return out


def write_json(run: Run, path: str | Path, expectations: Expectations | None = None) -> None:
    Path(path).write_text(json.dumps(to_json(run, expectations), indent=1) + "\n", encoding="utf-8")

"""JSON report: every case with its verdict, and every clause with its cases."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..model import CaseResult, Verdict
from ..runner import Run
from ..spec import clauses


def _plain(v: Any) -> Any:
    if isinstance(v, bytes):
        return {"hex": v.hex()}
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    return repr(v)


def case_json(r: CaseResult) -> dict[str, Any]:
    c = r.case
    out: dict[str, Any] = {
        "id": c.id, "title": c.title, "clauses": list(c.clauses), "tags": sorted(c.tags), "op": c.op,
        "verdict": r.verdict.value, "message": r.message, "seconds": round(r.seconds, 6),
    }
    if r.verdict in (Verdict.FAIL, Verdict.ERROR):
        out["sent"] = c.sent.hex() if c.sent is not None else None
        out["expected"] = _plain(c.expect)
        out["received"] = _plain(r.received)
    return out


def to_json(run: Run) -> dict[str, Any]:
    spec = clauses()
    return {
        "suite": "gossamer-conformance",
        "target": run.target,
        "seconds": round(run.seconds, 3),
        "totals": {v.value: run.count(v) for v in Verdict} | {"cases": len(run.results)},
        "passed": run.passed,
        "clauses": {cl: {"text": spec.get(cl, ""), "cases": [r.case.id for r in rs],
                         "verdicts": [r.verdict.value for r in rs]}
                    for cl, rs in run.by_clause(spec).items()},
        "cases": [case_json(r) for r in run.results],
    }


def write_json(run: Run, path: str | Path) -> None:
    Path(path).write_text(json.dumps(to_json(run), indent=1) + "\n", encoding="utf-8")

"""The adapter protocol itself (SPEC.md section 11: [ADPT-1] .. [ADPT-4])."""

from __future__ import annotations

import attrs

from ..model import Case, Outcome, err, ok
from ._wire import case


def hello_check(c: Case, got: Outcome) -> str | None:
    v = got.get("ok")
    if not isinstance(v, dict):
        return f"hello answered {got!r}"
    if not isinstance(v.get("name"), str):
        return "hello lacks a text name"
    if v.get("versions") is None or (list(v["versions"]) != [1, 1] and not (v["versions"][0] <= 1 <= v["versions"][1])):
        return f"hello versions {v.get('versions')!r} do not include version 1"
    ops = v.get("ops")
    if not isinstance(ops, list) or not all(isinstance(o, str) for o in ops):
        return "hello ops is not an array of op names"
    return None


def cases() -> list[Case]:
    return [
        case("adpt.hello", "hello names the adapter, its versions and its ops",
             ["ADPT-1", "ADPT-2", "ADPT-4", "ADPT-18"],  # ADPT-18: its answer is checked against hello-answer
             "hello", {}, ok({"name": "...", "versions": [1, 1], "ops": ["..."]}), tags=("codec", "adapter"),
             check=hello_check),
        attrs.evolve(case("adpt.unsupported-op", "an op the adapter does not know answers UNSUPPORTED",
                          ["ADPT-3"], "no_such_op", {}, err("UNSUPPORTED"), tags=("codec", "adapter")),
                     requires="hello"),
    ]

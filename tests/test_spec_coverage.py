"""Every clause of protocol/SPEC.md is checked by at least one test or golden vector.

A clause counts as checked when a test is marked `@pytest.mark.clause("ID", ...)` or a vector case
that tests/codec/test_vectors.py runs lists it. A clause nobody checks fails this test by name.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from gossamer.vectors import load

ROOT = Path(__file__).resolve().parents[1]
CLAUSE = re.compile(r"^- \[([A-Z]+-[0-9]+)\]", re.M)


def spec_clauses() -> set[str]:
    return set(CLAUSE.findall((ROOT / "protocol" / "SPEC.md").read_text()))


def marked_clauses() -> dict[str, set[str]]:
    """clause id -> test files whose `pytest.mark.clause(...)` names it (found statically, with ast)."""
    found: dict[str, set[str]] = {}
    for path in (ROOT / "tests").rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "clause"
                    and isinstance(node.func.value, ast.Attribute) and node.func.value.attr == "mark"):
                for arg in node.args:
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                        found.setdefault(arg.value, set()).add(path.name)
    return found


def vector_clauses() -> set[str]:
    return {c for f in load().values() for case in f["cases"] for c in case["clauses"]}


def test_every_clause_is_checked() -> None:
    spec = spec_clauses()
    checked = set(marked_clauses()) | vector_clauses()
    missing = sorted(spec - checked)
    assert not missing, f"SPEC.md clauses with no test or vector: {', '.join(missing)}"


def test_no_test_names_a_clause_that_does_not_exist() -> None:
    unknown = {c: files for c, files in marked_clauses().items() if c not in spec_clauses()}
    assert not unknown, f"tests name clauses that SPEC.md lacks: {unknown}"
    assert vector_clauses() <= spec_clauses()

"""The import graph of a package, read with ``ast`` (nothing is imported or executed).

Used by tests that hold a package to a layered design: ``tests/nic_emu/test_imports.py`` for
``nic_emu/``, and reusable for ``gossamer/runtime/`` or any other package root.

Every ``import`` / ``from ... import`` statement counts, wherever it sits: at module level, under
``if TYPE_CHECKING:``, inside a function or a class.  An edge goes from the importing module to
the imported module of the same package: ``from a.b import c`` points at ``a.b.c`` when that is
a module of the package, else at ``a.b``; relative imports are resolved.  Imports of modules
outside the package are ignored.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

import attrs


@attrs.frozen
class Import:
    """One import statement of a package module that names another module of the package."""

    module: str  #: the importing module
    target: str  #: the imported module
    line: int
    in_function: bool  #: the statement sits inside a function or method body
    type_only: bool  #: under ``if TYPE_CHECKING:`` (never executed)


def module_names(root: Path, package: str) -> dict[str, Path]:
    """Every module of the package rooted at ``root`` (the folder holding its ``__init__.py``),
    by dotted name (``package.sub.mod``; a package's ``__init__`` by the package's name)."""
    out: dict[str, Path] = {}
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).with_suffix("")
        parts = [package, *rel.parts]
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    # level 1 is the module's own package: the module itself for an __init__, else its parent.
    drop = node.level - 1 if is_package else node.level
    base = base[: len(base) - drop] if drop else base
    return ".".join([*base, node.module] if node.module else base)


def imports(root: Path, package: str) -> list[Import]:
    """All imports between modules of the package."""
    modules = module_names(root, package)
    found: list[Import] = []

    def targets(module: str, is_package: bool, node: ast.Import | ast.ImportFrom) -> Iterable[str]:
        if isinstance(node, ast.Import):
            for alias in node.names:
                name = alias.name
                while name and name not in modules:
                    name = name.rpartition(".")[0]
                if name:
                    yield name
            return
        base = _resolve(module, is_package, node)
        for alias in node.names:
            sub = f"{base}.{alias.name}"
            if sub in modules:
                yield sub
            elif base in modules:
                yield base

    for module, path in modules.items():
        is_package = path.name == "__init__.py"
        tree = ast.parse(path.read_text(), str(path))

        def visit(node: ast.AST, in_function: bool, type_only: bool) -> None:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for target in targets(module, is_package, node):  # noqa: B023
                    if target != module:  # noqa: B023
                        found.append(Import(module, target, node.lineno, in_function, type_only))  # noqa: B023
                return
            for child in ast.iter_child_nodes(node):
                visit(
                    child,
                    in_function or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                     ast.Lambda)),
                    type_only or (isinstance(node, ast.If) and _is_type_checking(node.test)
                                  and child in node.body),
                )

        visit(tree, False, False)
    return found


def cycles(edges: Iterable[Import]) -> list[list[str]]:
    """The import cycles: one list of modules per strongly connected component with more than
    one module (Tarjan), each sorted; empty when the graph is a DAG."""
    graph: dict[str, set[str]] = {}
    for e in edges:
        graph.setdefault(e.module, set()).add(e.target)
        graph.setdefault(e.target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return sorted(out)


def describe(edges: Iterable[Import], cycle: list[str]) -> str:
    """The edges inside one cycle, for an assertion message."""
    members = set(cycle)
    return "; ".join(
        f"{e.module}:{e.line} -> {e.target}" for e in edges
        if e.module in members and e.target in members
    )

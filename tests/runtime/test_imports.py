"""The runtime's layering, read from its source with ``ast`` (the shared tests/import_graph.py).

Ownership runs one way (Rack -> KThread -> ClientSide / TrusteeSide), so the imports can too: the
graph of `gossamer.runtime` is a DAG counting imports inside functions; no runtime module names
an emulator module, tests a module's name or reads the fabric's private state; the one way from
the runtime to nic_emu is the composition root `gossamer.networks`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.import_graph import cycles, describe, imports, module_names

GOSSAMER = Path(__file__).resolve().parents[2] / "gossamer"
EDGES = imports(GOSSAMER, "gossamer")
RUNTIME = sorted(m for m in module_names(GOSSAMER, "gossamer") if m.startswith("gossamer.runtime"))


def _external_imports(module: str) -> list[str]:
    """Every module name an import statement of `module` names (inside functions too)."""
    path = module_names(GOSSAMER, "gossamer")[module]
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.append(node.module)
    return out


def test_the_runtime_import_graph_is_a_dag() -> None:
    """Counting every import that runs (module level and inside functions); imports under
    ``if TYPE_CHECKING:`` never run."""
    run = [e for e in EDGES if not e.type_only and e.module.startswith("gossamer.runtime")
           and e.target.startswith("gossamer.runtime")]
    found = cycles(run)
    assert not found, [describe(run, c) for c in found]


def test_the_runtime_has_no_imports_inside_functions() -> None:
    inside = [f"{e.module}:{e.line} imports {e.target}" for e in EDGES
              if e.in_function and e.module.startswith("gossamer.runtime")]
    assert not inside, inside


@pytest.mark.parametrize("module", RUNTIME)
def test_no_runtime_module_names_the_emulator(module: str) -> None:
    named = [m for m in _external_imports(module) if m == "nic_emu" or m.startswith("nic_emu.")]
    assert not named, named
    source = module_names(GOSSAMER, "gossamer")[module].read_text()
    assert "nic_emu" not in source, "emulator named in the source"
    assert "__name__.startswith" not in source, "a module-name check"
    tree = ast.parse(source)
    probes = [ast.unparse(n) for n in ast.walk(tree)  # the emulator's private state
              if isinstance(n, ast.Attribute) and n.attr in ("_pending", "_machine")]
    assert not probes, probes


def test_the_only_way_from_the_runtime_to_the_emulator_is_the_composition_root() -> None:
    """Modules of gossamer reachable from the runtime, other than `gossamer.networks`, import
    nothing from nic_emu."""
    reach: set[str] = set(RUNTIME)
    todo = list(RUNTIME)
    while todo:
        m = todo.pop()
        for e in EDGES:
            if e.module == m and not e.type_only and e.target not in reach:
                reach.add(e.target)
                todo.append(e.target)
    assert "gossamer.networks" in reach
    emu = sorted(m for m in reach if any(x.startswith("nic_emu") for x in _external_imports(m)))
    assert emu == ["gossamer.networks"]

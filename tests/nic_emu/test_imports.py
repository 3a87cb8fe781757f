"""The emulator's layering, read from its source with ``ast`` (tests/import_graph.py).

Layers, bottom up: ``constants`` and ``errors``; the NIC (``transport/``, ``qp_states``,
``fabric``); the pyverbs facade (``pyverbs/``) and the tools on top (``provider``, ``connect``,
``rdma_core_tests``, ``softroce/``).  Imports point down only.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.import_graph import Import, cycles, describe, imports, module_names

ROOT = Path(__file__).resolve().parents[2] / "nic_emu"
EDGES = imports(ROOT, "nic_emu")
#: The modules of the NIC itself: they never see the pyverbs facade.
NIC_LAYER = ("nic_emu.constants", "nic_emu.errors", "nic_emu.fabric", "nic_emu.qp_states",
             "nic_emu.transport")


def _in_nic_layer(module: str) -> bool:
    return any(module == m or module.startswith(m + ".") for m in NIC_LAYER)


def test_the_helper_finds_cycles_and_imports_inside_functions(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from pkg import b\n")
    (pkg / "b.py").write_text("def f():\n    from pkg.sub import c\n")
    (pkg / "sub" / "c.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .. import a\n")
    edges = imports(pkg, "pkg")
    assert set(module_names(pkg, "pkg")) == {"pkg", "pkg.a", "pkg.b", "pkg.sub", "pkg.sub.c"}
    assert {(e.module, e.target, e.in_function, e.type_only) for e in edges} == {
        ("pkg.a", "pkg.b", False, False),
        ("pkg.b", "pkg.sub.c", True, False),
        ("pkg.sub.c", "pkg.a", False, True),
    }
    assert cycles(edges) == [["pkg.a", "pkg.b", "pkg.sub.c"]]
    assert cycles([e for e in edges if not e.type_only]) == []


def test_no_imports_inside_functions() -> None:
    inside = [f"{e.module}:{e.line} imports {e.target}" for e in EDGES if e.in_function]
    assert not inside, inside


def test_the_import_graph_is_a_dag() -> None:
    """Counting every import that runs (module level, inside functions too); imports under
    ``if TYPE_CHECKING:`` never run: they only name a class for an annotation."""
    run = [e for e in EDGES if not e.type_only]
    found = cycles(run)
    assert not found, [describe(run, c) for c in found]


def test_the_nic_never_sees_the_pyverbs_facade() -> None:
    """Not even for annotations: the transport emits ``Completion`` records and ``NicError``,
    the facade turns them into ``WC`` and ``PyverbsRDMAError``."""
    up = [f"{e.module}:{e.line} -> {e.target}" for e in EDGES
          if _in_nic_layer(e.module) and e.target.startswith("nic_emu.pyverbs")]
    assert not up, up


@pytest.mark.parametrize("module", sorted(m for m in module_names(ROOT, "nic_emu")
                                          if _in_nic_layer(m)))
def test_the_nic_reads_no_private_attribute_of_another_object(module: str) -> None:
    """``x._name`` only on ``self`` / ``cls``: the NIC's objects have public fields."""
    path = module_names(ROOT, "nic_emu")[module]
    reads = [
        f"{path.name}:{node.lineno} {ast.unparse(node)}"
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Attribute)
        and node.attr.startswith("_") and not node.attr.startswith("__")
        and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))
    ]
    assert not reads, reads


def test_edges_name_real_modules() -> None:
    names = set(module_names(ROOT, "nic_emu"))
    assert all(isinstance(e, Import) and e.target in names for e in EDGES)
    assert any(e.module == "nic_emu.pyverbs.qp" and e.target == "nic_emu.transport.posting"
               for e in EDGES)

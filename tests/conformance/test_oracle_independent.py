"""The judge shares no code with the defendant: no module of `conformance/` outside the reference
target imports `gossamer` (issue 16, item 1).

Every `.py` file under `conformance/` is parsed with `ast` and every import is checked, imports
inside functions and `importlib.import_module("gossamer...")` / `__import__` calls included. Only the
reference target may import the reference implementation; and outside it (and the target factory),
no module imports the reference target's codec module either, which would judge with `gossamer`
one step removed.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import conformance

ROOT = Path(conformance.__file__).resolve().parent

#: the reference target: the only modules that may import gossamer
REFERENCE = frozenset({
    "targets/reference.py", "targets/reference_nic.py", "targets/reference_live.py", "peers/reference_trustee.py",
    "peers/reference_client.py",
    "adapter.py",
})
#: packages of the reference target (deliberately broken references) and reference-side tooling
#: (`mutation/` mutates `gossamer` and serves it to the targets; its cases are the catalogue's)
REFERENCE_PACKAGES = ("mutants/", "mutation/")
#: modules that may import the reference target's codec (`targets/reference.py`): the target
#: factory, which opens it when asked to
OPENS_REFERENCE = frozenset({"targets/__init__.py"})


def modules() -> list[Path]:
    return sorted(p for p in ROOT.rglob("*.py") if "__pycache__" not in p.parts)


def _rel(p: Path) -> str:
    return p.relative_to(ROOT).as_posix()


def _absolute(module: str | None, level: int, path: Path) -> str:
    """The absolute dotted name of a (possibly relative) import in the file `path`."""
    if not level:
        return module or ""
    pkg = ["conformance", *path.relative_to(ROOT).parent.parts]
    base = pkg[: len(pkg) - (level - 1)]
    return ".".join([*base, module] if module else base)


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in the file, at any depth."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    out: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            mod = _absolute(node.module, node.level, path)
            out.append((node.lineno, mod))
            out += [(node.lineno, f"{mod}.{a.name}") for a in node.names]
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str):
            f = node.func
            name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
            if name in ("import_module", "__import__"):
                out.append((node.lineno, node.args[0].value))
    return out


def _is_gossamer(name: str) -> bool:
    return name == "gossamer" or name.startswith("gossamer.")


def _is_reference_codec(name: str) -> bool:
    return any(name == m or name.startswith(m + ".") for m in ("conformance.targets.reference", "conformance.mutants"))


def test_the_walk_sees_what_it_must() -> None:
    """The checker itself: it finds the reference target's imports (so an empty result elsewhere
    means something), and relative imports resolve."""
    ref = [n for _, n in imports(ROOT / "targets" / "reference.py")]
    assert any(_is_gossamer(n) for n in ref)
    assert "conformance.model" in ref
    assert len(modules()) > 40


@pytest.mark.parametrize("path", modules(), ids=_rel)
def test_no_module_outside_the_reference_target_imports_gossamer(path: Path) -> None:
    rel = _rel(path)
    if rel in REFERENCE or rel.startswith(REFERENCE_PACKAGES):
        pytest.skip("the reference target")
    bad = [f"line {line}: {name}" for line, name in imports(path) if _is_gossamer(name)]
    assert not bad, f"conformance/{rel} imports gossamer: {bad}"
    if rel not in OPENS_REFERENCE:
        via = [f"line {line}: {name}" for line, name in imports(path) if _is_reference_codec(name)]
        assert not via, f"conformance/{rel} imports the reference target's codec: {via}"

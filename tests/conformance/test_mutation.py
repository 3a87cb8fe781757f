"""The mutation tool (`conformance/mutation/`): its operators, its engine, and a seeded sample of the suite.

The sample is the suite's own regression test: a fixed, seeded choice of mutants of the reference
codec and trustee, each run through the whole catalogue on the default target; every survivor
must be classified in `conformance/mutation/survivors.toml` (equivalent, or a free choice of
SPEC.md) or killed by a case.
"""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator

import attrs
import pytest

from conformance.cases import catalogue, select
from conformance.mutation import cli, engine, survivors
from conformance.mutation.operators import OPERATORS, Point, apply, enumerate_points

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the engine forks")


@pytest.fixture(autouse=True)
def _leave_the_imports_as_found() -> Iterator[None]:
    """The engine forgets and re-serves `gossamer` in this process too (`warm`, `install`): put back
    the module objects and finders the rest of the session imported, or later tests patch one
    `gossamer.errors` while the reference target reads another."""
    modules, finders = dict(sys.modules), list(sys.meta_path)
    yield
    sys.meta_path[:] = finders
    for name in [n for n in sys.modules if n not in modules]:
        del sys.modules[name]
    sys.modules.update(modules)

SOURCE = textwrap.dedent('''
    """doc"""
    LIMIT = 64

    def check(n, data):
        """doc"""
        if n < LIMIT and data:
            raise ValueError("too small: keep this text")
        return data[1:n] + bytes([(n >> 2) % 256])
''')


def _run(module_source: str, point: Point, *args: object) -> object:
    ns: dict[str, object] = {}
    exec(compile(apply(module_source, point), "<mutant>", "exec"), ns)
    return ns["check"](*args)  # type: ignore[operator]


def _find(points: list[Point], operator: str, mutated: str) -> Point:
    found = [p for p in points if p.operator == operator and p.mutated == mutated]
    assert len(found) == 1, [p.describe() for p in points if p.operator == operator]
    return found[0]


def test_operators_make_the_intended_change() -> None:
    pts = enumerate_points("probe", SOURCE)
    assert {p.operator for p in pts} >= {"cmp-boundary", "cmp-negate", "bool-swap", "cond-negate", "cond-true",
                                         "cond-false", "const", "raise-del", "return-none", "arith", "slice-bound"}
    assert {p.operator for p in pts} <= set(OPERATORS)
    boundary = _find(pts, "cmp-boundary", "if n <= LIMIT and data:")
    with pytest.raises(ValueError):
        _run(SOURCE, boundary, 64, b"x" * 70)  # 64 <= 64 now raises; the original does not
    assert _run(SOURCE, boundary, 65, b"x" * 70) == b"x" * 64 + bytes([65 >> 2])
    raise_del = _find(pts, "raise-del", "pass")
    assert _run(SOURCE, raise_del, 1, b"abc") == bytes([0])
    swap = _find(pts, "bool-swap", "if n < LIMIT or data:")
    with pytest.raises(ValueError):
        _run(SOURCE, swap, 70, b"abc")
    ret = _find(pts, "return-none", "return None")
    assert _run(SOURCE, ret, 70, b"abc") is None
    shift = _find(pts, "arith", "return data[1:n] + bytes([(n << 2) % 256])")
    assert _run(SOURCE, shift, 70, b"abc") == b"bc" + bytes([(70 << 2) % 256])
    lower = _find(pts, "slice-bound", "return data[2:n] + bytes([(n >> 2) % 256])")
    assert _run(SOURCE, lower, 70, b"abc") == b"c" + bytes([70 >> 2])
    assert _find(pts, "const", "LIMIT = 65").line == 3


def test_texts_and_docstrings_are_not_mutated() -> None:
    pts = enumerate_points("probe", SOURCE)
    assert not [p for p in pts if "keep this text" in p.original and p.operator == "const-str"]
    assert not [p for p in pts if p.original.startswith('"""')]


def test_keys_are_stable_and_unique() -> None:
    pts = enumerate_points("probe", SOURCE)
    assert len({p.key for p in pts}) == len(pts)
    shifted = enumerate_points("probe", "# a comment\n\n\n" + SOURCE)  # lines move, keys do not
    assert [p.key for p in shifted] == [p.key for p in pts]
    assert all(p.key.startswith(("probe:check:", "probe:<module>:")) for p in pts)


def test_every_mutant_of_the_reference_compiles() -> None:
    for module in cli.MODULES:
        src = engine.module_path(module).read_text()
        pts = enumerate_points(module, src)
        assert len({p.key for p in pts}) == len(pts), module
        for p in cli.sample(pts, 4, seed=1):
            compile(apply(src, p), module, "exec")


def test_sample_is_deterministic() -> None:
    pts = cli.points_of(["gossamer.slot"])
    assert cli.sample(pts, 10, 3) == cli.sample(pts, 10, 3)
    assert cli.sample(pts, 10, 3) != cli.sample(pts, 10, 4)


def _point(module: str, function: str, operator: str, original_starts: str) -> Point:
    pts = [p for p in cli.points_of([module]) if p.function == function and p.operator == operator
           and p.original.startswith(original_starts)]
    assert pts, (module, function, operator, original_starts)
    return pts[0]


def test_a_planted_mutant_is_killed_and_the_reference_survives() -> None:
    cases = catalogue()
    planted = _point("gossamer.buffer", "align8", "return-none", "return")  # every batch length breaks
    ref, mutant = engine.run_mutants([None, planted], "reference-sansio", cases, jobs=2, timeout=60)
    assert ref.status == "survived", ref
    assert mutant.status == "killed" and mutant.case, mutant


def test_the_live_target_judges_what_only_the_bootstrap_connection_reaches() -> None:
    # the reader drops or keeps one byte too many after a message: only a hello and a ready that
    # arrive in one read show it, which happens on the TCP bootstrap of `reference-live`, never on
    # `reference` (whose sessions hand the reference trustee the suite's hello as bytes)
    planted = _point("gossamer.bootstrap", "BootstrapReader.feed", "slice-bound", "del self._buf")
    cases = select(catalogue(), ["live.hello"])
    ref, live = engine.run_mutants([None, planted], "reference-live", cases, jobs=2, timeout=60)
    assert ref.status == "survived", ref
    assert live.killed, live
    [in_process] = engine.run_mutants([planted], "reference", cases, jobs=1, timeout=60)
    assert in_process.status == "survived", in_process


def test_a_looping_mutant_is_killed_by_the_deadline() -> None:
    # `stack.pop()` deleted: item_end's walk never ends on the first CBOR item it meets
    loop = _point("gossamer.serial", "item_end", "call-del", "stack.pop()")
    cbor_cases = [c for c in catalogue() if c.op == "check_cbor"]
    [out] = engine.run_mutants([loop], "reference-sansio", cbor_cases, jobs=1, timeout=2.0)
    assert out.status == "timeout" and out.killed and 2.0 <= out.seconds < 10, out


def test_a_mutant_that_cannot_be_installed_is_a_crash() -> None:
    real = _point("gossamer.slot", "make_imm", "return-none", "return")
    stale = attrs.evolve(real, operator="raise-del")  # names another change than the source allows
    [out] = engine.run_mutants([stale], "reference-sansio", catalogue()[:3], jobs=1, timeout=30)
    assert out.status == "crash" and out.killed and "source changed" in out.message, out


def test_survivors_file_is_well_formed() -> None:
    classes = survivors.load()
    for c in classes.values():
        assert c.key.split(":", 1)[0] in cli.MODULES + cli.OPTIONAL, c.key
        assert c.kind in survivors.CLASSES and c.reason.strip()


SAMPLE = 48
SEED = 20261201


def test_seeded_sample_has_no_unclassified_survivor() -> None:
    modules = cli.MODULES
    pts = cli.sample(cli.points_of(modules), SAMPLE, SEED)
    cases = catalogue()
    cover = {t: engine.coverage(t, cases, modules) for t in engine.targets_of(cli.DEFAULT_TARGET)}
    outcomes = engine.run_mutants(pts, cli.DEFAULT_TARGET, cases, jobs=2, timeout=5.0, cover=cover)
    classes = survivors.load()
    left = survivors.unclassified(outcomes, classes)
    assert not left, "mutants survive the suite unclassified (kill them with a case or classify them in " \
        "conformance/mutation/survivors.toml):\n" + "\n".join(f"{o.point.key}: {o.point.describe()}" for o in left)

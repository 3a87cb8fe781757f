"""Running the suite against mutants: one forked child per mutant, a hard deadline each.

The parent builds the catalogue once (the judge: cases, expected values and checks, with the
unmutated code) and then forks a child per mutant. The child forgets every `gossamer` module and
every suite module on the defendant's side (targets, the reference trustee and client), installs a
meta path finder that serves the mutated module, opens the target (which imports `gossamer`
afresh, the mutant included) and runs the cases until the first one fails: that mutant is
killed. The cases keep the unmutated code they were built with, so a mutant never changes the
verdict of its own judge. A child that outlives its deadline is killed with SIGKILL and the
mutant counts as killed by timeout (a mutant may loop forever); one that cannot even be imported
is killed as a crash (the suite could not have run on it).

Linux only (fork); `jobs` children run at once.
"""

from __future__ import annotations

import ast
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import resource
import select
import signal
import sys
import time
import types
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import attrs

from ..model import Case, Verdict
from .operators import Point, apply

#: suite modules that belong to the judge: kept as the parent built them
JUDGE = ("conformance.cases", "conformance.oracle", "conformance.mutation", "conformance.model",
         "conformance.runner", "conformance.spec", "conformance.report", "conformance.cli")
#: ops that reach the reference runtime on the default target (slow: emulated NIC, TCP)
RUNTIME_OPS = ("land", "execute", "client_run")
MEMORY_LIMIT = 2 << 30  #: address-space limit of a child: a mutant that allocates wildly fails


@attrs.frozen(kw_only=True)
class Outcome:
    """What became of one mutant."""

    point: Point
    status: str  #: "killed", "survived", "timeout" (killed) or "crash" (killed: could not import or open)
    case: str = ""  #: the case that killed it
    message: str = ""
    seconds: float = 0.0

    @property
    def killed(self) -> bool:
        return self.status != "survived"

    def as_json(self) -> dict[str, Any]:
        p = self.point
        return {"key": p.key, "module": p.module, "function": p.function, "operator": p.operator,
                "line": p.line, "original": p.original, "mutated": p.mutated, "status": self.status,
                "case": self.case, "message": self.message, "seconds": round(self.seconds, 3)}


def module_path(module: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise ValueError(f"no source for module {module}")
    return Path(spec.origin)


class _MutantFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves one module from a code object (the mutant); every other import goes on as usual."""

    def __init__(self, module: str, code: types.CodeType, origin: str) -> None:
        self.module, self.code, self.origin = module, code, origin

    def find_spec(self, fullname: str, path: Sequence[str] | None, target: types.ModuleType | None = None,
                  ) -> importlib.machinery.ModuleSpec | None:
        if fullname != self.module:
            return None
        spec = importlib.machinery.ModuleSpec(fullname, self, origin=self.origin)
        spec.has_location = True
        return spec

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> None:
        return None

    def exec_module(self, module: types.ModuleType) -> None:
        module.__file__ = self.origin
        exec(self.code, module.__dict__)


def forget_defendant() -> None:
    """Drop `gossamer` and the suite's defendant-side modules, so the next import is fresh."""
    for name in list(sys.modules):
        if (name == "gossamer" or name.startswith("gossamer.")
                or (name.startswith("conformance.") and not name.startswith(JUDGE))):
            del sys.modules[name]


def install(point: Point | None) -> None:
    """Forget the defendant and, for a mutant, put its finder first on the meta path."""
    if point is None:
        forget_defendant()
        return
    path = module_path(point.module)  # (finding it imports its package: forget after)
    tree: ast.Module = apply(path.read_text(), point)
    code = compile(tree, str(path), "exec")
    forget_defendant()
    sys.meta_path.insert(0, _MutantFinder(point.module, code, str(path)))


def order_cases(cases: Iterable[Case]) -> list[Case]:
    """The in-process codec cases first, those that start the runtime last (a kill comes sooner)."""
    cs = list(cases)
    return [c for c in cs if c.op not in RUNTIME_OPS and not c.op.startswith("nic_")] + \
           [c for c in cs if c.op in RUNTIME_OPS or c.op.startswith("nic_")]


def run_in_child(point: Point | None, target: str, cases: Sequence[Case]) -> dict[str, Any]:
    """Body of a child: the suite against one mutant (None: the unmutated reference)."""
    from ..runner import run_case
    from ..targets import open_target

    try:
        install(point)
        t = open_target(target)
    except BaseException as e:  # the mutant does not even import: the suite cannot run on it
        return {"status": "crash", "message": f"{type(e).__name__}: {e}"[:300]}
    passed = 0
    try:
        for c in cases:
            try:
                r = run_case(t, c)
            except BaseException as e:  # the runner itself broke on this mutant's answer
                return {"status": "killed", "case": c.id, "message": f"runner raised {type(e).__name__}: {e}"[:300]}
            if r.verdict in (Verdict.FAIL, Verdict.ERROR):
                return {"status": "killed", "case": c.id, "message": r.message[:300]}
            passed += r.verdict is Verdict.PASS
    finally:
        try:
            t.close()
        except BaseException:
            pass
    return {"status": "survived", "message": f"{passed} cases passed"}


def _child(point: Point | None, target: str, cases: Sequence[Case], wfd: int) -> None:
    try:
        os.setpgid(0, 0)
        devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(devnull, 0)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
        sys.setrecursionlimit(5000)
        out = run_in_child(point, target, cases)
    except BaseException as e:
        out = {"status": "crash", "message": f"{type(e).__name__}: {e}"[:300]}
    try:
        os.write(wfd, json.dumps(out).encode())
    finally:
        os._exit(0)


@attrs.define
class _Running:
    point: Point | None
    pid: int
    rfd: int
    started: float
    data: bytearray = attrs.field(factory=bytearray)


def run_mutants(points: Sequence[Point | None], target: str, cases: Sequence[Case], *, jobs: int = 2,
                timeout: float = 10.0, progress: Callable[[Outcome], None] | None = None) -> list[Outcome]:
    """Every point's outcome, in the order of `points` (None runs the unmutated reference)."""
    cases = order_cases(cases)
    todo = list(enumerate(points))
    running: dict[int, tuple[int, _Running]] = {}  # rfd -> (index, child)
    results: dict[int, Outcome] = {}
    sys.stdout.flush()
    sys.stderr.flush()
    while todo or running:
        while todo and len(running) < max(1, jobs):
            i, p = todo.pop(0)
            rfd, wfd = os.pipe()
            pid = os.fork()
            if pid == 0:  # pragma: no cover - the child
                os.close(rfd)
                _child(p, target, cases, wfd)
            os.close(wfd)
            running[rfd] = (i, _Running(p, pid, rfd, time.monotonic()))
        now = time.monotonic()
        wait = min(ch.started + timeout for _, ch in running.values()) - now
        ready, _, _ = select.select(list(running), [], [], max(0.0, wait))
        for rfd in ready:
            i, ch = running[rfd]
            chunk = os.read(rfd, 65536)
            if chunk:
                ch.data += chunk
                continue
            del running[rfd]
            os.close(rfd)
            os.waitpid(ch.pid, 0)
            results[i] = _outcome(ch, time.monotonic() - ch.started)
            if progress is not None:
                progress(results[i])
        now = time.monotonic()
        for rfd, (i, ch) in list(running.items()):
            if now - ch.started >= timeout:
                _kill(ch.pid)
                del running[rfd]
                os.close(rfd)
                results[i] = Outcome(point=ch.point or _REFERENCE, status="timeout",
                                     message=f"no verdict within {timeout:g} s", seconds=now - ch.started)
                if progress is not None:
                    progress(results[i])
    return [results[i] for i in range(len(points))]


def _kill(pid: int) -> None:
    for target in (-pid, pid):  # its process group first (a mutant may have forked), then itself
        try:
            os.kill(target, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


_REFERENCE = Point(module="", function="", operator="none", line=0, site=-1, variant=-1, original="", mutated="",
                   key="reference")


def _outcome(ch: _Running, seconds: float) -> Outcome:
    point = ch.point or _REFERENCE
    try:
        d = json.loads(bytes(ch.data))
    except ValueError:
        return Outcome(point=point, status="crash", message="the child died without a verdict", seconds=seconds)
    return Outcome(point=point, status=d["status"], case=d.get("case", ""), message=d.get("message", ""),
                   seconds=seconds)


def baseline(target: str, cases: Sequence[Case], timeout: float = 120.0) -> Outcome:
    """The unmutated reference through the same machinery: it must survive, or nothing is measured."""
    return run_mutants([None], target, cases, jobs=1, timeout=timeout)[0]

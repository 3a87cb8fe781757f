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

Before the mutants, one traced child runs the unmutated reference and records which lines of the
mutated modules each case executes (`coverage`). A mutant then runs only the cases that execute
its statement (every case for a change acting at import: module constants, class bodies,
default values); a mutant no case reaches survives without a run, reported as such. This is
exact for cases that do not share state through the mutated code, which the catalogue's cases
do not (each opens its own sessions), and it makes a survivor cost a few cases, not the suite.

Linux only (fork); `jobs` children run at once.
"""

from __future__ import annotations

import ast
import functools
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import resource
import select
import signal
import sys
import threading
import time
import types
from collections.abc import Callable, Iterable, Mapping, Sequence
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


_SOURCES: dict[str, str] = {}


def source_of(path: Path | str) -> str:
    """A file's text as first read by this process: a run enumerates, compiles and mutates one
    snapshot, even while the checkout changes under it."""
    key = str(path)
    if key not in _SOURCES:
        _SOURCES[key] = Path(key).read_text()
    return _SOURCES[key]


def module_path(module: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise ValueError(f"no source for module {module}")
    return Path(spec.origin)


@attrs.frozen
class _Compiled:
    code: types.CodeType
    origin: str
    package: list[str] | None  #: a package's search locations


class _CodeFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves modules from code objects: the mutant, and the defendant compiled once by the parent.

    (This checkout runs with PYTHONDONTWRITEBYTECODE: without the parent's code objects every
    child would compile `gossamer` from source again.)
    """

    def __init__(self, codes: dict[str, _Compiled]) -> None:
        self.codes = codes

    def find_spec(self, fullname: str, path: Sequence[str] | None, target: types.ModuleType | None = None,
                  ) -> importlib.machinery.ModuleSpec | None:
        c = self.codes.get(fullname) or _from_snapshot(fullname, path)
        if c is None:
            return None
        self.codes[fullname] = c
        spec = importlib.machinery.ModuleSpec(fullname, self, origin=c.origin, is_package=c.package is not None)
        if c.package is not None:
            spec.submodule_search_locations = list(c.package)
        spec.has_location = True
        return spec

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> None:
        return None

    def exec_module(self, module: types.ModuleType) -> None:
        c = self.codes[module.__name__]
        module.__file__ = c.origin
        exec(c.code, module.__dict__)


#: the project's packages: every module of theirs a run imports comes from one snapshot of the tree
ROOTS = ("gossamer", "nic_emu", "conformance")


def freeze() -> None:
    """Read every source file of the project once and serve every later import from that text.

    Other people edit the checkout during a long run; without this a child could import a module
    written after the run began next to modules loaded before it, and fail for that reason alone
    (which would count as a kill)."""
    if _FROZEN:
        return
    for root in ROOTS:
        spec = importlib.util.find_spec(root)
        for d in (spec.submodule_search_locations or []) if spec is not None else []:
            for f in sorted(Path(d).rglob("*.py")):
                source_of(f)
    _FROZEN.append(True)
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _CodeFinder)]
    sys.meta_path.insert(0, _CodeFinder({}))


_FROZEN: list[bool] = []


def _from_snapshot(fullname: str, path: Sequence[str] | None) -> _Compiled | None:
    if not _FROZEN or fullname.split(".", maxsplit=1)[0] not in ROOTS:
        return None
    spec = importlib.machinery.PathFinder.find_spec(fullname, path)
    if spec is None or not spec.origin or spec.origin not in _SOURCES:
        return None
    search = list(spec.submodule_search_locations) if spec.submodule_search_locations is not None else None
    return _Compiled(compile(_SOURCES[spec.origin], spec.origin, "exec"), spec.origin, search)


def _is_defendant(name: str) -> bool:
    return (name == "gossamer" or name.startswith("gossamer.")
            or (name.startswith("conformance.") and not name.startswith(JUDGE)))


def forget_defendant() -> None:
    """Drop `gossamer` and the suite's defendant-side modules, so the next import is fresh."""
    for name in list(sys.modules):
        if _is_defendant(name):
            del sys.modules[name]


_COMPILED: dict[str, _Compiled] = {}


def warm(target: str) -> None:
    """Import the target once here and keep its defendant modules compiled for every child (from
    the snapshot of `source_of`: the target is imported afresh from those same texts first)."""
    from ..targets import open_target

    freeze()
    for name, m in list(sys.modules.items()):  # snapshot what is loaded, then load it from the snapshot
        spec = getattr(m, "__spec__", None)
        if _is_defendant(name) and spec is not None and str(spec.origin or "").endswith(".py"):
            source_of(spec.origin)
    install(None)
    _close(open_target(target))
    for name, m in list(sys.modules.items()):
        spec = getattr(m, "__spec__", None)
        if not _is_defendant(name) or name in _COMPILED or spec is None or not spec.origin:
            continue
        if not str(spec.origin).endswith(".py"):
            continue
        path = Path(spec.origin)
        search = list(spec.submodule_search_locations) if spec.submodule_search_locations is not None else None
        _COMPILED[name] = _Compiled(compile(source_of(path), str(path), "exec"), str(path), search)


def install(point: Point | None) -> None:
    """Forget the defendant and serve it again: the mutated module from its mutated AST."""
    codes = dict(_COMPILED)
    for name in list(sys.modules):  # modules loaded before the snapshot: served from it too
        spec = getattr(sys.modules[name], "__spec__", None)
        if (_is_defendant(name) and name not in codes and spec is not None
                and str(spec.origin or "").endswith(".py")):
            path = Path(str(spec.origin))
            search = list(spec.submodule_search_locations) if spec.submodule_search_locations is not None else None
            codes[name] = _COMPILED[name] = _Compiled(compile(source_of(path), str(path), "exec"), str(path), search)
    if point is not None:
        path = module_path(point.module)  # (finding it imports its package: forget after)
        tree: ast.Module = apply(source_of(path), point)
        codes[point.module] = _Compiled(compile(tree, str(path), "exec"), str(path), None)
    forget_defendant()
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _CodeFinder)]
    sys.meta_path.insert(0, _CodeFinder(codes))


def order_cases(cases: Iterable[Case]) -> list[Case]:
    """The in-process codec cases first, those that start the runtime last (a kill comes sooner)."""
    cs = list(cases)
    return [c for c in cs if c.op not in RUNTIME_OPS and not c.op.startswith("nic_")] + \
           [c for c in cs if c.op in RUNTIME_OPS or c.op.startswith("nic_")]


def _open(point: Point | None, target: str, *, fresh: bool = True) -> tuple[Any, dict[str, Any] | None]:
    from ..targets import open_target

    try:
        if fresh:
            install(point)
        return open_target(target), None
    except BaseException as e:  # the mutant does not even import: the suite cannot run on it
        return None, {"status": "crash", "message": f"{type(e).__name__}: {e}"[:300]}


def _close(t: Any) -> None:
    try:
        t.close()
    except BaseException:
        pass


Plan = Sequence[tuple[str, Sequence[Case]]]  #: (target, its cases), run in this order


def run_in_child(point: Point | None, plan: Plan) -> dict[str, Any]:
    """Body of a child: the suite against one mutant (None: the unmutated reference), target by
    target, until a case fails."""
    from ..runner import run_case

    passed = 0
    for n, (target, cases) in enumerate(plan):
        t, failed = _open(point, target, fresh=n == 0)
        if failed is not None:
            return failed
        where = f"[{target}] " if n else ""
        try:
            for c in cases:
                try:
                    r = run_case(t, c)
                except BaseException as e:  # the runner itself broke on this mutant's answer
                    return {"status": "killed", "case": c.id,
                            "message": f"{where}runner raised {type(e).__name__}: {e}"[:300]}
                if r.verdict in (Verdict.FAIL, Verdict.ERROR):
                    return {"status": "killed", "case": c.id, "message": (where + r.message)[:300]}
                passed += r.verdict is Verdict.PASS
        finally:
            _close(t)
    return {"status": "survived", "message": f"{passed} cases passed"}


def coverage_in_child(target: str, cases: Sequence[Case], files: Sequence[str]) -> dict[str, Any]:
    """Body of a child: the unmutated reference with a line tracer on `files`, case by case.

    Answers {"status", "cases": {id: {"seconds": s, "lines": {file: [line, ...]}}}}; a case that
    does not pass makes the status "failed" (then nothing can be measured).
    """
    from ..runner import run_case

    t, failed = _open(None, target)
    if failed is not None:
        return failed
    watched = set(files)
    hits: set[tuple[str, int]] = set()

    def local(frame: types.FrameType, event: str, arg: Any) -> Any:
        if event == "line":
            hits.add((frame.f_code.co_filename, frame.f_lineno))
        return local

    def tracer(frame: types.FrameType, event: str, arg: Any) -> Any:
        return local if frame.f_code.co_filename in watched else None

    out: dict[str, Any] = {}
    try:
        for c in cases:
            hits.clear()
            t0 = time.perf_counter()
            sys.settrace(tracer)
            threading.settrace(tracer)  # (a target may serve from a thread of its own)
            try:
                r = run_case(t, c)
            finally:
                sys.settrace(None)
                threading.settrace(None)
            if r.verdict in (Verdict.FAIL, Verdict.ERROR):
                return {"status": "failed", "case": c.id, "message": r.message[:300]}
            lines: dict[str, list[int]] = {}
            for f, n in hits:
                lines.setdefault(f, []).append(n)
            out[c.id] = {"seconds": time.perf_counter() - t0, "lines": lines}
    finally:
        _close(t)
    return {"status": "survived", "cases": out}


def _child(body: Callable[[], dict[str, Any]], wfd: int) -> None:
    try:
        os.setpgid(0, 0)
        devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(devnull, 0)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
        sys.setrecursionlimit(5000)
        out = body()
    except BaseException as e:
        out = {"status": "crash", "message": f"{type(e).__name__}: {e}"[:300]}
    try:
        data = json.dumps(out).encode()
        while data:
            data = data[os.write(wfd, data):]
    finally:
        os._exit(0)


@attrs.frozen
class Task:
    """One child: what it runs, and its deadline in seconds."""

    body: Callable[[], dict[str, Any]]
    timeout: float


@attrs.define
class _Running:
    index: int
    pid: int
    started: float
    deadline: float
    data: bytearray = attrs.field(factory=bytearray)


def fork_all(tasks: Sequence[Task], jobs: int = 2,
             done: Callable[[int, dict[str, Any] | None, float], None] | None = None,
             ) -> list[tuple[dict[str, Any] | None, float]]:
    """Run every task in its own forked child, `jobs` at a time: (answer or None on timeout, seconds)."""
    todo = list(enumerate(tasks))
    running: dict[int, _Running] = {}  # read end of the child's pipe -> child
    results: dict[int, tuple[dict[str, Any] | None, float]] = {}
    sys.stdout.flush()
    sys.stderr.flush()

    def finish(i: int, answer: dict[str, Any] | None, seconds: float) -> None:
        results[i] = (answer, seconds)
        if done is not None:
            done(i, answer, seconds)

    while todo or running:
        while todo and len(running) < max(1, jobs):
            i, task = todo.pop(0)
            rfd, wfd = os.pipe()
            pid = os.fork()
            if pid == 0:  # pragma: no cover - the child
                os.close(rfd)
                _child(task.body, wfd)
            os.close(wfd)
            now = time.monotonic()
            running[rfd] = _Running(i, pid, now, now + task.timeout)
        wait = min(ch.deadline for ch in running.values()) - time.monotonic()
        ready, _, _ = select.select(list(running), [], [], max(0.0, wait))
        for rfd in ready:
            ch = running[rfd]
            chunk = os.read(rfd, 1 << 20)
            if chunk:
                ch.data += chunk
                continue
            del running[rfd]
            os.close(rfd)
            os.waitpid(ch.pid, 0)
            try:
                answer: dict[str, Any] = json.loads(bytes(ch.data))
            except ValueError:
                answer = {"status": "crash", "message": "the child died without a verdict"}
            finish(ch.index, answer, time.monotonic() - ch.started)
        now = time.monotonic()
        for rfd, ch in list(running.items()):
            if now >= ch.deadline:
                _kill(ch.pid)
                del running[rfd]
                os.close(rfd)
                finish(ch.index, None, now - ch.started)
    return [results[i] for i in range(len(tasks))]


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


REFERENCE = Point(module="", function="", operator="none", line=0, site=-1, variant=-1, original="", mutated="",
                  key="reference")


@attrs.frozen
class Coverage:
    """Which lines of the mutated modules each case executes on the reference, and how long it takes."""

    seconds: dict[str, float]
    lines: dict[str, dict[str, frozenset[int]]]  #: case id -> file -> lines

    def cases_for(self, point: Point, cases: Sequence[Case]) -> list[Case]:
        """The cases that execute the mutant's lines (all of them for a mutant acting at import)."""
        if point.span == (0, 0):
            return list(cases)
        f = str(module_path(point.module))
        lo, hi = point.span
        return [c for c in cases if any(lo <= n <= hi for n in self.lines.get(c.id, {}).get(f, ()))]

    def time_for(self, cases: Sequence[Case]) -> float:
        return sum(self.seconds.get(c.id, 0.1) for c in cases)


def coverage(target: str, cases: Sequence[Case], modules: Iterable[str], timeout: float = 600.0) -> Coverage:
    """The reference's line coverage per case, measured once in a child; raises if a case fails."""
    files = sorted({str(module_path(m)) for m in modules})
    warm(target)
    [(answer, _)] = fork_all([Task(lambda: coverage_in_child(target, cases, files), timeout)], jobs=1)
    if answer is None:
        raise RuntimeError(f"the reference did not finish the suite on {target} within {timeout:g} s")
    if answer["status"] != "survived":
        raise RuntimeError(f"the unmutated reference does not pass the suite on {target}: "
                           f"{answer.get('case', '')} {answer.get('message', '')}")
    return Coverage(seconds={k: v["seconds"] for k, v in answer["cases"].items()},
                    lines={k: {f: frozenset(ns) for f, ns in v["lines"].items()} for k, v in answer["cases"].items()})


def targets_of(target: str) -> list[str]:
    """`reference+reference-sansio`: a mutant must survive on every one of them to survive."""
    return [t for t in target.split("+") if t]


def run_mutants(points: Sequence[Point | None], target: str, cases: Sequence[Case], *, jobs: int = 2,
                timeout: float = 10.0, cover: Mapping[str, Coverage] | None = None,
                progress: Callable[[Outcome], None] | None = None) -> list[Outcome]:
    """Every point's outcome, in the order of `points` (None runs the unmutated reference).

    `target` may join several targets with `+`: a mutant killed on any of them is killed (the
    sans-I/O target reaches code the default one does not, and the other way round). With
    `cover` (per target), each mutant runs only the cases that execute its lines on the
    reference (a mutant no case reaches survives without a run), and its deadline is `timeout`
    plus three times those cases' traced time; without, every case and `timeout` flat.
    """
    ordered = order_cases(cases)
    targets = targets_of(target)
    for t in targets:
        warm(t)
    tasks: list[Task] = []
    slots: list[int] = []
    outcomes: dict[int, Outcome] = {}
    for i, p in enumerate(points):
        plan: list[tuple[str, Sequence[Case]]] = []
        deadline = timeout
        for t in targets:
            todo = ordered if (cover is None or p is None) else cover[t].cases_for(p, ordered)
            if todo:
                plan.append((t, todo))
                deadline += 3 * cover[t].time_for(todo) if cover is not None else 0.0
        if not plan and p is not None:
            outcomes[i] = Outcome(point=p, status="survived", message="no case executes this line")
            if progress is not None:
                progress(outcomes[i])
            continue
        tasks.append(Task(functools.partial(run_in_child, p, plan), deadline))
        slots.append(i)

    def done(k: int, answer: dict[str, Any] | None, seconds: float) -> None:
        i = slots[k]
        p = points[i] or REFERENCE
        if answer is None:
            outcomes[i] = Outcome(point=p, status="timeout", message=f"no verdict within {tasks[k].timeout:.1f} s",
                                  seconds=seconds)
        else:
            outcomes[i] = Outcome(point=p, status=answer["status"], case=answer.get("case", ""),
                                  message=answer.get("message", ""), seconds=seconds)
        if progress is not None:
            progress(outcomes[i])

    fork_all(tasks, jobs, done)
    return [outcomes[i] for i in range(len(points))]


def baseline(target: str, cases: Sequence[Case], timeout: float = 600.0) -> Outcome:
    """The unmutated reference through the same machinery: it must survive, or nothing is measured."""
    return run_mutants([None], target, cases, jobs=1, timeout=timeout)[0]

"""Leaked Trusts: where every undropped Trust was created, and the report at the end of a run.

A property lives until its last Trust is dropped ([TRUST-5]); a Trust nobody drops keeps it
alive for good. The runtime reports that the way Python reports an unclosed file and asyncio a
task destroyed while pending:

* a Trust garbage-collected without `drop()` gives a `ResourceWarning` naming where it was
  created (shown under `python -X dev` or `-W default`, like every ResourceWarning);
* when a rack's run ends quietly, every property that a Trust of this process still keeps alive
  is listed with the creation sites of its live Trusts: a `TrustLeakWarning` (shown by default),
  or, with `leaks="error"`, a `TrustLeakError` raised from `Rack.run` / `launch` (for tests);
  `leaks="ignore"` says nothing. The default comes from the environment variable
  `GOSSAMER_LEAKS` (`warn`, `error` or `ignore`), else `warn`.

A creation site is one frame (its code object and line), taken with `sys._getframe` when the
Trust is made (entrust, clone, spawn): so cheap that it is always on. benchmarks/runtime_rate.py
measured 1.75 us a capture against 122 us for a clone + drop pair on the emulator (about 1.5%;
a shared, loaded 2-core machine). In debug mode (`python -X dev`, or `GOSSAMER_DEBUG=1`, as
asyncio's debug mode keeps a task's source traceback) the whole stack is kept too: 46 us a
capture, 139 us a pair. A run that went down (fate sharing) reports nothing: its properties went down with it.
"""

from __future__ import annotations

import os
import sys
import traceback
import warnings
from types import CodeType

import attrs

_RUNTIME_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep

#: what a run does with the Trusts still live at its end
LEAK_MODES = ("warn", "error", "ignore")


class TrustLeakWarning(RuntimeWarning):
    """Properties kept alive at the end of a run by Trusts that were never dropped."""


class TrustLeakError(Exception):
    """`leaks="error"`: the run ended with properties kept alive by undropped Trusts."""

    def __init__(self, report: str, leaks: tuple[Leak, ...]) -> None:
        super().__init__(report)
        self.report = report
        self.leaks = leaks


def leak_mode(mode: str | None = None) -> str:
    """`mode`, or the `GOSSAMER_LEAKS` environment variable, or "warn"; checked."""
    chosen = mode if mode is not None else (os.environ.get("GOSSAMER_LEAKS") or "warn")
    if chosen not in LEAK_MODES:
        raise ValueError(f"leaks must be one of {', '.join(LEAK_MODES)}, not {chosen!r}")
    return chosen


def debug_stacks() -> bool:
    """Keep whole creation stacks: GOSSAMER_DEBUG=1 (0 turns it off), else `python -X dev`."""
    env = os.environ.get("GOSSAMER_DEBUG", "")
    return env != "0" if env else sys.flags.dev_mode


class Site:
    """Where a Trust was created: the user's call of entrust, clone or spawn.

    A plain slotted class, not an attrs one like the codec's values: one is made for every
    Trust, and keeping the code object and line (names read only for a report) makes that a
    fraction of a microsecond (benchmarks/runtime_rate.py, "trusts.site")."""

    __slots__ = ("_code", "lineno", "stack")

    def __init__(self, code: CodeType, lineno: int, stack: traceback.StackSummary | None = None) -> None:
        self._code = code
        self.lineno = lineno
        #: the whole stack, outermost first, in debug mode only (source lines read when shown)
        self.stack = stack

    def stack_lines(self) -> list[str]:
        """The stack as `traceback` prints it, or nothing when it was not kept."""
        return [] if self.stack is None else "".join(self.stack.format()).rstrip().splitlines()

    @property
    def filename(self) -> str:
        return self._code.co_filename

    @property
    def function(self) -> str:
        return self._code.co_name

    def __str__(self) -> str:
        return f"{self.filename}:{self.lineno} in {self.function}"

    def __repr__(self) -> str:
        return f"<Site {self}>"


def capture(depth: int, stacks: bool) -> Site:
    """The site `depth` frames above the caller (1: the caller's caller)."""
    frame = sys._getframe(depth + 1)
    if stacks:  # the program's frames: the rack loop's own (this package) say nothing about it
        frames = traceback.StackSummary.extract(traceback.walk_stack(frame), limit=40, lookup_lines=False)
        stack = traceback.StackSummary.from_list(
            [f for f in reversed(frames) if not f.filename.startswith(_RUNTIME_DIR)][-20:])
        return Site(frame.f_code, frame.f_lineno, stack)
    return Site(frame.f_code, frame.f_lineno)


class TrustRecord:
    """One undropped Trust of this process (a plain slotted class, made per Trust like Site)."""

    __slots__ = ("collected", "holder", "property", "site", "tid")

    def __init__(self, tid: int, prop: tuple[int, int, int], holder: str, site: Site) -> None:
        self.tid = tid
        #: (machine, thread, pointer) of its property
        self.property = prop
        self.holder = holder
        self.site = site
        #: garbage-collected without drop() (its id stays in the property's set for good)
        self.collected = False

    def __repr__(self) -> str:
        return f"<TrustRecord {self.tid:#x} {self.property} held by {self.holder} from {self.site}>"


@attrs.frozen(slots=True)
class Leak:
    """A property kept alive at the end of a run, and the undropped Trusts of this process to it."""

    machine: int
    thread: int
    pointer: int
    trusts: tuple[TrustRecord, ...]

    def describe(self) -> str:
        lines = [f"property {self.pointer:#x} on m{self.machine}.t{self.thread}, kept alive by "
                 f"{len(self.trusts)} Trust{'s' if len(self.trusts) > 1 else ''} never dropped:"]
        for r in self.trusts:
            state = "garbage-collected without drop()" if r.collected else "still referenced"
            lines.append(f"  Trust {r.tid:#x} held by {r.holder} ({state}), created at {r.site}")
            lines.extend("    " + line for line in r.site.stack_lines())
        return "\n".join(lines)


class TrustLedger:
    """Every Trust of this process that was not dropped, by trust id ([TRUST-1]: ids are unique
    in the rack), with its creation site. The API records creations and drops; the rack asks for
    the report when a run ends."""

    def __init__(self, mode: str = "warn", stacks: bool | None = None) -> None:
        self.mode = leak_mode(mode)
        self.stacks = debug_stacks() if stacks is None else stacks
        self.live: dict[int, TrustRecord] = {}

    def created(self, tid: int, prop: tuple[int, int, int], holder: str, site: Site) -> None:
        self.live[tid] = TrustRecord(tid, prop, holder, site)

    def dropped(self, tid: int) -> None:
        self.live.pop(tid, None)

    def collected(self, tid: int) -> TrustRecord | None:
        """A Trust was garbage-collected without drop(): keep it, marked, for the report."""
        rec = self.live.get(tid)
        if rec is not None:
            rec.collected = True
        return rec

    def leaks(self) -> tuple[Leak, ...]:
        """The properties still kept alive by undropped Trusts, in (machine, thread, pointer) order."""
        by_prop: dict[tuple[int, int, int], list[TrustRecord]] = {}
        for rec in self.live.values():
            by_prop.setdefault(rec.property, []).append(rec)
        return tuple(Leak(m, t, p, tuple(sorted(recs, key=lambda r: r.tid)))
                     for (m, t, p), recs in sorted(by_prop.items()))

    def report(self) -> tuple[str, tuple[Leak, ...]] | None:
        """The end-of-run report, or None when every Trust was dropped."""
        leaks = self.leaks()
        if not leaks:
            return None
        head = (f"{len(leaks)} propert{'ies' if len(leaks) > 1 else 'y'} still live at the end of the run "
                "(a Trust that is never dropped keeps its property alive, [TRUST-5]):")
        hint = "" if self.stacks else "\n(whole creation stacks: run with python -X dev or GOSSAMER_DEBUG=1)"
        return head + "\n" + "\n".join(leak.describe() for leak in leaks) + hint, leaks

    def end_of_run(self) -> None:
        """A run ended quietly: warn about (or, `leaks="error"`, raise for) the properties still
        kept alive by undropped Trusts. Called by `Rack.run` (stacklevel: its caller)."""
        if self.mode == "ignore":
            return
        found = self.report()
        if found is None:
            return
        text, leaks = found
        if self.mode == "error":
            raise TrustLeakError(text, leaks)
        warnings.warn(text, TrustLeakWarning, stacklevel=3)


def collected_warning(rec: TrustRecord | None, what: str) -> str:
    """The ResourceWarning's text for a Trust garbage-collected without drop()."""
    where = f", created at {rec.site}" if rec is not None else ""
    text = f"{what} was garbage-collected without drop(){where}: its property stays alive ([TRUST-5])"
    if rec is not None and rec.site.stack is not None:
        text += "\n" + "\n".join(rec.site.stack_lines())
    return text


__all__ = ["LEAK_MODES", "Leak", "Site", "TrustLeakError", "TrustLeakWarning", "TrustLedger", "TrustRecord",
           "capture", "collected_warning", "debug_stacks", "leak_mode"]

"""Rack shapes: threads and trustee threads per machine, slot numbering, the 16-bit limit
(SPEC.md section 1.2, [SHAPE-1] .. [SHAPE-5], [LIM-3]).

A machine runs `T` kernel threads; every thread is a client, and the machine says which of them are
trustees (all of them by default). Slots exist for (client thread on another machine, local trustee
thread) pairs. Every machine numbers its slot ids by one formula over the whole rack ([SHAPE-2]):

* request slots, in order of (client machine p, client thread c, local trustee thread t), all p;
* then response slots, in order of (local client thread c, trustee machine p, trustee thread t).

The ids of same-machine pairs (p = this machine) are reserved: never announced, never written by a
peer; the reference runtime uses them for same-machine delegation. A machine `m` so needs
`N_m = (sum of T) * R_m + T_m * (sum of R)` ids, and a shape fits when every `N_m <= 65536`
([LIM-3]). For a rack of `M` machines of `T` threads, all trustees, the numbering is the one of
earlier drafts: `(p*T + c)*T + t`, then `M*T*T + (c*M + p)*T + t`.

Pure code: no runtime, no I/O. The hello's `"trustees"` key ([SHAPE-4]) is encoded and checked here.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from typing import Any

import attrs

from .errors import ErrorCode, LocalProtocolError, RemoteProtocolError, show

#: [LIM-3], [SLOT-5]: slot ids are 16 bits
SLOT_IDS = 1 << 16
MAX_THREADS = 0xFFFF


def ranges_of(trustees: Iterable[int]) -> list[list[int]]:
    """The canonical `"trustees"` value of a set of thread indices ([SHAPE-4]): maximal runs
    `[first, count]` in increasing order, so runs never touch or overlap."""
    out: list[list[int]] = []
    for t in sorted(set(trustees)):
        if out and out[-1][0] + out[-1][1] == t:
            out[-1][1] += 1
        else:
            out.append([t, 1])
    return out


def _uint(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool) and x >= 0


def trustees_from_ranges(value: Any, threads: int) -> tuple[int, ...]:
    """The trustee threads a hello's `"trustees"` names, checked ([SHAPE-4], [DEC-5] step 9):
    an array of `[first, count]` pairs of non-negative integers with `count >= 1`, each run
    inside `0 .. threads-1`, runs in increasing order with a gap between any two. Anything else
    is BAD_HEADER."""
    def bad(why: str) -> RemoteProtocolError:
        return RemoteProtocolError(ErrorCode.BAD_HEADER, "SHAPE-4", f"trustees {show(value)}: {why}")

    if not isinstance(value, list):
        raise bad("not an array of [first, count] runs")
    out: list[int] = []
    end = -1  # one past the previous run; the next run must start after a gap
    for run in value:
        if not (isinstance(run, list) and len(run) == 2 and _uint(run[0]) and _uint(run[1])):
            raise bad("a run is not [first, count] of non-negative integers")
        first, count = run
        if count < 1:
            raise bad("a run of no threads")
        if first <= end:
            raise bad("runs not in increasing order with a gap between them")
        if first + count > threads:
            raise bad(f"a run past thread {threads - 1}")
        out.extend(range(first, first + count))
        end = first + count
    return tuple(out)


@attrs.frozen(slots=True)
class MachineShape:
    """One machine: `threads` kernel threads, `trustees` the sorted indices of its trustee threads."""

    threads: int
    trustees: tuple[int, ...]

    @classmethod
    def of(cls, threads: int, trustees: Iterable[int] | int | None = None) -> MachineShape:
        """`trustees`: None for all threads, an int `r` for threads `0 .. r-1`, or the indices."""
        if isinstance(trustees, bool) or not (isinstance(threads, int) and 1 <= threads <= MAX_THREADS):
            raise LocalProtocolError(ErrorCode.BAD_ARGUMENT, "SHAPE-1",
                                     f"a machine runs 1 .. {MAX_THREADS} threads, not {threads!r}")
        if trustees is None:
            ts: tuple[int, ...] = tuple(range(threads))
        elif isinstance(trustees, int):
            if not 0 <= trustees <= threads:
                raise LocalProtocolError(ErrorCode.BAD_ARGUMENT, "SHAPE-1",
                                         f"{trustees} trustee threads on a machine of {threads}")
            ts = tuple(range(trustees))
        else:
            ts = tuple(sorted(set(trustees)))
            if ts and not (ts[0] >= 0 and ts[-1] < threads):
                raise LocalProtocolError(ErrorCode.BAD_ARGUMENT, "SHAPE-1",
                                         f"trustee threads {list(ts)} outside 0 .. {threads - 1}")
        return cls(threads, ts)

    @property
    def all_trustees(self) -> bool:
        return len(self.trustees) == self.threads

    def describe(self) -> str:
        r = len(self.trustees)
        if r == self.threads:
            return f"{self.threads} threads"
        if self.trustees == tuple(range(r)):
            return f"{self.threads} threads ({r} trustees)" if r else f"{self.threads} threads (no trustees)"
        return f"{self.threads} threads (trustees {ranges_of(self.trustees)})"


@attrs.frozen(slots=True)
class SlotUse:
    """What a slot id of machine `machine` is for ([SHAPE-3], the inverse of [SHAPE-2])."""

    is_request: bool  #: a request slot (a local trustee thread reads it) or a response slot
    local_thread: int  #: trustee thread (request slot) or client thread (response slot)
    peer_machine: int  #: client machine (request slot) or trustee machine (response slot)
    peer_thread: int  #: client thread (request slot) or trustee thread (response slot)


class RackShape:
    """The threads and trustee threads of every machine of a rack ([SHAPE-1])."""

    def __init__(self, machines: Sequence[MachineShape]) -> None:
        if not 1 <= len(machines) <= 0x10000:
            raise LocalProtocolError(ErrorCode.BAD_ARGUMENT, "SHAPE-1", f"{len(machines)} machines: 1 .. 65536")
        self.machines: tuple[MachineShape, ...] = tuple(machines)
        t = [m.threads for m in self.machines]
        r = [len(m.trustees) for m in self.machines]
        #: first global thread index of each machine (sum of T before it), and the total
        self.thread_base = [sum(t[:i]) for i in range(len(t))]
        self.total_threads = sum(t)
        #: sum of trustee counts before each machine, and the total
        self.trustee_base = [sum(r[:i]) for i in range(len(r))]
        self.total_trustees = sum(r)
        self._rank = [{th: k for k, th in enumerate(m.trustees)} for m in self.machines]

    @classmethod
    def uniform(cls, machines: int, threads: int, trustees: Iterable[int] | int | None = None) -> RackShape:
        one = MachineShape.of(threads, trustees)
        return cls([one] * machines)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RackShape) and other.machines == self.machines

    def __hash__(self) -> int:
        return hash(self.machines)

    def __len__(self) -> int:
        return len(self.machines)

    def __getitem__(self, m: int) -> MachineShape:
        return self.machines[m]

    def describe(self) -> str:
        """`2 x 32 threads (6 trustees) + 4 x 192 threads (no trustees)`: runs of equal machines."""
        parts: list[str] = []
        runs: list[tuple[MachineShape, int]] = []
        for m in self.machines:
            if runs and runs[-1][0] == m:
                runs[-1] = (m, runs[-1][1] + 1)
            else:
                runs.append((m, 1))
        for m, n in runs:
            parts.append(f"{n} x {m.describe()}")
        return " + ".join(parts)

    # -- [SHAPE-2] numbering and [SHAPE-3] its inverse ---------------------------------------

    def trustee_rank(self, machine: int, thread: int) -> int:
        """Position of `thread` among `machine`'s trustee threads; KeyError if it is none."""
        return self._rank[machine][thread]

    def is_trustee(self, machine: int, thread: int) -> bool:
        return thread in self._rank[machine]

    def request_count(self, machine: int) -> int:
        """Request slot ids `machine` reserves: one per (client thread of the rack, local trustee)."""
        return self.total_threads * len(self.machines[machine].trustees)

    def slot_count(self, machine: int) -> int:
        """`N_m`: every slot id `machine` reserves, request then response ([LIM-3])."""
        return self.request_count(machine) + self.machines[machine].threads * self.total_trustees

    def request_slot(self, machine: int, client_machine: int, client_thread: int, trustee_thread: int) -> int:
        """Id, on trustee machine `machine`, of the request slot of this pair ([SHAPE-2])."""
        g = self.thread_base[client_machine] + client_thread
        return g * len(self.machines[machine].trustees) + self._rank[machine][trustee_thread]

    def response_slot(self, machine: int, client_thread: int, trustee_machine: int, trustee_thread: int) -> int:
        """Id, on client machine `machine`, of the response slot of this pair ([SHAPE-2])."""
        return (self.request_count(machine) + client_thread * self.total_trustees
                + self.trustee_base[trustee_machine] + self._rank[trustee_machine][trustee_thread])

    def slot_use(self, machine: int, slot_id: int) -> SlotUse | None:
        """What slot id `slot_id` of `machine` is for; None past `N_m` ([SHAPE-3])."""
        if slot_id < 0 or slot_id >= self.slot_count(machine):
            return None
        mine = self.machines[machine]
        nreq = self.request_count(machine)
        if slot_id < nreq:
            g, k = divmod(slot_id, len(mine.trustees))
            p = bisect.bisect_right(self.thread_base, g) - 1
            return SlotUse(True, mine.trustees[k], p, g - self.thread_base[p])
        c, j = divmod(slot_id - nreq, self.total_trustees)
        # the last machine whose first trustee index is <= j (machines without trustees share
        # their base with the next machine, so bisect_right passes over them)
        p = bisect.bisect_right(self.trustee_base, j) - 1
        return SlotUse(False, c, p, self.machines[p].trustees[j - self.trustee_base[p]])

    # -- [LIM-3] ------------------------------------------------------------------------------

    def overflow(self) -> list[tuple[int, int]]:
        """(machine, N_m) of every machine whose slot ids do not fit 16 bits ([LIM-3])."""
        return [(m, n) for m in range(len(self.machines)) if (n := self.slot_count(m)) > SLOT_IDS]

    def check(self, what: str = "rack shape") -> None:
        """Raise LocalProtocolError (BAD_ARGUMENT, [LIM-3]) naming the limit, this shape and the
        largest shape like it that fits, when a machine needs more than 65536 slot ids."""
        over = self.overflow()
        if not over:
            return
        m, n = max(over, key=lambda x: x[1])
        raise LocalProtocolError(
            ErrorCode.BAD_ARGUMENT, "LIM-3",
            f"{what} {self.describe()} breaks the 16-bit slot id limit: machine {m} needs {n} slot ids "
            f"(sum of threads {self.total_threads} x its {len(self.machines[m].trustees)} trustees + its "
            f"{self.machines[m].threads} threads x {self.total_trustees} trustees in the rack), at most "
            f"{SLOT_IDS} fit; the largest that fits: {self.largest_fit()}",
        )

    def largest_fit(self) -> str:
        """The largest shape of this kind that fits [LIM-3], in words (for `check`'s message)."""
        ms = self.machines
        if all(x == ms[0] for x in ms):  # uniform: the most threads for this many machines
            r_all = ms[0].all_trustees
            r_prefix = ms[0].trustees == tuple(range(len(ms[0].trustees)))
            best = 0
            lo, hi = 1, ms[0].threads
            while lo <= hi:
                mid = (lo + hi) // 2
                r = mid if r_all else (min(len(ms[0].trustees), mid) if r_prefix else None)
                ok = r is not None and not RackShape.uniform(len(ms), mid, r).overflow()
                if ok:
                    best, lo = mid, mid + 1
                else:
                    hi = mid - 1
            if best:
                shape = RackShape.uniform(len(ms), best, best if r_all else min(len(ms[0].trustees), best))
                return f"{shape.describe()} (Rack({len(ms)}, {best}))" if r_all else shape.describe()
        return self._fewer_machines() or "none with these machines"

    def _fewer_machines(self) -> str:
        """Mixed shapes: the same kinds of machine, with as few of one kind removed as needed."""
        runs: list[tuple[MachineShape, int]] = []
        for m in self.machines:
            if runs and runs[-1][0] == m:
                runs[-1] = (m, runs[-1][1] + 1)
            else:
                runs.append((m, 1))
        best: RackShape | None = None
        for i, (_kind, n) in enumerate(runs):
            for keep in range(n - 1, 0, -1):
                trial = [(k, keep if j == i else c) for j, (k, c) in enumerate(runs)]
                shape = RackShape([k for k, c in trial for _ in range(c)])
                if not shape.overflow():
                    if best is None or len(shape) > len(best):
                        best = shape
                    break
        return best.describe() if best is not None else ""

"""The client side of a kernel thread: pending queues, batches, responses (thesis 3.2.4).

A fiber's request goes into the pending queue of its destination trustee; the thread's poller
sends each queue as one batch per request slot, as full as the slot allows ([SLOT-10]), only when
the slot's previous batch was answered ([FLOW-1]), fallback frames first ([FB-4]). Responses are
matched to the batch in flight on their slot, in request order ([RSP-2]).

Backpressure (thesis 3.2.4): the thread's queued requests, over all its trustees, are bounded by
`env.pending_limit`. The side never refuses a request; it says when it is `full`, and calls the
`when_room` callbacks once the poller has sent enough of the queue (or everything failed); the
API makes an `apply_then` fiber wait for that.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

from ..batch import BatchBuilder
from ..closures import Closure
from ..errors import DelegationError, ErrorCode, GossamerError, RemoteProtocolError
from ..fallback import FrameKind
from ..request import Request
from ..response import attach_response_payload
from ..slot import make_imm
from ..slot_state import ClientSlot, State
from ..trustee import unpack_result
from .env import Send, ThreadEnv

#: on_done(value, error): exactly one of them is meaningful
Done = Callable[[Any, GossamerError | None], None]

#: the clause that explains each entry-level error code a response can carry
ENTRY_CLAUSE = {
    ErrorCode.BAD_PROPERTY: "REQ-1",
    ErrorCode.MALFORMED_CBOR: "SER-2",
    ErrorCode.FALLBACK_TIMEOUT: "FB-5",
    ErrorCode.CLOSURE_RAISED: "ERR-2",
    ErrorCode.BAD_CAPTURE: "LAYOUT-4",
    ErrorCode.BAD_RESULT: "ERR-2",
    ErrorCode.BAD_FRAME: "FB-6",
    ErrorCode.OVERSIZE: "FB-6",
    ErrorCode.NESTED_APPLY: "ERR-5",
}


class Pending:
    """One request waiting to be sent or answered, and what to do with the answer."""

    __slots__ = ("closure", "on_done", "req")

    def __init__(self, req: Request, closure: Closure, on_done: Done) -> None:
        self.req = req
        self.closure = closure
        self.on_done = on_done


class Destination:
    """One (this client thread, trustee thread) pair: its slot, queue and batch in flight."""

    __slots__ = ("inflight", "machine", "queue", "req_slot", "resp_slot", "slot", "thread")

    def __init__(self, machine: int, thread: int, req_slot: int, resp_slot: int, slot: ClientSlot) -> None:
        self.machine = machine
        self.thread = thread
        self.req_slot = req_slot  # id on the trustee's machine
        self.resp_slot = resp_slot  # id on this machine
        self.slot = slot
        self.queue: deque[Pending] = deque()
        self.inflight: list[Pending] = []


class ClientSide:
    """The client half of one kernel thread, built from its `ThreadEnv` (no rack, no thread)."""

    def __init__(self, env: ThreadEnv) -> None:
        self.env = env
        self.dests: dict[tuple[int, int], Destination] = {}
        self.by_resp_slot: dict[int, Destination] = {}
        self.ready: list[Destination] = []  # destinations with queued requests, first-queued first
        self.outstanding = 0  # queued + in flight
        self.queued = 0  # queued, not yet sent: the pending queue's length
        self.peak_queued = 0  # the longest the pending queue has been
        self.pending_limit = env.pending_limit
        self._room_waiters: list[Callable[[], None]] = []
        self.stray_responses = 0  # responses that landed with no batch in flight ([LAND-8])
        self.batches_sent = 0
        self.requests_sent = 0
        self.answered = 0  # requests finished (answered or failed)

    def dest(self, machine: int, thread: int) -> Destination:
        d = self.dests.get((machine, thread))
        if d is None:
            env = self.env
            d = Destination(
                machine, thread,
                env.net.request_slot_at(machine, env.thread, thread),
                env.smap.response_slot(env.thread, machine, thread),
                ClientSlot(env.config),
            )
            self.dests[(machine, thread)] = d
            self.by_resp_slot[d.resp_slot] = d
        return d

    def submit(self, machine: int, thread: int, p: Pending) -> None:
        d = self.dest(machine, thread)
        if not d.queue:
            self.ready.append(d)
        d.queue.append(p)
        self.outstanding += 1
        self.queued += 1
        self.peak_queued = max(self.peak_queued, self.queued)

    @property
    def full(self) -> bool:
        """The pending queue holds `pending_limit` requests or more (never, when unbounded)."""
        limit = self.pending_limit
        return limit is not None and self.queued >= limit

    def when_room(self, callback: Callable[[], None]) -> None:
        """Call `callback()` once the pending queue is no longer full (at once if it is not)."""
        if self.full:
            self._room_waiters.append(callback)
        else:
            callback()

    def _release(self) -> None:
        if self._room_waiters and not self.full:
            waiters, self._room_waiters = self._room_waiters, []
            for callback in waiters:
                callback()

    def flush(self) -> list[Send]:
        """One batch for every idle slot that has queued requests ([FLOW-1], [SLOT-10]): what
        to send, in order; the caller sends each one's frames and then its image ([FB-4])."""
        if not self.ready:
            return []
        out = self._flush()
        self._release()
        return out

    def _flush(self) -> list[Send]:
        env = self.env
        me = (env.machine, env.thread)
        out: list[Send] = []
        keep: list[Destination] = []
        for d in self.ready:
            if d.slot.state is not State.IDLE:
                keep.append(d)
                continue
            builder = BatchBuilder(env.config, env.registry.shapes)
            q = d.queue
            batch: list[Pending] = []
            while q and builder.try_add(q[0].req):
                batch.append(q.popleft())
            seq = d.slot.begin_write([p.closure.result for p in batch])
            enc = builder.finish(seq, d.req_slot)
            d.inflight = batch
            out.append(Send(tuple((frame, me, d.machine) for frame in enc.frames), d.machine, d.req_slot,
                            enc.image, make_imm(d.req_slot, seq), d.resp_slot))
            self.batches_sent += 1
            self.requests_sent += len(batch)
            self.queued -= len(batch)
            if q:
                keep.append(d)
        self.ready = keep
        return out

    def on_response(self, slot_id: int, imm: int) -> None:
        """A response landed in one of our response slots ([RSP-1], [RSP-6])."""
        env = self.env
        d = self.by_resp_slot.get(slot_id)
        if d is None:  # [LAND-8], [SEC-4]: a slot this thread never used has no batch in flight either
            self.stray_responses += 1
            return
        if d.slot.state is not State.AWAITING:  # [LAND-8]: no batch in flight: discard and count
            self.stray_responses += 1
            return
        image = env.net.read_slot(slot_id)
        try:
            rb = d.slot.on_response(image, imm & 0xFFFF)
        except RemoteProtocolError as exc:
            # [RSP-6], [ERR-4]: no result of a rejected response is delivered; the calls of the
            # batch in flight (and those queued behind it: the slot stays unanswered, so it is
            # never written again) fail with the rejecting code instead of crashing the rack
            stuck = d.inflight + list(d.queue)
            self.queued -= len(d.queue)
            d.inflight = []
            d.queue.clear()
            if d in self.ready:
                self.ready.remove(d)
            self.outstanding -= len(stuck)
            for p in stuck:
                self._finish(p, None, DelegationError(exc.code, exc.clause, f"response rejected: {exc.message}"))
            self._release()
            return
        batch, d.inflight = d.inflight, []
        self.outstanding -= len(batch)
        if d.queue and d not in self.ready:
            self.ready.append(d)
        if rb.status:  # [RSP-5] the whole batch was rejected
            code = ErrorCode(rb.status)
            for p in batch:
                self._finish(p, None, DelegationError(code, "RSP-5", f"batch rejected by its trustee: {rb.detail}"))
            return
        env.fallback.discard_stale(env.machine, int(FrameKind.RESPONSE), slot_id, rb.seq)
        for i, (p, r) in enumerate(zip(batch, rb.responses, strict=True)):
            if r.status == ErrorCode.FALLBACK:
                got = env.fallback.take(env.machine, (int(FrameKind.RESPONSE), slot_id, rb.seq, i),
                                        (env.machine, env.thread, d.machine))
                if isinstance(got, ErrorCode):
                    self._finish(p, None, DelegationError(got, ENTRY_CLAUSE.get(got, "FB-5"),
                                                          "the response payload never arrived"))
                    continue
                try:
                    r = attach_response_payload(r, got, p.closure.result)
                except RemoteProtocolError as exc:
                    # A FALLBACK stub does not say whether the entry was OK or an error (SPEC
                    # gap, reported): an error detail that overflowed lands here.
                    self._finish(p, None, DelegationError(exc.code, exc.clause, exc.message))
                    continue
            if r.status == ErrorCode.OK:
                try:
                    value = unpack_result(p.closure.result, r)
                except GossamerError as exc:
                    self._finish(p, None, DelegationError(ErrorCode.BAD_RESULT, exc.clause, exc.message))
                    continue
                self._finish(p, value, None)
            else:
                code = ErrorCode(r.status)
                self._finish(p, None, DelegationError(code, ENTRY_CLAUSE.get(code, "ERR-2"),
                                                      f"{p.closure.name}: {r.detail()}"))

    def _finish(self, p: Pending, value: Any, error: GossamerError | None) -> None:
        self.answered += 1
        try:
            p.on_done(value, error)
        except BaseException as exc:  # an apply_then callback raised: the thread "panics"
            self.env.on_crash(f"callback of {p.closure.name} on {self.env.label} raised", exc)

    def fail_all(self, error: GossamerError) -> int:
        """Fail everything queued or in flight (fate sharing); returns how many failed."""
        n = 0
        for d in self.dests.values():
            items = list(d.inflight) + list(d.queue)
            d.inflight = []
            d.queue.clear()
            for p in items:
                n += 1
                self._finish(p, None, error)
        self.ready = []
        self.outstanding = 0
        self.queued = 0
        self._release()
        return n

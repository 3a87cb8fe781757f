"""The NIC's own state: queue pairs, completion queues, memory regions, and the records in them.

These are what the transport operates on.  The pyverbs facade holds one of each (``QP`` holds a
``QueuePair``, ``CQ`` a ``CompletionQueue``, ``MR`` a ``Region``) and translates calls and
values; nothing here knows pyverbs.  Fields are public: the transport modules read and write
them directly, and the machine and the fabric own the objects (``Machine.qps``, ``Machine.mrs``).

The records in the queues (``Wqe``, ``Rqe``, ``Completion``) are plain tuples whose fields are
named here, once, and read by unpacking into named locals (no index reads).  They are not
``NamedTuple``s on purpose: one is built per posted WR, and building a tuple subclass instance
costs about five times a tuple literal, measured as a fifth of the RDMA WRITE rate
(benchmarks/nic_emu_rate.py).  mypy checks the arity and types of every unpacking.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

from nic_emu.constants import EVENT_SRQ_LIMIT_REACHED, RESET

if TYPE_CHECKING:
    from nic_emu.fabric import Fabric, Machine

#: One scatter/gather element: (address, length, lkey).
Sge = tuple[int, int, int]
#: PSNs are 24 bits (IB spec 9.7.1).
PSN_MASK = 0xFFFFFF


def npkts(length: int, mtu: int) -> int:
    """Packets of a message (one for an empty one)."""
    return (length + mtu - 1) // mtu if length > mtu else 1

#: sizeof(struct ib_sge): rxe sizes a send WQE's data area in SGEs of this many bytes
SGE_BYTES = 16


def queue_slots(n: int) -> int:
    """The WRs a queue asked for ``n`` holds on rxe: ``roundup_pow_of_two(n + 1) - 1``
    (rxe_queue.c rxe_queue_init: one slot stays free, "num_slots = roundup_pow_of_two(*num_elem
    + 1)", and "*num_elem = num_slots - 1")."""
    return (1 << n.bit_length()) - 1


def rounded_caps(
    max_send_wr: int, max_recv_wr: int, max_send_sge: int, max_recv_sge: int, max_inline: int
) -> tuple[int, int, int, int, int]:
    """The capabilities rxe gives a QP asked for these (rxe_qp.c rxe_init_sq / rxe_init_rq):
    the send WQE's data area is ``max(max_send_sge * 16, max_inline_data)`` bytes, which is both
    the inline limit and, in 16-byte SGEs, the SGE limit; each WR count becomes
    ``queue_slots``; the receive SGE count stays as asked.  ``ibv_create_qp`` returns these in
    the init attributes and ``ibv_query_qp`` reports them."""
    area = max(max_send_sge * SGE_BYTES, max_inline)
    return (queue_slots(max_send_wr), queue_slots(max_recv_wr), area // SGE_BYTES, max_recv_sge,
            area)


class UdDest(NamedTuple):
    """Where a UD send goes (from its address handle and the WR's remote QPN and Q_Key)."""

    dgid: bytes
    qpn: int
    qkey: int
    sgid_index: int
    hop_limit: int
    traffic_class: int


#: A send work queue element, the WR as the NIC keeps it once posted:
#: ``(wr_id, opcode, signaled, sges, length, remote_addr, rkey, imm, compare_add, swap, inline,
#: ud)``; ``length`` is the SGEs' total, ``inline`` the payload copied at post time
#: (IBV_SEND_INLINE) or None, ``ud`` the destination of a UD send or None.
Wqe = tuple[int, int, bool, "tuple[Sge, ...]", int, int, int, int, int, int, "bytes | None",
            "UdDest | None"]


#: A receive work queue element: ``(wr_id, sges, capacity)``, capacity the SGEs' total.
Rqe = tuple[int, "tuple[Sge, ...]", int]

#: A work completion as the NIC reports it: ``(wr_id, status, opcode, vendor_err, byte_len,
#: qp_num, src_qp, imm_data, wc_flags)``, the order of ``WC``'s constructor, which the pyverbs
#: edge calls with it (``WC(*completion)``).
Completion = tuple[int, int, int, int, int, int, int, int, int]


def completion(
    wr_id: int, status: int, opcode: int, byte_len: int, qp_num: int, src_qp: int = 0,
    imm_data: int = 0, wc_flags: int = 0,
) -> Completion:
    return (wr_id, status, opcode, 0, byte_len, qp_num, src_qp, imm_data, wc_flags)


class CompletionQueue:
    """A CQ of ``depth`` entries.  ``notify``, if set, runs after each completion is queued (the
    pyverbs facade uses it for completion channels)."""

    __slots__ = ("depth", "entries", "machine", "notify", "overflowed")

    def __init__(self, machine: Machine, depth: int) -> None:
        self.machine = machine
        self.depth = depth
        self.entries: deque[Completion] = deque()
        self.notify: Callable[[], None] | None = None
        #: Set when a completion arrived with the queue full (ibv_poll_cq(3) "CQ overrun").
        self.overflowed = False


class SharedReceiveQueue(deque[Rqe]):
    """An SRQ: one receive queue several QPs take from, in posting order whoever consumes.

    A QP created with it uses it as its ``rq``, so every responder path takes from it unchanged.
    ``limit`` is the armed limit (0: disarmed).  As on rxe (rxe_resp.c get_srq_wqe), the limit
    is checked only when a responder takes a WQE: if fewer than ``limit`` remain, the limit is
    disarmed (set to 0) and IBV_EVENT_SRQ_LIMIT_REACHED goes on the machine's async event
    queue; arming a limit above the current count raises nothing until the next WQE is taken.
    """

    __slots__ = ("limit", "machine", "max_sge", "max_wr", "srq_num")

    def __init__(self, machine: Machine, max_wr: int, max_sge: int, limit: int) -> None:
        super().__init__()
        self.machine = machine
        self.max_wr = max_wr
        self.max_sge = max_sge
        self.limit = limit
        self.srq_num = -1

    def popleft(self) -> Rqe:
        rqe = super().popleft()
        limit = self.limit
        if limit and len(self) < limit:
            self.limit = 0
            self.machine.async_events.append((EVENT_SRQ_LIMIT_REACHED, self))
        return rqe


class Region:
    """Registered memory that a key names: an MR, or a bound memory window (``window`` is then
    the window object, and the range and access are the window's).

    ``mem`` is the allocation the region lies in, starting at address ``abase``; the region is
    ``[base, end)``; ``view`` is a memoryview of ``mem``.  ``pd`` is compared by identity only."""

    __slots__ = ("abase", "access", "base", "end", "key", "mem", "pd", "view", "window")

    def __init__(
        self, pd: object, abase: int, mem: bytearray, base: int, end: int, access: int,
        window: object = None,
    ) -> None:
        self.pd = pd
        self.abase = abase
        self.mem = mem
        self.view = memoryview(mem)
        self.base = base
        self.end = end
        self.access = access
        self.key = -1
        self.window = window


class QueuePair:
    """The NIC's queue pair: its queues, connection state, PSNs, retry state and counters.

    ``state`` is the true state (what a query reports and what the transport acts on);
    libibverbs' cached state is the facade's business.  ``peer`` is the machine the address
    vector names, ``dest_qp_num`` the remote QP."""

    __slots__ = (
        "access",
        "bytes_received",
        "bytes_sent",
        "completions",
        "dest_qp_num",
        "error_completions",
        "fabric",
        "machine",
        "max_dest_rd_atomic",
        "max_inline",
        "max_rd_atomic",
        "max_recv_sge",
        "max_recv_wr",
        "max_send_sge",
        "max_send_wr",
        "min_rnr_timer",
        "mtu",
        "pd",
        "peer",
        "qkey",
        "qp_num",
        "qp_type",
        "rcq",
        "recv_wrs",
        "retry_at",
        "retry_cnt",
        "rnr_retry",
        "rnr_tries",
        "rq",
        "rq_psn",
        "scheduled",
        "scq",
        "send_wrs",
        "sig_all",
        "sq",
        "sq_psn",
        "srq",
        "state",
        "timeout",
        "tries",
    )

    def __init__(
        self,
        machine: Machine,
        qp_type: int,
        pd: object,
        scq: CompletionQueue,
        rcq: CompletionQueue,
        sig_all: bool,
        max_send_wr: int,
        max_recv_wr: int,
        max_send_sge: int,
        max_recv_sge: int,
        max_inline: int,
        srq: SharedReceiveQueue | None = None,
    ) -> None:
        self.machine = machine
        self.fabric: Fabric = machine.fabric
        self.qp_type = qp_type
        self.pd = pd
        self.scq = scq
        self.rcq = rcq
        self.sig_all = sig_all
        self.max_send_wr = max_send_wr
        self.max_recv_wr = max_recv_wr
        self.max_send_sge = max_send_sge
        self.max_recv_sge = max_recv_sge
        self.max_inline = max_inline
        self.sq: deque[Wqe] = deque()
        #: with an SRQ, ``rq`` is the SRQ itself (shared, never flushed or cleared by this QP)
        self.srq = srq
        self.rq: deque[Rqe] = deque() if srq is None else srq
        self.scheduled = False
        self.qp_num = -1
        self.send_wrs = self.recv_wrs = self.bytes_sent = self.bytes_received = 0
        self.completions = self.error_completions = 0
        self.reset()

    def reset(self) -> None:
        """Back to RESET: attributes zeroed, queues emptied (counters kept)."""
        self.state = RESET
        self.access = 0
        self.qkey = 0
        self.mtu = 1024
        self.peer: Machine | None = None
        self.dest_qp_num = 0
        self.sq_psn = 0
        self.rq_psn = 0
        self.max_rd_atomic = 0
        self.max_dest_rd_atomic = 0
        self.retry_cnt = 0
        self.rnr_retry = 0
        #: the local ACK timeout and minimum RNR timer codes (ibv_modify_qp); only their
        #: relation matters (``rc_responder.rnr``)
        self.timeout = 0
        self.min_rnr_timer = 0
        self.tries = 0
        self.rnr_tries = 0
        self.retry_at = 0
        self.sq.clear()
        if self.srq is None:
            self.rq.clear()

    def counts(self) -> tuple[int, int, int, int, int, int]:
        """(send WRs, receive WRs, bytes sent, bytes received, completions, error completions)."""
        return (self.send_wrs, self.recv_wrs, self.bytes_sent, self.bytes_received,
                self.completions, self.error_completions)

    def __repr__(self) -> str:
        return f"<QueuePair {self.qp_num} type {self.qp_type} state {self.state}>"

"""The verbs transport: one protection domain and one registered slot region per remote machine,
one RC QP per (thread, remote machine), landing by RDMA WRITE WITH IMMEDIATE (SPEC.md section 2).

Written against the pyverbs API only, reached through the rack's `Network` (network.py: the
emulator or real `pyverbs`), so the same code runs over the emulated fabric and over Soft-RoCE.

* [LAND-1] every batch image is one RDMA WRITE WITH IMMEDIATE of exactly `L` bytes at offset 0 of
  its slot; [LAND-2] the immediate is `make_imm(slot_id, seq)`.
* [LAND-3] a slot is read only after its receive completion is polled: `poll` hands the owner
  thread `(slot_id, seq16)` and only then does the owner read the slot.
* [FLOW-4] each QP end keeps one receive WR posted per slot a WRITE on it can land in (our
  trustee threads' request slots of the peer's client thread, our client threads' response slots
  of the peer's trustee thread: `2 * T` when every thread of both is a trustee) and reposts one per
  receive completion.
* One RC QP per (thread, remote machine): thread `i` of machine `A` is connected to thread `i` of
  machine `B`. Both directions share it: `A.i`'s requests to any trustee on `B` and `B.i`'s
  responses to clients on `A` travel `A.i -> B.i`. Between machines of different sizes there are
  `max(T_A, T_B)` QPs ([SHAPE-5]); the smaller side's QPs past its threads only receive. A receive
  completion lands on the CQ of the thread that owns the QP (QP `i` of a smaller side: thread
  `i mod T`) and is routed in memory, by slot id, to the thread that owns the slot (threads of one
  machine share memory).
* [SEC-3] The slots announced to peer `p` (its client threads' request slots and our response
  slots for its trustee threads) live in a region of their own, registered in a PD of its own that
  holds exactly the QPs to `p` (and their staging and receive buffers); `p`'s hello carries that
  region's rkey and a `base` such that `base + id * S` lies in it. A WRITE from `p` anywhere else is
  refused by the NIC, so no peer can place bytes in a slot announced to another.
* Same-machine delegation bypasses the NIC: the image is copied into the slot and the completion
  queued for the owner directly, so local and remote pairs go through the same slot images.
"""

from __future__ import annotations

import errno
from collections import deque
from typing import Any

import attrs

from ..bootstrap import BootstrapReader, Hello, check_sender, hello_from_map
from ..errors import ErrorCode, LocalProtocolError, RemoteProtocolError
from ..shape import RackShape, ranges_of
from ..slot import SlotConfig, parse_imm
from .network import Network
from .slotmap import SlotMap

_IMM_RECV = 1 << 7  # IBV_WC_RECV: receive completions have this bit in their opcode
_RECV_RDMA_WITH_IMM = 129  # IBV_WC_RECV_RDMA_WITH_IMM: the only receive that names a batch


def names_a_batch(opcode: int) -> bool:
    """Whether a receive completion is a landing: only a WRITE WITH IMMEDIATE's ([LAND-8]); a
    SEND (with or without an immediate) is reposted, counted and otherwise ignored."""
    return opcode == _RECV_RDMA_WITH_IMM


@attrs.frozen(slots=True)
class LinkFailure:
    """What a poller saw when the fabric failed under it: the report of fate sharing."""

    machine: int
    thread: int
    peer: int | None  #: the remote machine of the failed QP, None when the local NIC died
    what: str

    def describe(self) -> str:
        where = f"machine {self.machine} thread {self.thread}"
        if self.peer is None:
            return f"machine {self.machine} crashed: its device is gone, seen by {where} ({self.what})"
        return f"{where}: connection to machine {self.peer} failed ({self.what})"


class PeerFailed(Exception):
    """Raised by the transport when a completion or a verb reports a failed peer or device."""

    def __init__(self, failure: LinkFailure) -> None:
        super().__init__(failure.describe())
        self.failure = failure


def _gid_text(raw: bytes) -> str:
    return ":".join(f"{raw[i]:02x}{raw[i + 1]:02x}" for i in range(0, 16, 2))


class MachineNet:
    """The NIC side of one machine of the rack."""

    def __init__(
        self, network: Network, device: str, index: int, machines: int, threads: int,
        config: SlotConfig, psn: int, shape: RackShape | None = None,
    ) -> None:
        v = network.verbs
        view = network.view
        e = v.enums
        self.network = network
        self.v = v
        self.index = index
        self.machines = machines
        self.threads = threads
        self.config = config
        #: every machine's threads and trustee threads ([SHAPE-1]); `threads` is this machine's
        self.shape = shape if shape is not None else RackShape.uniform(machines, threads)
        self.trustees = self.shape[index].trustees
        self.smap = SlotMap.of(self.shape, index)
        self.psn = psn & 0xFFFFFF
        self.ctx = v.device.Context(name=device)
        #: the local GID index: RoCE v2, IPv4-mapped, read from the device's GID table
        self.gid_index = network.gid_index(device)
        access = e.IBV_ACCESS_LOCAL_WRITE | e.IBV_ACCESS_REMOTE_WRITE
        # [SEC-3] one protection domain per peer machine: the slots announced to a peer live in a
        # memory region of their own, registered in that peer's PD, where its QPs live too; the NIC
        # refuses a WRITE through those QPs anywhere else (REM_ACCESS_ERR). Each PD also holds the
        # staging buffers and receive scratch its QPs post, since a QP may name only its PD's MRs.
        self.pds: dict[int, Any] = {}
        #: peer machine -> the MR of the slots announced to it ([SLOT-1] LOCAL_WRITE | REMOTE_WRITE)
        self.regions: dict[int, Any] = {}
        self.stages: dict[int, Any] = {}
        self.scratches: dict[int, Any] = {}
        #: peer machine -> (lowest slot id of its region, memoryview of the region, of its staging)
        self._spans: dict[int, tuple[int, memoryview, memoryview]] = {}
        size = config.slot_size
        for peer in range(machines):
            ids = self.slot_ids_for(peer)
            lo, n = (min(ids), max(ids) - min(ids) + 1) if ids else (0, 1)  # no trustee on either side
            if peer == index:  # same-machine pairs never touch the NIC ([LAND-1] local copy)
                self._spans[peer] = (lo, memoryview(bytearray(n * size)), memoryview(bytearray(0)))
                continue
            pd = v.pd.PD(self.ctx)
            self.pds[peer] = pd
            self.regions[peer] = v.mr.MR(pd, n * size, access)
            # Staging for outgoing images to this peer: one S-byte buffer per local slot of its
            # region; a write to a peer slot is staged at the id of the local slot of the same pair,
            # which has at most one write in flight.
            self.stages[peer] = v.mr.MR(pd, n * size, e.IBV_ACCESS_LOCAL_WRITE)
            self.scratches[peer] = v.mr.MR(pd, 64, e.IBV_ACCESS_LOCAL_WRITE)
            self._spans[peer] = (lo, view(self.regions[peer]), view(self.stages[peer]))
        self.gid: bytes = self._gid_bytes()
        # [SHAPE-5] max(T, T_peer) QPs to each peer: QP i belongs to thread i; on the side with fewer
        # threads, QPs i >= T belong to no thread and only receive (the peer's client thread i's
        # requests); their completions go to the CQ of thread i mod T and are routed by slot id.
        # [FLOW-4] QP i keeps one receive posted per slot a WRITE on it can land in: our trustee
        # threads' request slots of the peer's client thread i, and, if the peer's thread i is a
        # trustee, our client threads' response slots for it.
        self.recv_depths: dict[tuple[int, int], int] = {}
        #: a test hook (the wrong trustees): every QP keeps this many receives instead, when set
        self.recv_depth: int | None = None
        for peer in range(machines):
            if peer != index:
                theirs = self.shape[peer]
                for i in range(max(threads, theirs.threads)):
                    self.recv_depths[(i, peer)] = (len(self.trustees) * (i < theirs.threads)
                                                   + threads * (i in theirs.trustees))
        per_cq = [0] * threads
        for (i, _), depth in self.recv_depths.items():
            per_cq[i % threads] += depth + 4
        self.cqs = [v.cq.CQ(self.ctx, max(64, 2 * n + 16)) for n in per_cq]
        self.qps: dict[tuple[int, int], Any] = {}
        self.qp_of_num: dict[int, tuple[int, int]] = {}
        for (i, peer), depth in self.recv_depths.items():
            sends = len(self.shape[peer].trustees) + self.shape[peer].threads  # requests + responses
            cap = v.qp.QPCap(max_send_wr=2 * sends + 8, max_recv_wr=depth + 4, max_send_sge=1, max_recv_sge=1)
            cq = self.cqs[i % threads]
            init = v.qp.QPInitAttr(qp_type=e.IBV_QPT_RC, scq=cq, rcq=cq, cap=cap, sq_sig_all=0)
            qp = v.qp.QP(self.pds[peer], init)  # [SEC-3] in the peer's own PD
            self.qps[(i, peer)] = qp
            self.qp_of_num[qp.qp_num] = (i, peer)
        self.remote: dict[int, tuple[int, int]] = {}  # peer machine -> (slot base, rkey)
        #: peer machine -> its announced [BOOT-6] tables (absent: the peer numbers like SlotMap)
        self.peer_request_slots: dict[int, list[list[int]]] = {}
        self.peer_response_slots: dict[int, list[list[int]]] = {}
        self.inbox: list[deque[tuple[int, int]]] = [deque() for _ in range(threads)]
        #: slot id -> the number of bytes its last WRITE WITH IMMEDIATE carried (the completion's
        #: byte_len): the image is those bytes, nothing after them ([SLOT-9], [ADPT-13])
        self.landed_len: dict[int, int] = {}
        self.local_writes = 0
        self.remote_writes = 0
        self.unknown_slot_imms = 0
        #: immediates naming a slot announced to another machine than the QP's peer ([SEC-3], [SEC-4])
        self.foreign_imms = 0

    def _gid_bytes(self) -> bytes:
        g = self.ctx.query_gid(1, self.gid_index)  # the RoCE v2 (IPv4-mapped) address
        raw = getattr(g, "raw", None)
        if isinstance(raw, (bytes, bytearray)):
            return bytes(raw)
        return bytes.fromhex(str(g.gid).replace(":", ""))

    # -- slot memory ([SLOT-1], [SEC-3]) --------------------------------------------------------

    def slot_ids_for(self, peer: int) -> list[int]:
        """The ids of the slots announced to `peer` ([BOOT-6]): the request slots of its client
        threads to our trustee threads, then our client threads' response slots for its trustee
        threads. They are the slots of `peer`'s memory region ([SEC-3])."""
        smap, theirs = self.smap, self.shape[peer]
        req = [smap.request_slot(peer, ct, tt) for ct in range(theirs.threads) for tt in self.trustees]
        return req + [smap.response_slot(ct, peer, tt) for ct in range(self.threads) for tt in theirs.trustees]

    def region_span(self, peer: int) -> range:
        """The slot ids whose addresses ([BOOT-6]: `base + id * S`) lie in `peer`'s memory region:
        every id announced to it, and any id between them (their bytes there are never read)."""
        lo, mem, _ = self._spans[peer]
        return range(lo, lo + len(mem) // self.config.slot_size)

    def slot_view(self, slot_id: int) -> memoryview:
        """All `S` bytes of a slot, in the region of the peer it was announced to."""
        size = self.config.slot_size
        lo, mem, _ = self._spans[self.smap.owner(slot_id).peer_machine]
        off = (slot_id - lo) * size
        return mem[off : off + size]

    # -- bootstrap ([BOOT-1] .. [BOOT-3]) ------------------------------------------------------

    def hello_for(self, peer: int, fallback_port: int, fallback_secret: bytes | None = None) -> bytes:
        """The encoded hello this machine sends to `peer` (length-prefixed CBOR map), with the
        fallback secret its client threads will present to `peer` ([SEC-6]) when one is given."""
        smap = self.smap
        t = self.threads
        theirs = self.shape[peer]
        # [BOOT-6], [SHAPE-5] request_slots[c][k]: the peer's client thread c -> our k-th trustee
        # thread; response_slots[c][k]: our client thread c <- the peer's k-th trustee thread
        req = [[smap.request_slot(peer, ct, tt) for tt in self.trustees] for ct in range(theirs.threads)]
        rsp = [[smap.response_slot(ct, peer, tt) for tt in theirs.trustees] for ct in range(t)]
        ids = [i for row in req for i in row] + [i for row in rsp for i in row]
        hello = Hello(
            machine=self.index, threads=t, config=self.config,
            # [SHAPE-4] the key only when some thread is not a trustee (absent: all are)
            trustees=None if len(self.trustees) == t else self.trustees,
            rdma={
                "gid": self.gid,
                "qpns": [self.qps[(i, peer)].qp_num for i in range(max(t, theirs.threads))],
                "psn": self.psn,
                # [SEC-3] the peer's own region: slot i of it lies at base + i * S ([BOOT-6])
                "slots": {"base": self._base(peer), "rkey": self.regions[peer].rkey, "ids": ids},
                "request_slots": req,
                "response_slots": rsp,
                "fallback_port": fallback_port,
                **({} if fallback_secret is None else {"fallback_secret": fallback_secret}),
            },
        )
        return hello.encode()

    def _base(self, peer: int) -> int:
        """The `base` announced to `peer`: its region's address less `S` times its lowest slot id,
        so that `base + id * S` is the address of slot `id` in that region ([BOOT-6])."""
        base = int(self.regions[peer].buf) - self._spans[peer][0] * self.config.slot_size
        if base < 0:  # pragma: no cover - real and emulated heaps lie far above 64 K slots of 64 KiB
            raise ValueError(f"region for machine {peer} lies too low in memory to announce a base")
        return base

    def connect(self, peer: int, encoded_hello: bytes) -> Hello:
        """Bring this machine's QPs to `peer` to RTS from the peer's hello and post receives."""
        msgs = BootstrapReader().feed(encoded_hello)
        hello = hello_from_map(msgs[0])
        check_sender(hello, peer)  # [BOOT-11]
        theirs = self.shape[peer]
        if hello.threads != theirs.threads or hello.trustee_threads != theirs.trustees:
            # [SHAPE-5] the peer must be the machine the rack's shape describes
            raise RemoteProtocolError(
                ErrorCode.BAD_HEADER, "SHAPE-5",
                f"machine {peer}'s hello announces {hello.threads} threads, trustees "
                f"{ranges_of(hello.trustee_threads)}; the rack's shape gives it {theirs.describe()}")
        rdma = hello.rdma
        self.remote[peer] = (int(rdma["slots"]["base"]), int(rdma["slots"]["rkey"]))
        if "request_slots" in rdma and "response_slots" in rdma:  # [BOOT-6]
            self.peer_request_slots[peer] = [[int(i) for i in row] for row in rdma["request_slots"]]
            self.peer_response_slots[peer] = [[int(i) for i in row] for row in rdma["response_slots"]]
        gid = _gid_text(bytes(rdma["gid"]))
        for t in range(max(self.threads, self.shape[peer].threads)):  # [SHAPE-5]
            qp = self.qps[(t, peer)]
            self.network.connect_rc(qp, dest_qpn=int(rdma["qpns"][t]), dest_gid=gid, sq_psn=self.psn,
                       rq_psn=int(rdma["psn"]), sgid_index=self.gid_index, min_rnr_timer=1,
                       rnr_retry=3)  # [FLOW-4] means no RNR ever; a few retries expose a bug quickly
            for _ in range(self.recv_depths[(t, peer)] if self.recv_depth is None else self.recv_depth):
                self._post_recv(qp, peer)
        return hello

    def request_slot_at(self, peer: int, client_thread: int, trustee_thread: int) -> int:
        """Id, on machine `peer`, of the request slot of (our client thread, its trustee thread)."""
        table = self.peer_request_slots.get(peer)
        if table is None:
            return self.shape.request_slot(peer, self.index, client_thread, trustee_thread)
        row = table[client_thread]
        if not row:  # [BOOT-12]: the peer offers this client thread no request slot
            raise LocalProtocolError(ErrorCode.PEER_FAILED, "BOOT-12",
                                     f"machine {peer} offers client thread {client_thread} of machine {self.index} "
                                     "no request slot (an empty request_slots row)")
        return row[self.shape.trustee_rank(peer, trustee_thread)]

    def response_slot_at(self, peer: int, client_thread: int, trustee_thread: int) -> int:
        """Id, on machine `peer`, of the response slot of (its client thread, our trustee thread)."""
        table = self.peer_response_slots.get(peer)
        if table is None:
            return self.shape.response_slot(peer, client_thread, self.index, trustee_thread)
        return table[client_thread][self.shape.trustee_rank(self.index, trustee_thread)]

    def _post_recv(self, qp: Any, peer: int) -> None:
        v = self.v
        scratch = self.scratches[peer]  # in the PD of the QP to `peer` ([SEC-3])
        sge = v.wr.SGE(scratch.buf, 8, scratch.lkey)
        qp.post_recv(v.wr.RecvWR(wr_id=0, num_sge=1, sg=[sge]))

    # -- data path --------------------------------------------------------------------------

    def write(self, thread: int, dst: int, slot_id: int, image: bytes, imm: int, stage_slot: int) -> None:
        """Write a batch image into slot `slot_id` of machine `dst` ([LAND-1], [LAND-2])."""
        n = len(image)
        if dst == self.index:
            self.slot_view(slot_id)[:n] = image
            self.landed_len[slot_id] = n
            self.inbox[self.smap.owner(slot_id).local_thread].append((slot_id, imm))
            self.local_writes += 1
            return
        v = self.v
        e = v.enums
        size = self.config.slot_size
        lo, _, stage_mem = self._spans[dst]
        soff = (stage_slot - lo) * size  # the local slot of the pair lies in dst's region too
        stage_mem[soff : soff + n] = image
        base, rkey = self.remote[dst]
        stage = self.stages[dst]  # in dst's PD, like the QP it is posted on ([SEC-3])
        sge = v.wr.SGE(stage.buf + soff, n, stage.lkey)
        wr = v.wr.SendWR(wr_id=slot_id, opcode=e.IBV_WR_RDMA_WRITE_WITH_IMM, num_sge=1, sg=[sge],
                         imm_data=imm, send_flags=0)
        wr.set_wr_rdma(rkey, base + slot_id * size)
        try:
            self.qps[(thread, dst)].post_send(wr)
        except v.pyverbs_error.PyverbsError as exc:
            raise self._failure(thread, dst, exc) from None
        self.remote_writes += 1

    def _failure(self, thread: int, peer: int | None, exc: BaseException) -> PeerFailed:
        code = getattr(exc, "error_code", None)
        local = code == errno.EIO
        return PeerFailed(LinkFailure(self.index, thread, None if local else peer, str(exc)))

    def poll(self, thread: int) -> deque[tuple[int, int]]:
        """Poll this thread's CQ, route landed slots to their owners; this thread's arrivals.

        Returns (and empties) the thread's inbox of `(slot_id, imm)`; raises PeerFailed on any
        error completion (the peer or link is gone) or on a dead local device.
        """
        v = self.v
        try:
            n, wcs = self.cqs[thread].poll(64)
        except v.pyverbs_error.PyverbsError as exc:
            raise self._failure(thread, None, exc) from None
        if n:
            status_names = v.enums.ibv_wc_status
            for wc in wcs:
                key = self.qp_of_num.get(wc.qp_num)
                if wc.status != 0:
                    peer = key[1] if key else None
                    try:
                        what = status_names(wc.status).name
                    except ValueError:
                        what = f"status {wc.status}"
                    raise PeerFailed(LinkFailure(self.index, thread, peer, f"completion error {what}"))
                if wc.opcode & _IMM_RECV and key is not None:
                    self._post_recv(self.qps[key], key[1])  # [FLOW-4] one repost per receive completion
                    if not names_a_batch(wc.opcode):  # [LAND-8] a SEND names no batch: ignored
                        self.unknown_slot_imms += 1
                        continue
                    slot_id, _ = parse_imm(wc.imm_data)
                    if slot_id >= self.smap.count:  # [ERR-1] names no slot of ours: ignored
                        self.unknown_slot_imms += 1
                        continue
                    owner = self.smap.owner(slot_id)
                    if owner.peer_machine != key[1] or (not owner.is_request and owner.peer_thread != key[0]):
                        # [SEC-3] "a trustee MUST handle a landing on a request slot only when the
                        # completion arrived on a QP connected to the machine the slot was announced
                        # to"; [SEC-4] a response only on the QP of the trustee thread that owes it
                        # ([BOOT-8]: trustee thread t answers on its QP t)
                        self.foreign_imms += 1
                        continue
                    self.landed_len[slot_id] = wc.byte_len
                    self.inbox[owner.local_thread].append((slot_id, wc.imm_data))
        box = self.inbox[thread]
        if not box:
            return box
        self.inbox[thread] = deque()
        return box

    def check_alive(self, thread: int) -> None:
        """Raise PeerFailed if the local device is gone (the local process crashed)."""
        try:
            self.ctx.query_port(1)
        except self.v.pyverbs_error.PyverbsError as exc:
            raise self._failure(thread, None, exc) from None

    def read_slot(self, slot_id: int) -> memoryview:
        """The bytes the last WRITE into a slot carried ([LAND-3]: call only after its completion
        was polled). A header claiming more bytes than were written then decodes as TRUNCATED
        instead of reading what earlier batches left in the slot ([SLOT-9])."""
        size = self.config.slot_size
        n = min(size, self.landed_len.get(slot_id, size))
        return self.slot_view(slot_id)[:n]

    def close(self) -> None:
        """Release the device: QPs, MRs, CQs, the PD, then the context (each close is idempotent).

        Each object is closed by name rather than through `Context.close()`, which closes what
        its weak references still reach: during a garbage collection those are already cleared."""
        objs: list[Any] = [*getattr(self, "qps", {}).values(), *getattr(self, "regions", {}).values(),
                           *getattr(self, "stages", {}).values(), *getattr(self, "scratches", {}).values(),
                           *getattr(self, "cqs", ()), *getattr(self, "pds", {}).values(),
                           getattr(self, "ctx", None)]
        for obj in objs:
            close = getattr(obj, "close", None)
            if close is not None:
                close()

    def __del__(self) -> None:
        # Real pyverbs: a rack is a reference cycle (threads <-> rack), so the collector frees it,
        # and it tears a cycle's objects down in any order; a QP or MR freed after its context
        # segfaults (seen on rxe). Finalizers run before that, while every object is intact.
        network = getattr(self, "network", None)
        if network is not None and network.releases_on_collect() and hasattr(self, "qps"):
            self.close()

    def counters(self) -> Any:
        return self.network.counters(self.ctx)

    def qp_count(self) -> int:
        return len(self.qps)

"""A client and a trustee joined by one RC QP pair on nic_emu, stepped chunk by chunk.

The client writes encoded request batches (``gossamer.batch``) into the trustee's slot MR, each
as one RDMA WRITE WITH IMMEDIATE ([LAND-1], [LAND-2]), and waits for the trustee's response
WRITE WITH IMMEDIATE before it writes the slot again ([FLOW-1]).  The reference trustee reads the
slot only after polling the receive completion ([LAND-3]) and checks it with ``TrusteeSlot``
([LAND-5]); both ends repost one receive per completion ([FLOW-4]).

Mutants (each breaks one clause; tests/landing/test_landing.py must catch every one):

``TRUSTEE_MUTANTS`` (memory-polling trustees: they read the slot when its bytes look new,
without waiting for the completion; they still drain and repost receives):
  * ``header_only``: accepts as soon as the header carries the expected seq.
  * ``trailer_only``: accepts when the trailer (found through the header's length) carries the
    expected seq (HERD's last-word polling).
  * ``copy_before_canary``: copies the batch when the header is new, accepts that copy once the
    trailer canary matches too.
  * ``no_repost``: the reference trustee, except that it never reposts a receive ([FLOW-4]).

``CLIENT_MUTANTS``:
  * ``reuse_before_ack``: writes the next batch once its own WRITE completes, not once the
    response arrives ([FLOW-1]).
  * ``split_notify``: writes the image with a plain RDMA WRITE on one QP and announces it with a
    zero-length WRITE WITH IMMEDIATE on a second QP ([LAND-1]: one WRITE WITH IMMEDIATE on the QP
    that carries the data).

``run(scenario)`` is a pure function of the scenario (seed included): a failure prints the
scenario's ``repr``, which replays it exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import nic_emu
from gossamer.batch import RequestBatch, decode_request_batch, encode_request_batch
from gossamer.buffer import HEADER, U64
from gossamer.closures import Registry
from gossamer.errors import GossamerError
from gossamer.request import Request
from gossamer.slot import SlotConfig, make_imm, next_seq, parse_imm
from gossamer.slot_state import TrusteeSlot
from nic_emu.fabric import Placement
from nic_emu.provider import mr_view
from nic_emu.pyverbs import enums as e
from tests.nic_emu.helpers import Node, connect_pair, make_qp, open_node

TRUSTEE_MUTANTS = ("header_only", "trailer_only", "copy_before_canary", "no_repost")
CLIENT_MUTANTS = ("reuse_before_ack", "split_notify")
SLOT_ID = 3
PROPERTY = 0x1000


def _noop(*_: Any) -> None:
    return None


REGISTRY = Registry()
CLOSURE = REGISTRY.register(_noop, "landing:w", capture="u64", result="u64")


@dataclass(frozen=True)
class Scenario:
    """Everything a run depends on.  ``sizes[i]`` is the number of requests of batch ``i + 1``;
    ``salt`` varies the captured values (every value also names its seq and index, so that
    bytes of different batches never look alike)."""

    model: str = "any"
    chunk: int = 64
    seed: int = 0
    sizes: tuple[int, ...] = (4, 4)
    salt: int = 0
    trustee: str = "reference"
    client: str = "reference"
    recv_depth: int = 2
    slot_size: int = 1024
    early_completion: float = 0.5


@dataclass
class Outcome:
    accepted: list[tuple[int, tuple[int, ...]]] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    ticks: int = 0

    @property
    def ok(self) -> bool:
        return not self.violations


def values_of(seq: int, n: int, salt: int) -> tuple[int, ...]:
    return tuple((seq << 40) | (i << 24) | (salt & 0xFFFFFF) for i in range(n))


def _captured(batch: RequestBatch) -> tuple[int, ...]:
    return tuple(U64.unpack(bytes(r.captured))[0] for r in batch.requests)


class _Ends:
    """The verbs objects of one run."""

    def __init__(self, v: ModuleType, sc: Scenario, nbatches: int) -> None:
        self.v = v
        self.c: Node = open_node(v, "emu0")
        self.t: Node = open_node(v, "emu1")
        self.qc = make_qp(self.c, e.IBV_QPT_RC, max_send_wr=16, max_recv_wr=16)
        self.qt = make_qp(self.t, e.IBV_QPT_RC, max_send_wr=16, max_recv_wr=16)
        connect_pair(self.c, self.qc, self.t, self.qt)
        self.staging = self.c.mr(sc.slot_size * nbatches)  # one staging image per batch
        self.resp = self.c.mr(64)  # the client's response slot
        self.slot = self.t.mr(sc.slot_size)  # the trustee's request slot
        self.ack = self.t.mr(64)
        self.qc2 = self.qt2 = None
        if sc.client == "split_notify":
            self.qc2 = make_qp(self.c, e.IBV_QPT_RC, max_send_wr=16, max_recv_wr=16)
            self.qt2 = make_qp(self.t, e.IBV_QPT_RC, max_send_wr=16, max_recv_wr=16)
            connect_pair(self.c, self.qc2, self.t, self.qt2)

    def recv(self, qp: Any, mr: Any, wr_id: int) -> None:
        v = self.v
        qp.post_recv(v.wr.RecvWR(wr_id=wr_id, num_sge=1, sg=[v.wr.SGE(mr.buf, 0, mr.lkey)]))

    def write(
        self, qp: Any, src: Any, off: int, length: int, dst: Any, imm: int | None,
        signaled: bool,
    ) -> None:
        v = self.v
        op = e.IBV_WR_RDMA_WRITE if imm is None else e.IBV_WR_RDMA_WRITE_WITH_IMM
        wr = v.wr.SendWR(wr_id=off, opcode=op, num_sge=1,
                         sg=[v.wr.SGE(src.buf + off, length, src.lkey)],
                         imm_data=imm or 0,
                         send_flags=e.IBV_SEND_SIGNALED if signaled else 0)
        wr.set_wr_rdma(dst.rkey, dst.buf)
        qp.post_send(wr)


def run(sc: Scenario, v: ModuleType | None = None) -> Outcome:
    """Run one scenario to the end (or to its tick budget) and report what the trustee accepted
    and every violation of "never a torn or stale batch, never a lost batch, never a hang"."""
    if v is None:
        from nic_emu.provider import verbs

        v = verbs()
    cfg = SlotConfig(slot_size=sc.slot_size)
    fabric = nic_emu.Fabric(seed=sc.seed, machines=2, placement=Placement(
        model=sc.model, chunk=sc.chunk, early_completion=sc.early_completion))
    out = Outcome()
    with nic_emu.use_fabric(fabric):
        ends = _Ends(v, sc, len(sc.sizes))
        images = []
        for i, n in enumerate(sc.sizes):
            seq = i + 1
            reqs = [Request(PROPERTY, CLOSURE.id, U64.pack(x)) for x in values_of(seq, n, sc.salt)]
            img = encode_request_batch(seq, reqs, REGISTRY.shapes, cfg, SLOT_ID).image
            mr_view(ends.staging)[i * sc.slot_size : i * sc.slot_size + len(img)] = img
            images.append(img)
        client = _Client(sc, ends, images, out)
        trustee = _make_trustee(sc, ends, cfg, out)
        budget = 400 + 40 * len(sc.sizes) * (sc.slot_size // max(sc.chunk, 1) + 1)
        for tick in range(budget):
            fabric.step()
            trustee()
            client.step()
            if client.finished:
                out.ticks = tick
                break
        else:
            out.ticks = budget
            out.violations.append(
                f"hang: {client.acked} of {len(sc.sizes)} batches answered after {budget} ticks")
    want = [(i + 1, values_of(i + 1, n, sc.salt)) for i, n in enumerate(sc.sizes)]
    for got, exp in zip(out.accepted, want, strict=False):
        if got != exp:
            out.violations.append(f"accepted seq {got[0]} with {got[1]}, but batch {exp[0]} "
                                  f"was {exp[1]} (torn or stale)")
            break
    if len(out.accepted) < len(want) and not any(x.startswith("hang") for x in out.violations):
        out.violations.append(f"lost: only {len(out.accepted)} of {len(want)} batches accepted")
    return out


class _Client:
    """A client of one slot: the reference, or one of ``CLIENT_MUTANTS``."""

    def __init__(self, sc: Scenario, ends: _Ends, images: list[bytes], out: Outcome) -> None:
        self.sc, self.ends, self.images, self.out = sc, ends, images, out
        self.next = 0  # index of the next batch to write
        self.acked = 0
        self.can_write = True
        for k in range(sc.recv_depth):  # [FLOW-4]: receives for the responses
            ends.recv(ends.qc, ends.resp, k)

    @property
    def finished(self) -> bool:
        return self.acked == len(self.images)

    def step(self) -> None:
        ends, sc = self.ends, self.sc
        _, rwcs = ends.c.rcq.poll(8)
        for wc in rwcs:
            if wc.status:
                self.out.violations.append(f"client receive failed: status {wc.status}")
                continue
            ends.recv(ends.qc, ends.resp, wc.wr_id)  # [FLOW-4] repost
            _, seq16 = parse_imm(wc.imm_data)
            if seq16 == (self.acked + 1) & 0xFFFF:
                self.acked += 1
                if sc.client != "reuse_before_ack":
                    # [FLOW-1] "A client MUST NOT write a slot again until it has received the
                    # response batch ... whose seq equals the seq of the batch it last wrote"
                    self.can_write = True
        _, swcs = ends.c.scq.poll(8)
        for wc in swcs:
            if wc.status:
                self.out.violations.append(f"client write failed: status {wc.status}")
            elif sc.client == "reuse_before_ack" and wc.wr_id == (self.next - 1) * sc.slot_size:
                self.can_write = True  # mutant: its own completion is not the trustee's ack
        if self.can_write and self.next < len(self.images):
            i = self.next
            self.next += 1
            self.can_write = False
            seq = i + 1
            off, ln = i * sc.slot_size, len(self.images[i])
            if sc.client == "split_notify":
                assert ends.qc2 is not None
                ends.write(ends.qc, ends.staging, off, ln, ends.slot, None, False)
                ends.write(ends.qc2, ends.staging, off, 0, ends.slot, make_imm(SLOT_ID, seq), True)
            else:
                # [LAND-1] one WRITE WITH IMMEDIATE of exactly L bytes at offset 0, on RC;
                # [LAND-2] immediate = (slot_id << 16) | (seq & 0xFFFF).
                ends.write(ends.qc, ends.staging, off, ln, ends.slot, make_imm(SLOT_ID, seq), True)


@dataclass
class _MutantState:
    expected: int = 1
    snap: bytes = b""


def _make_trustee(sc: Scenario, ends: _Ends, cfg: SlotConfig, out: Outcome) -> Callable[[], None]:
    slot = TrusteeSlot(cfg, REGISTRY.shapes)
    view = mr_view(ends.slot)
    qps = [ends.qt] if ends.qt2 is None else [ends.qt, ends.qt2]
    for qp in qps:
        for k in range(sc.recv_depth):  # [FLOW-4]: one receive per batch that can arrive
            ends.recv(qp, ends.slot, k)
    state = _MutantState()

    def respond(seq: int) -> None:
        # The response is the acknowledgement that the trustee has finished reading ([FLOW-1]).
        ends.write(ends.qt, ends.ack, 0, 8, ends.resp, make_imm(SLOT_ID, seq), False)

    def accept(batch: RequestBatch) -> None:
        out.accepted.append((batch.seq, _captured(batch)))
        respond(batch.seq)

    def drain() -> list[Any]:
        """Poll the receive CQ; repost a receive for each completion ([FLOW-4])."""
        _, wcs = ends.t.rcq.poll(8)
        for wc in wcs:
            if wc.status:
                out.violations.append(f"trustee receive failed: status {wc.status}")
            elif sc.trustee != "no_repost":
                qp = ends.qt2 if ends.qt2 is not None and wc.qp_num == ends.qt2.qp_num else ends.qt
                ends.recv(qp, ends.slot, wc.wr_id)
        return [wc for wc in wcs if not wc.status]

    def reference() -> None:
        for wc in drain():
            _, seq16 = parse_imm(wc.imm_data)
            # [LAND-3] the slot is read only now, after its receive completion was polled.
            got = slot.on_landed(bytes(view), seq16)
            seq = int.from_bytes(bytes(view[0:4]), "little")
            if isinstance(got, RequestBatch):
                out.accepted.append((got.seq, _captured(got)))
            else:
                out.violations.append(f"trustee rejected the batch it was told about "
                                      f"(imm seq {seq16:#x}, header seq {seq})")
            respond(seq16)
            slot.responded()

    def header_seq(at: int = 0) -> tuple[int, int]:
        seq, words, _, _ = HEADER.unpack_from(view, at)
        return seq, words * 8

    def decode(image: bytearray) -> None:
        try:
            batch = decode_request_batch(bytes(image), REGISTRY.shapes, cfg, state.expected, None)
        except GossamerError as err:
            out.violations.append(f"{sc.trustee}: read a batch it could not decode: {err}")
            batch = None
        state.expected = next_seq(state.expected)
        if batch is not None:
            accept(batch)
        else:
            respond(state.expected - 1)

    def header_only() -> None:
        drain()
        seq, length = header_seq()
        if seq == state.expected and 16 <= length <= sc.slot_size:
            image = bytearray(view[:length])
            image[-8:] = image[:8]  # the mutation: the trailer is never looked at
            decode(image)

    def trailer_only() -> None:
        drain()
        _, length = header_seq()
        if 16 <= length <= sc.slot_size:
            tseq, _ = header_seq(length - 8)
            if tseq == state.expected:
                image = bytearray(view[:length])
                image[:8] = image[-8:]  # the mutation: the trailer is trusted for the header
                decode(image)

    def copy_before_canary() -> None:
        drain()
        seq, length = header_seq()
        if not state.snap and seq == state.expected and 16 <= length <= sc.slot_size:
            state.snap = bytes(view[:length])  # the mutation: copied before the canary
        snap = state.snap
        if snap:
            tseq, _ = header_seq(len(snap) - 8)
            if tseq == state.expected:
                image = bytearray(snap)
                image[-8:] = view[len(snap) - 8 : len(snap)]
                state.snap = b""
                decode(image)

    table: dict[str, Callable[[], None]] = {
        "reference": reference, "no_repost": reference, "header_only": header_only,
        "trailer_only": trailer_only, "copy_before_canary": copy_before_canary,
    }
    return table[sc.trustee]

"""Wrong trustees: the reference trustee of `reference_trustee` with one other reading each.

Each class is a `ReferenceTrustee` session that takes, on purpose, the reading of one live clause
that SPEC.md rules out (or announces what the suite cannot drive). `Server(..., trustee=cls)`
serves it; `tests/conformance/test_live_mutants.py` runs the live target against it over nic_emu
in one process and asserts that it fails the case named in `caught_by` (or is refused while the
target opens, naming `refused`), while the honest reference passes the same cases.

Most are patches of the session's own objects (its rack's `MachineNet`, `FallbackHub`, trustee
tables) made in `__init__`; a few replace a function of `gossamer/` for as long as `active()` is
entered (the test enters it around the whole run; the suite's side uses none of them).

`python -m conformance.mutants.live --wrong NAME --device DEV ...` serves one on a device (the
options of `python -m conformance.peers.reference_trustee`).
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections import deque
from collections.abc import Iterator
from typing import Any

import attrs

import gossamer.runtime.trustee_side
import gossamer.runtime.verbs
import gossamer.slot_state
import gossamer.trust_ids
import gossamer.trustee
from gossamer.bootstrap import BootstrapReader
from gossamer.buffer import align8
from gossamer.errors import ErrorCode, RemoteProtocolError
from gossamer.fallback import FrameKind
from gossamer.slot import SlotConfig

from ..live_bootstrap import encode
from ..peers import reference_trustee
from ..peers.reference_trustee import ReferenceTrustee
from . import patched


def bswap32(x: int) -> int:
    return int.from_bytes((x & 0xFFFFFFFF).to_bytes(4, "little"), "big")


class WrongTrustee(ReferenceTrustee):
    """A reference session with one deliberate misreading."""

    description = ""
    #: case ids this trustee must fail (FAIL or ERROR), each message naming `clause`
    caught_by: tuple[str, ...] = ()
    #: or: the target refuses it while opening, its message naming this clause
    refused: str = ""
    clause = ""
    #: Server keyword arguments (threads, config) this trustee needs
    server: dict[str, Any] = {}

    @property
    def net(self) -> Any:
        return self.rack.machines[0].net

    @classmethod
    def patches(cls) -> dict[tuple[object, str], Any]:
        return {}

    @classmethod
    @contextlib.contextmanager
    def active(cls) -> Iterator[None]:
        with patched(cls.patches()):
            yield


class _HelloEdit(WrongTrustee):
    def edit(self, m: dict[str, Any]) -> None:
        raise NotImplementedError

    def hello(self) -> bytes:
        m = BootstrapReader().feed(super().hello())[0]
        self.edit(m)
        return encode(m)


class VersionsTwo(_HelloEdit):
    description = "announces versions [2, 2]: no version in common with version 1"
    refused = clause = "BOOT-1"

    def edit(self, m: dict[str, Any]) -> None:
        m["versions"] = [2, 2]


class NoFallbackPort(_HelloEdit):
    description = "a hello without fallback_port"
    refused = clause = "BOOT-3"

    def edit(self, m: dict[str, Any]) -> None:
        del m["fallback_port"]


class StraySlot(_HelloEdit):
    description = "request_slots names a slot id that is not in slots.ids"
    refused = clause = "BOOT-6"

    def edit(self, m: dict[str, Any]) -> None:
        m["request_slots"][0][0] = 999


class DuplicateSlot(_HelloEdit):
    description = "two (client, trustee) pairs share one request slot"
    refused = clause = "BOOT-6"

    def edit(self, m: dict[str, Any]) -> None:
        m["request_slots"][0][1] = m["request_slots"][0][0]


class ThreadsOne(WrongTrustee):
    description = "one thread (conformant, but the catalogue needs two)"
    refused = clause = "ADPT-13"
    server = {"threads": 1}


class Slot2048(WrongTrustee):
    description = "S = 2048 (conformant, but the catalogue is written for 1024)"
    refused = clause = "ADPT-13"
    server = {"config": SlotConfig(slot_size=2048, fallback_timeout_ms=250)}


class TableK8(WrongTrustee):
    description = "K = 8 (conformant, but the catalogue is written for 4)"
    refused = clause = "ADPT-13"
    server = {"config": SlotConfig(table_k=8, fallback_timeout_ms=250)}


class ImmByteSwapped(WrongTrustee):
    description = "reads and writes the immediate big-endian, as C code with htonl()/ntohl() on imm_data does"
    refused = clause = "GEN-1"

    def __init__(self, *a: Any, **kw: Any) -> None:
        super().__init__(*a, **kw)
        net = self.net
        real_write, real_poll = net.write, net.poll

        def write(thread: int, dst: int, slot_id: int, image: bytes, imm: int, stage: int) -> None:
            real_write(thread, dst, slot_id, image, bswap32(imm), stage)  # htonl(imm)

        def poll(thread: int) -> deque[tuple[int, int]]:
            return deque((s, bswap32(imm)) for s, imm in real_poll(thread))  # ntohl(wc.imm_data)

        net.write, net.poll = write, poll

    @classmethod
    def patches(cls) -> dict[tuple[object, str], Any]:
        real = vars(gossamer.runtime.verbs)["parse_imm"]
        return {(gossamer.runtime.verbs, "parse_imm"): lambda imm: real(bswap32(imm))}


class PeerVersionsUnchecked(WrongTrustee):
    description = "never compares the peer's versions with its own: a [2, 2] hello gets ready, not an error"
    caught_by = ("live.boot-bad-hellos",)
    clause = "BOOT-1"

    def check_peer(self, m: Any) -> Any:
        from gossamer.bootstrap import hello_from_map

        return hello_from_map(m)


class SlotByPosition(WrongTrustee):
    description = "reads slot id i at base + (position of i in slots.ids) * S instead of base + i * S"
    caught_by = ("live.slot-addresses",)
    clause = "BOOT-6"

    def hello(self) -> bytes:
        raw = super().hello()
        self._ids = list(BootstrapReader().feed(raw)[0]["slots"]["ids"])
        return raw

    def __init__(self, *a: Any, **kw: Any) -> None:
        super().__init__(*a, **kw)
        net = self.net

        def read_slot(slot_id: int) -> Any:
            pos = self._ids.index(slot_id) if slot_id in getattr(self, "_ids", []) else slot_id
            return net.slot_view(pos)  # the S bytes at base + pos * S

        net.read_slot = read_slot


class ResponseSlotsTransposed(WrongTrustee):
    description = "reads the client's response_slots table as [trustee thread][client thread]"
    caught_by = ("live.slot-addresses", "live.response-qp")
    clause = "BOOT-6"

    def __init__(self, *a: Any, **kw: Any) -> None:
        super().__init__(*a, **kw)
        net = self.net
        real = net.response_slot_at

        def response_slot_at(peer: int, client_thread: int, trustee_thread: int) -> int:
            return int(real(peer, trustee_thread, client_thread))

        net.response_slot_at = response_slot_at


class OneReceive(WrongTrustee):
    description = "keeps one receive posted per QP instead of 2T"
    caught_by = ("nic.receive-credits",)
    clause = "FLOW-4"

    def __init__(self, *a: Any, **kw: Any) -> None:
        super().__init__(*a, **kw)
        self.net.recv_depth = 1  # before connect() posts them


class AnswersOnClientQp(WrongTrustee):
    description = "answers on the QP the request came on (the client thread's) instead of its own QP t"
    caught_by = ("live.response-qp",)
    clause = "BOOT-8"

    def __init__(self, *a: Any, **kw: Any) -> None:
        super().__init__(*a, **kw)
        net = self.net
        real = net.write

        def write(thread: int, dst: int, slot_id: int, image: bytes, imm: int, stage: int) -> None:
            client_thread = net.smap.owner(stage).peer_thread  # `stage` is the request slot answered
            real(client_thread, dst, slot_id, image, imm, stage)

        net.write = write


class AnswersTwice(WrongTrustee):
    description = "writes every response twice"
    caught_by = ("live.slot-addresses", "live.response-qp")
    clause = "FLOW-2"

    def __init__(self, *a: Any, **kw: Any) -> None:
        super().__init__(*a, **kw)
        net = self.net
        real = net.write

        def write(thread: int, dst: int, slot_id: int, image: bytes, imm: int, stage: int) -> None:
            real(thread, dst, slot_id, image, imm, stage)
            real(thread, dst, slot_id, image, imm, stage)

        net.write = write


def _dirty(real: Any) -> Any:
    def encode_response_batch(seq: int, responses: Any, config: Any, slot_id: int = 0) -> Any:
        enc = real(seq, responses, config, slot_id)
        img = bytearray(enc.image)
        off = 8
        for r in responses:
            body = r.body or b""
            n = int.from_bytes(img[off + 4 : off + 8], "little")
            if img[off] == r.status and n == len(body):  # placed inline
                size = align8(8 + len(r.result) + len(body))
                start = off + 8 + len(r.result) + len(body)
                img[start : off + size] = b"\xa5" * (off + size - start)
                off += size
            else:
                off += 8
        return attrs.evolve(enc, image=bytes(img))

    return encode_response_batch


class DirtyPadding(WrongTrustee):
    description = "leaves 0xA5 in the padding of response entries instead of zero bytes"
    caught_by = ("live.response-padding",)
    clause = "GEN-2"

    @classmethod
    def patches(cls) -> dict[tuple[object, str], Any]:
        real = vars(gossamer.runtime.trustee_side)["encode_response_batch"]
        return {(gossamer.runtime.trustee_side, "encode_response_batch"): _dirty(real)}


class FramesAfterWrite(WrongTrustee):
    description = "posts the response WRITE first and sends the response frames afterwards"
    caught_by = ("live.response-frames-first",)
    clause = "RSP-7"

    def __init__(self, *a: Any, **kw: Any) -> None:
        super().__init__(*a, **kw)
        hub = self.rack.fallback
        real = hub.send
        self._held: list[tuple[float, Any, Any, int]] = []

        def send(frame: Any, client: Any, tm: int) -> None:
            if frame.kind is FrameKind.RESPONSE:  # after the WRITE: a few hundred ms later
                self._held.append((time.monotonic() + 0.3, frame, client, tm))
                return
            real(frame, client, tm)

        self._send = real
        hub.send = send  # type: ignore[method-assign,assignment]

    def step(self) -> bool:
        now = time.monotonic()
        due = [h for h in self._held if h[0] <= now]
        self._held = [h for h in self._held if h[0] > now]
        for _, frame, client, tm in due:
            self._send(frame, client, tm)
        return super().step() or bool(due)


class SharedProperties(WrongTrustee):
    description = "one property table for the whole machine: any trustee thread runs any property"
    caught_by = ("live.property-per-thread",)
    clause = "REQ-1"

    def __init__(self, *a: Any, **kw: Any) -> None:
        super().__init__(*a, **kw)
        threads = self.rack.all_threads
        for th in threads[1:]:
            th.trustee.core.table = threads[0].trustee.core.table


class NoFallbackWait(WrongTrustee):
    description = "answers FALLBACK_TIMEOUT at once when a stub's frame is not there yet"
    caught_by = ("live.fallback-late-frame", "live.fallback-timeout-bound")
    clause = "FB-5"

    def __init__(self, *a: Any, **kw: Any) -> None:
        super().__init__(*a, **kw)
        self.rack.fallback.timeout_ms = 0


class FallbackTimeoutDefault(WrongTrustee):
    description = "announces its fallback timeout but waits the default 5000 ms"
    caught_by = ("live.fallback-timeout-bound",)
    clause = "FB-5"

    def __init__(self, *a: Any, **kw: Any) -> None:
        super().__init__(*a, **kw)
        self.rack.fallback.timeout_ms = 5000


class ShortWriteIgnored(WrongTrustee):
    description = "reads the whole slot, not the bytes the completion reports: a short WRITE runs"
    caught_by = ("live.short-write", "live.short-header")
    clause = "TRUNCATED"

    def __init__(self, *a: Any, **kw: Any) -> None:
        super().__init__(*a, **kw)
        net = self.net
        net.read_slot = net.slot_view


class ShortLandingStale(WrongTrustee):
    description = "a landing too short for a header is STALE_SEQUENCE (no seq to trust), so it consumes nothing"
    caught_by = ("live.short-header", "live.zero-write")
    clause = "FLOW-7"

    @classmethod
    def patches(cls) -> dict[tuple[object, str], Any]:
        real = vars(gossamer.slot_state)["decode_request_batch"]

        def decode(image: Any, *rest: Any, **kw: Any) -> Any:
            if len(image) < 8:
                raise RemoteProtocolError(ErrorCode.STALE_SEQUENCE, "LAND-5", "no header to read a seq from")
            return real(image, *rest, **kw)

        return {(gossamer.slot_state, "decode_request_batch"): decode}


def _torn_accepted(real: Any) -> Any:
    def decode(image: Any, *rest: Any) -> Any:
        img = bytearray(image)
        if len(img) >= 8:
            end = int.from_bytes(img[4:6], "little") * 8
            if 16 <= end <= len(img):
                img[end - 8 : end] = img[0:8]
        return real(bytes(img), *rest)

    return decode


class TornAccepted(WrongTrustee):
    description = "never compares the trailer with the header"
    caught_by = ("live.land-torn",)
    clause = "TORN"

    @classmethod
    def patches(cls) -> dict[tuple[object, str], Any]:
        real = vars(gossamer.slot_state)["decode_request_batch"]
        return {(gossamer.slot_state, "decode_request_batch"): _torn_accepted(real)}


class _CodeSwap(WrongTrustee):
    """Rejects what it must, with another code than the one the clause names."""

    src = ErrorCode.OK
    dst = ErrorCode.OK

    @classmethod
    def patches(cls) -> dict[tuple[object, str], Any]:
        real = vars(gossamer.slot_state)["decode_request_batch"]

        def decode(*a: Any, **kw: Any) -> Any:
            try:
                return real(*a, **kw)
            except RemoteProtocolError as e:
                if e.code is cls.src:
                    raise RemoteProtocolError(cls.dst, e.clause, e.message) from None
                raise

        return {(gossamer.slot_state, "decode_request_batch"): decode}


class OversizeAsTruncated(_CodeSwap):
    description = "a parameter length over S, a stub over the fallback limit: TRUNCATED instead of OVERSIZE"
    caught_by = ("live.land-oversize",)
    clause = "OVERSIZE"
    src, dst = ErrorCode.OVERSIZE, ErrorCode.TRUNCATED


class TruncatedAsBadHeader(_CodeSwap):
    description = "entries running into the trailer (or a short image): BAD_HEADER instead of TRUNCATED"
    caught_by = ("live.land-truncated", "live.short-write")
    clause = "TRUNCATED"
    src, dst = ErrorCode.TRUNCATED, ErrorCode.BAD_HEADER


class BadHeaderAsTruncated(_CodeSwap):
    description = "header fields out of range: TRUNCATED instead of BAD_HEADER"
    caught_by = ("live.land-bad-header",)
    clause = "BAD_HEADER"
    src, dst = ErrorCode.BAD_HEADER, ErrorCode.TRUNCATED


class UnknownClosureAsBadHeader(_CodeSwap):
    description = "an unregistered closure id: BAD_HEADER instead of UNKNOWN_CLOSURE"
    caught_by = ("live.land-unknown-closure",)
    clause = "UNKNOWN_CLOSURE"
    src, dst = ErrorCode.UNKNOWN_CLOSURE, ErrorCode.BAD_HEADER


class _Forgetful(dict):  # type: ignore[type-arg]
    def __setitem__(self, key: Any, value: Any) -> None:
        pass


class BadFrameIgnored(WrongTrustee):
    description = "a fallback stream that stops parsing fails nothing: its waiting entry times out"
    caught_by = ("live.frame-bad-magic", "live.frame-bad-kind", "live.frame-reserved", "live.frame-over-limit")
    clause = "FALLBACK_TIMEOUT"

    def __init__(self, *a: Any, **kw: Any) -> None:
        super().__init__(*a, **kw)
        self.rack.fallback.broken = _Forgetful()


class BrokenStreamFailsAll(WrongTrustee):
    description = "a fallback stream that stops parsing fails every entry of the machine waiting for a frame"
    caught_by = ("live.frame-broken-stream-isolated",)
    clause = "FB-6"

    def __init__(self, *a: Any, **kw: Any) -> None:
        super().__init__(*a, **kw)
        hub = self.rack.fallback
        real = hub.take

        def take(machine: int, key: Any, link: Any) -> Any:
            if hub.broken:  # the bug: any broken link, not the entry's own
                return next(iter(hub.broken.values())).code
            return real(machine, key, link)

        hub.take = take  # type: ignore[method-assign]


class BadFrameKeptOpen(WrongTrustee):
    description = "fails the entry after a frame it cannot parse, but keeps the connection open"
    caught_by = ("live.frame-bad-magic", "live.frame-over-limit")
    clause = "FB-6"

    def __init__(self, *a: Any, **kw: Any) -> None:
        super().__init__(*a, **kw)
        hub = self.rack.fallback
        real = hub._closed

        def closed(end: Any) -> None:
            if end.link in hub.broken:  # stop reading it, but leave the socket open
                if end in hub.ends:
                    hub.ends.remove(end)
                return
            real(end)

        hub._closed = closed  # type: ignore[method-assign]


class SendLands(WrongTrustee):
    description = "takes any receive completion for a landing (opcode bit 7), so a SEND lands as a batch"
    caught_by = ("live.no-batch-named",)
    clause = "LAND-8"

    @classmethod
    def patches(cls) -> dict[tuple[object, str], Any]:
        return {(gossamer.runtime.verbs, "names_a_batch"): lambda opcode: bool(opcode & 0x80)}


class SlotIdLowByte(WrongTrustee):
    description = "reads the immediate's slot id as one byte, so an unannounced slot id lands on an announced one"
    caught_by = ("live.no-batch-named",)
    clause = "LAND-8"

    @classmethod
    def patches(cls) -> dict[tuple[object, str], Any]:
        real = vars(gossamer.runtime.verbs)["parse_imm"]

        def parse_imm(imm: int) -> tuple[int, int]:
            slot_id, seq16 = real(imm)
            return slot_id & 0xFF, seq16

        return {(gossamer.runtime.verbs, "parse_imm"): parse_imm}


class _FilteredCq:
    """A CQ whose poll drops the receive completions `drop(wc)` names (never reposting them)."""

    def __init__(self, cq: Any, drop: Any) -> None:
        self.cq, self.drop = cq, drop

    def poll(self, n: int) -> tuple[int, list[Any]]:
        k, wcs = self.cq.poll(n)
        keep = [wc for wc in list(wcs)[:k] if wc.status != 0 or not self.drop(wc)]
        return len(keep), keep

    def __getattr__(self, name: str) -> Any:
        return getattr(self.cq, name)


class _CqFilter(WrongTrustee):
    def dropped(self, wc: Any) -> bool:
        raise NotImplementedError

    def __init__(self, *a: Any, **kw: Any) -> None:
        super().__init__(*a, **kw)
        net = self.net
        net.cqs = [_FilteredCq(cq, self.dropped) for cq in net.cqs]


class QpChecked(_CqFilter):
    description = "drops a landing that came on another QP than the one of the slot's client thread"
    caught_by = ("live.no-batch-named",)
    clause = "LAND-8"

    def dropped(self, wc: Any) -> bool:
        net = self.net
        key = net.qp_of_num.get(wc.qp_num)
        slot_id = (wc.imm_data & 0xFFFFFFFF) >> 16
        if key is None or wc.opcode != 129 or slot_id >= net.smap.count:
            return False
        return bool(net.smap.owner(slot_id).peer_thread != key[0])


class ZeroWriteIgnored(_CqFilter):
    description = "ignores a WRITE of 0 bytes (no image, no answer), as C code that skips byte_len == 0 does"
    caught_by = ("live.zero-write",)
    clause = "FLOW-7"

    def dropped(self, wc: Any) -> bool:
        return bool(wc.opcode == 129 and wc.byte_len == 0)


class AdoptsSeq(WrongTrustee):
    description = "after STALE_SEQUENCE expects the seq after the stale batch's (resynchronises)"
    caught_by = ("live.no-resync",)
    clause = "FLOW-6"

    @classmethod
    def patches(cls) -> dict[tuple[object, str], Any]:
        slot_cls = gossamer.slot_state.TrusteeSlot
        real = vars(slot_cls)["on_landed"]

        def on_landed(self: Any, image: Any, imm_seq16: int) -> Any:
            got = real(self, image, imm_seq16)
            if isinstance(got, bytes) and len(got) >= 8 and got[7] == ErrorCode.STALE_SEQUENCE:
                self.expected = int.from_bytes(got[0:4], "little") + 1  # the bug: adopt the peer's seq
            return got

        return {(slot_cls, "on_landed"): on_landed}


class ReusesPointers(WrongTrustee):
    description = "hands a dropped property's pointer to the next new property"
    caught_by = ("live.pointer-fresh",)
    clause = "TRUST-8"

    @classmethod
    def patches(cls) -> dict[tuple[object, str], Any]:
        table_cls = gossamer.trustee.PropertyTable
        real = vars(table_cls)["create"]

        def create(self: Any, value: Any, first_id: int) -> int:
            if not self.dropped:
                return int(real(self, value, first_id))
            ptr = int(self.dropped.pop())
            self.live[ptr] = gossamer.trustee.PropertyEntry(value, gossamer.trust_ids.TrustIdSet.entrusted(first_id))
            return ptr

        return {(table_cls, "create"): create}


class ThreadsUnchecked(WrongTrustee):
    description = "takes a connector's hello whatever its thread count"
    caught_by = ("live.boot-bad-hellos",)
    clause = "BOOT-10"

    def check_peer(self, m: Any) -> Any:
        from gossamer.bootstrap import SUPPORTED_VERSIONS, accept_hello

        return accept_hello(m, int(m.get("threads", 0)) if isinstance(m, dict) else 0, SUPPORTED_VERSIONS)


class _LastWins(dict):  # type: ignore[type-arg]
    def setdefault(self, key: Any, value: Any = None) -> Any:
        self[key] = value
        return value


class LastFrameWins(WrongTrustee):
    description = "keeps the last of two frames that arrive for one stub before its batch, not the first"
    caught_by = ("live.frame-first-wins",)
    clause = "FB-10"

    def __init__(self, *a: Any, **kw: Any) -> None:
        super().__init__(*a, **kw)
        hub = self.rack.fallback
        hub.store = [_LastWins(d) for d in hub.store]


class PsnOneTooMany(WrongTrustee):
    description = "takes a connector's psn up to 2^24 inclusive (one past the 24-bit range)"
    caught_by = ("live.boot-hello-limits",)
    clause = "BOOT-3"

    def check_peer(self, m: Any) -> Any:
        if isinstance(m, dict) and m.get("psn") == 1 << 24:  # checked as if it were 0, then used as it is
            return super().check_peer({**m, "psn": 0})
        return super().check_peer(m)


class _WholeMessagesPerRead:
    """A bootstrap reader that takes each read from the socket to hold whole messages only."""

    def feed(self, data: bytes) -> list[Any]:
        from gossamer.bootstrap import decode_message

        out = []
        while data:
            n = 4 + int.from_bytes(data[:4], "little") if len(data) >= 4 else len(data) + 1
            out.append(decode_message(data[:n]))  # TRUNCATED when the read ends inside a message
            data = data[n:]
        return out


class WholeMessagesPerRead(WrongTrustee):
    description = "decodes each read of the bootstrap socket as whole messages: a hello cut across reads is " \
                  "TRUNCATED instead of awaited"
    caught_by = ("live.boot-hello-stream",)
    clause = "DEC-5"

    @classmethod
    def patches(cls) -> dict[tuple[object, str], Any]:
        return {(reference_trustee, "BootstrapReader"): _WholeMessagesPerRead}


class RdmaKeysFirst(WrongTrustee):
    description = "looks for every RDMA key of a hello before its machine and thread count ([DEC-5] step 13 " \
                  "before 11 and 12): threads 1 with no gid is MALFORMED_CBOR instead of BAD_HEADER"
    caught_by = ("live.boot-hello-order",)
    clause = "DEC-5"

    def check_peer(self, m: Any) -> Any:
        keys = ("gid", "qpns", "psn", "slots", "request_slots", "response_slots", "fallback_port")
        if isinstance(m, dict) and not all(k in m for k in keys):
            raise RemoteProtocolError(ErrorCode.MALFORMED_CBOR, "BOOT-3", "a hello without every RDMA key")
        return super().check_peer(m)


class OneConnectorAtATime(WrongTrustee):
    description = "greets one connector at a time and waits for its hello without a bound: a connector that " \
                  "never sends it holds the trustee for ever"
    caught_by = ("live.boot-stalled-connectors",)
    clause = "PROC-14"
    server = {"pending": 1, "read_seconds": None}


WRONG_TRUSTEES: dict[str, type[WrongTrustee]] = {
    "versions-2": VersionsTwo,
    "no-fallback-port": NoFallbackPort,
    "stray-slot": StraySlot,
    "duplicate-slot": DuplicateSlot,
    "threads-1": ThreadsOne,
    "slot-2048": Slot2048,
    "table-k-8": TableK8,
    "imm-byte-swapped": ImmByteSwapped,
    "peer-versions-unchecked": PeerVersionsUnchecked,
    "slot-by-position": SlotByPosition,
    "response-slots-transposed": ResponseSlotsTransposed,
    "one-receive": OneReceive,
    "answers-on-client-qp": AnswersOnClientQp,
    "answers-twice": AnswersTwice,
    "dirty-padding": DirtyPadding,
    "frames-after-write": FramesAfterWrite,
    "shared-properties": SharedProperties,
    "no-fallback-wait": NoFallbackWait,
    "fallback-timeout-default": FallbackTimeoutDefault,
    "short-write-ignored": ShortWriteIgnored,
    "short-landing-stale": ShortLandingStale,
    "torn-accepted": TornAccepted,
    "oversize-as-truncated": OversizeAsTruncated,
    "truncated-as-bad-header": TruncatedAsBadHeader,
    "bad-header-as-truncated": BadHeaderAsTruncated,
    "unknown-closure-as-bad-header": UnknownClosureAsBadHeader,
    "bad-frame-ignored": BadFrameIgnored,
    "bad-frame-kept-open": BadFrameKeptOpen,
    "broken-stream-fails-all": BrokenStreamFailsAll,
    "send-lands": SendLands,
    "slot-id-low-byte": SlotIdLowByte,
    "qp-checked": QpChecked,
    "zero-write-ignored": ZeroWriteIgnored,
    "adopts-seq": AdoptsSeq,
    "reuses-pointers": ReusesPointers,
    "threads-unchecked": ThreadsUnchecked,
    "last-frame-wins": LastFrameWins,
    "psn-one-too-many": PsnOneTooMany,
    "whole-messages-per-read": WholeMessagesPerRead,
    "rdma-keys-first": RdmaKeysFirst,
    "one-connector-at-a-time": OneConnectorAtATime,
}


def main(argv: list[str] | None = None) -> int:
    """`python -m conformance.mutants.live --wrong NAME --device DEV [--port P ...]`: serve one
    wrong trustee the way `python -m conformance.peers.reference_trustee` serves the honest one."""
    return reference_trustee.main(argv, wrong=WRONG_TRUSTEES, prog="python -m conformance.mutants.live")


if __name__ == "__main__":
    sys.exit(main())

"""Trustee cases driven through real request slots over verbs ([ADPT-12]).

`VerbsTrusteeTarget` answers the trustee ops of the catalogue (`land`, `execute`, `nic_roundtrip`,
`nic_placement`, `nic_credits`) by driving a trustee through a `VerbsPeer`: every batch image of a
case is written into a request slot by RDMA WRITE WITH IMMEDIATE and every answer is the response
image that trustee wrote back into our response slot. Each case runs in a fresh session (a new
bootstrap, new QPs and slots), so every case starts from `seq = 1` as the ops say ([ADPT-9]).

Sessions come from a factory: `emulated_reference_session` (the reference runtime as a trustee on
the emulated NIC, in this process, bootstrapped with the same hello bytes as over TCP) or
`tcp_session` (any trustee listening for the bootstrap of section 10, over the verbs provider).

`nic_live` (`live_ops.py`) drives the live cases of `cases/live.py`: batches on any slot with the
facts of each landing; `nic_bootstrap` opens bootstrap connections only, to hand the trustee bad
hellos ([BOOT-5]).

What does not cross the slots:
- `execute` properties are seeded by entrusting them ([TRUST-3]) through a second client thread's
  slot, and the case's images are rewritten to the pointers the trustee chose (an 8-byte-aligned
  word whose low 48 bits name the case's pointer); `live` is probed afterwards with
  `conformance:get` (only the seeded properties are reported).
- fallback frames ([FB-3], [FB-8]): every session opens one fallback connection per client thread
  (`VerbsPeer.open_fallback`) before its first batch; a batch's request frames go on its client
  thread's connection before its WRITE ([FB-4]), with their slot id rewritten from the case's slot
  to the real one, and the response frames of its `FALLBACK` entries are read from the connections
  (`nic_fallback` also reports which connection each came on).

A property lives on one trustee thread: the suite seeds a property for trustee thread `t` through
client thread `(t + 1) % T`'s slot, so the case's own batches use the diagonal slots `(t, t)`.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Mapping
from typing import Any

from ..cases._wire import HDR, U64, batch, cbor, req_entry
from ..catalogue_closures import ENTRUST, GET
from ..live_hello import HelloViolation, check_trustee_hello
from ..model import Outcome, TargetBroken, err, ok
from ..oracle import codes, layout
from ..oracle import request as oracle_request
from ..oracle import response as oracle_response
from ..oracle.bootstrap import Hello
from ..oracle.errors import Rejected
from ..oracle.slot import Config
from ..peers.suite_client import FallbackLink, Landed, PeerError, VerbsPeer
from .live_ops import nic_bootstrap, nic_live
from .sessions import Session, SessionFactory, Unsupported

MASK48 = (1 << 48) - 1
OPS = frozenset({"land", "execute", "nic_roundtrip", "nic_placement", "nic_credits", "nic_fallback", "nic_live",
                 "nic_bootstrap"})


class VerbsTrusteeTarget:
    """Trustee ops through real slots; `open_session` provides a connected VerbsPeer per case."""

    def __init__(self, name: str, open_session: SessionFactory, config: Config | None = None) -> None:
        self.name = name
        self.open_session = open_session
        self.sessions = 0
        #: (host, port, pump, timeout) of the trustee's bootstrap listener, for `nic_bootstrap`
        self.bootstrap_endpoint: Callable[[], tuple[str, int, Callable[[], object] | None, float]] | None = None

    @property
    def capabilities(self) -> frozenset[str]:
        return OPS

    def call(self, op: str, args: Mapping[str, Any]) -> Outcome:
        fn = getattr(self, f"op_{op}", None) if op in OPS else None
        if fn is None:
            return err("UNSUPPORTED")
        if op == "nic_bootstrap":  # bootstrap connections only: no RDMA session
            if self.bootstrap_endpoint is None:
                return err("UNSUPPORTED")
            return ok(nic_bootstrap(*self.bootstrap_endpoint(), args))
        placement = "any" if op == "nic_placement" else "default"
        if args.get("suite_secret", True):
            s = self.open_session(placement)
        else:  # [SEC-6] the case asks for a suite whose hello carries no fallback_secret
            s = self.open_session(placement, fallback_secret=False)
        self.sessions += 1
        try:
            cfg = Config.of(args.get("config"))
            have = s.peer.config
            if (cfg.slot_size, cfg.table_k) != (have.slot_size, have.table_k):
                return err("UNSUPPORTED")  # the peer runs another S or K than the case assumes
            return ok(fn(s, args))
        except Unsupported:
            return err("UNSUPPORTED")
        except PeerError as e:
            raise TargetBroken(str(e)) from None
        finally:
            s.close()

    def close(self) -> None:
        pass

    # -- helpers ---------------------------------------------------------------------------

    @staticmethod
    def roundtrip(s: Session, c: int, t: int, image: bytes, seq16: int, frames: list[bytes] = (),  # type: ignore[assignment]
                  via: FallbackLink | None = None, length: int | None = None) -> Landed:
        """Write `image` into request slot (c, t) with `imm = slot << 16 | seq16`, its request
        frames first on client thread c's fallback connection (or `via`) ([FB-4]); its response.
        `length`: write only that many bytes of the image (a WRITE shorter than its header)."""
        peer = s.peer
        slot = peer.request_slots[c][t]
        if frames:
            link = via if via is not None else peer.link(c)
            for f in frames:
                link.send(f, s.pump, s.timeout)
        peer.write(c, t, image, (slot << 16) | (seq16 & 0xFFFF), length=length)
        wait = s.timeout + 2 * peer.config.fallback_timeout_ms / 1000.0  # a stub may time out ([FB-5])
        got = peer.wait(peer.response_slot(c, t), wait, s.pump)
        if got is None:
            raise TargetBroken(f"no response to the batch in slot {slot} within {s.timeout:.0f} s "
                               "([FLOW-2]: exactly one response per request batch)"
                               + peer.misdirected(peer.response_slot(c, t))
                               + (f"; {peer.imm_faults[-1]}" if peer.imm_faults else ""))
        if got.swapped:  # [GEN-1]: say so at once instead of timing out case after case
            raise TargetBroken(peer.imm_faults[-1])
        return got

    def seed(self, s: Session, props: list[Mapping[str, Any]]) -> tuple[dict[int, int], dict[int, int]]:
        """Entrust each property (on trustee thread `p.get("trustee", 0)`) through client thread
        `(t + 1) % T`'s slot; (case pointer -> real pointer, case pointer -> trustee thread)."""
        t_n = s.peer.threads
        if t_n < 2:
            raise Unsupported("seeding needs a trustee with two threads")
        out: dict[int, int] = {}
        where: dict[int, int] = {}
        seqs = s.seed_seqs = {}  # type: ignore[attr-defined]
        for p in props:
            t = int(p.get("trustee", 0))
            if t >= t_n:
                raise Unsupported(f"the case seeds trustee thread {t} of a trustee with {t_n}")
            seq = seqs[t] = seqs.get(t, 0) + 1
            image = batch(seq, [ENTRUST.id], [req_entry(0, 0, U64.pack(p["first"]), cbor(p["value"]))])
            got = self.roundtrip(s, (t + 1) % t_n, t, image, seq)
            _, _, count, status = HDR.unpack_from(got.image)
            if status or count != 1 or got.image[8] != 0 or len(got.image) < 32:
                raise TargetBroken(f"entrusting the case's property {p['pointer']:#x} failed: {got.image[:24].hex()}")
            out[int(p["pointer"])] = U64.unpack_from(got.image, 16)[0]
            where[int(p["pointer"])] = t
        return out, where

    @staticmethod
    def rewrite(image: bytes, pointers: Mapping[int, int]) -> bytes:
        """Replace the case's property pointers by the trustee's, in every 8-aligned word."""
        if not pointers or len(image) < 24:
            return image
        b = bytearray(image)
        for off in range(8, len(b) - 8 - 7, 8):
            w = U64.unpack_from(b, off)[0]
            new = pointers.get(w & MASK48)
            if new is not None:
                U64.pack_into(b, off, (w & ~MASK48) | (new & MASK48))
        return bytes(b)

    def probe_live(self, s: Session, pointers: Mapping[int, int], where: Mapping[int, int]) -> list[int]:
        """Which seeded properties are still live: `conformance:get` on each through the slot that
        seeded it."""
        live: list[int] = []
        t_n = s.peer.threads
        seqs: dict[int, int] = getattr(s, "seed_seqs", {})
        for t in sorted(set(where.values())):
            items = [(case, real) for case, real in pointers.items() if where[case] == t]
            seq = seqs.get(t, 0) + 1
            image = batch(seq, [GET.id], [req_entry(real, 0) for _, real in items])
            got = self.roundtrip(s, (t + 1) % t_n, t, image, seq)
            try:
                rb = oracle_response.decode(got.image, [layout.Result.parse("cbor")] * len(items), s.peer.config,
                                            seq)
            except Rejected as e:
                raise TargetBroken(f"the live-property probe's response does not decode: {e}") from None
            live += [case for (case, _), r in zip(items, rb.responses, strict=True)
                     if r.status != codes.value("BAD_PROPERTY")]
        return sorted(live)

    @staticmethod
    def fallback_entries(got: Landed, image: bytes, args: Mapping[str, Any]) -> list[int]:
        """The indices of the `FALLBACK` entries of a response ([RSP-4])."""
        config = Config.of(args.get("config"))
        shapes = layout.shapes(args["closures"])
        try:
            rb = oracle_request.decode(image, shapes, config)
        except Rejected:
            return []  # rejected as a batch: no entries
        try:
            specs = [shapes[r.closure_id].result for r in rb.requests]
            rsp = oracle_response.decode(got.image, specs, config)
        except (Rejected, KeyError):
            return []
        return [i for i, r in enumerate(rsp.responses) if r.status == codes.FALLBACK]

    @staticmethod
    def reslot(frame: bytes, case_slot: int, real_slot: int) -> bytes:
        """A case's request frame with its slot id moved from the case's slot to the real one."""
        if len(frame) >= 8 and int.from_bytes(frame[6:8], "little") == case_slot:
            return frame[:6] + real_slot.to_bytes(2, "little") + frame[8:]
        return frame

    @staticmethod
    def response_frames(s: Session, c: int, t: int, got: Landed, want: list[int]) -> list[tuple[str, bytes]]:
        """The response frames (kind 2) of entries `want` of a landed response, from whichever
        fallback connection they arrive on: [(link name, encoded frame)] in entry order."""
        peer = s.peer
        if not want:
            return []
        slot = peer.response_slot(c, t)
        seq = int.from_bytes(got.image[0:4], "little")
        links = {f"thread{i}": lk for i, lk in peer.links.items()} | {
            f"caller{i}": lk for i, lk in enumerate(getattr(s, "callers", []))}
        found: dict[int, tuple[str, bytes]] = {}
        deadline = time.monotonic() + s.timeout
        while True:
            for name, lk in links.items():
                for i in want:
                    if i not in found:
                        f = lk.take(slot, seq, i)
                        if f is not None:
                            found[i] = (name, f.encode())
            if len(found) == len(want) or time.monotonic() > deadline:
                break
            s.pump()
            moved = [lk.poll() for lk in links.values()]  # every link, no short cut
            if not any(moved) and all(lk.closed for lk in links.values()):
                break
        return [found[i] for i in want if i in found]

    # -- ops -------------------------------------------------------------------------------

    def op_land(self, s: Session, a: Mapping[str, Any]) -> Any:
        """[ADPT-9] `land`, over a real slot: accepted -> {seq, count}; rejected -> the [RSP-5] image."""
        out: list[dict[str, Any]] = []
        for landing in a["landings"]:
            got = self.roundtrip(s, 0, 0, landing["image"], landing["imm"])
            seq, _, count, status = HDR.unpack_from(got.image)
            out.append({"response": got.image} if status else {"seq": seq, "count": count})
        return {"results": out}

    def _execute(self, s: Session, a: Mapping[str, Any]) -> tuple[dict[str, Any], list[Landed]]:
        pointers, where = self.seed(s, list(a.get("properties", [])))
        peer = s.peer
        callers: list[FallbackLink] = []
        s.callers = callers  # type: ignore[attr-defined]
        for hello in a.get("callers", []):  # extra connections with the case's own caller hello
            port = int(peer.trustee.rdma["fallback_port"])
            try:
                callers.append(FallbackLink(getattr(s, "fallback_host", "127.0.0.1"), port, hello,
                                            peer.config.fallback_limit, s.timeout))
            except OSError as e:
                raise TargetBroken(f"cannot open a fallback connection to port {port}: {e}") from None
        responses: list[dict[str, Any]] = []
        landed: list[Landed] = []
        came_on: list[list[str]] = []
        for b in a["batches"]:
            c, t = int(b.get("thread", 0)), int(b.get("trustee", 0))
            if max(c, t) >= peer.threads:
                raise Unsupported(f"the case drives slot ({c}, {t}) of a trustee with {peer.threads} threads")
            image = self.rewrite(b["image"], pointers)
            real = peer.request_slots[c][t]
            frames = [self.reslot(f, b["imm"] >> 16, real) for f in b.get("frames", [])]
            via = callers[b["via"]] if b.get("via") is not None else None
            got = self.roundtrip(s, c, t, image, b["imm"], frames, via)
            rframes = self.response_frames(s, c, t, got, self.fallback_entries(got, image, a))
            responses.append({"image": got.image, "frames": [f for name, f in rframes if name == f"thread{c}"]})
            came_on.append([name for name, _ in rframes])
            landed.append(got)
        live = self.probe_live(s, pointers, where)
        out: dict[str, Any] = {"responses": responses, "live": live}
        if callers or "callers" in a:
            # by now the trustee has long seen those hellos: a batch waited for a frame on them
            grace = max(0.5, 2 * peer.config.fallback_timeout_ms / 1000.0)
            closed = [lk.wait_closed(grace, s.pump) for lk in callers]
            out["fallback"] = {"came_on": came_on, "callers_closed": closed,
                               "links_open": [not peer.links[i].closed for i in sorted(peer.links)]}
        else:
            out["fallback"] = {"came_on": came_on}
        return out, landed

    def op_execute(self, s: Session, a: Mapping[str, Any]) -> Any:
        """[ADPT-10] `execute`, over real slots (see the module docstring for seeding); the answer
        has [ADPT-10]'s keys only (`nic_fallback` adds the connection facts)."""
        out = self._execute(s, a)[0]
        out.pop("fallback", None)
        return out

    def _transport(self, s: Session, landed: list[Landed]) -> dict[str, Any]:
        p = s.peer
        return {
            "threads": p.threads, "slot_size": p.config.slot_size, "slot_ids": p.slot_ids,
            "request_slots": p.request_slots, "response_slot": p.response_slot(0, 0),
            "imms": [x.imm for x in landed], "byte_lens": [x.byte_len for x in landed],
            "slots": [x.slot_id for x in landed], "placement": s.placement,
        }

    def op_nic_roundtrip(self, s: Session, a: Mapping[str, Any]) -> Any:
        """`execute` plus the transport facts: response immediates, lengths, slot tables."""
        out, landed = self._execute(s, a)
        return {**out, "transport": self._transport(s, landed)}

    def op_nic_placement(self, s: Session, a: Mapping[str, Any]) -> Any:
        """`nic_roundtrip` on a session whose NIC places data in any order, where the suite can
        choose ([LAND-6]); on a device it is whatever that device does."""
        return self.op_nic_roundtrip(s, a)

    def op_nic_fallback(self, s: Session, a: Mapping[str, Any]) -> Any:
        """`execute` over the fallback connections of [FB-8]: batches on any diagonal slot, extra
        connections with the case's caller hellos (`callers`), and which connection every
        response frame came on."""
        return self._execute(s, a)[0]

    def op_nic_live(self, s: Session, a: Mapping[str, Any]) -> Any:
        """The live-trustee cases' op (`live_ops.nic_live`): batches on any slot with the facts of
        every landing (QP, time, WRITE length, frames present at landing)."""
        return nic_live(self, s, a)

    def op_nic_bootstrap(self, s: Session, a: Mapping[str, Any]) -> Any:  # pragma: no cover - see call()
        raise Unsupported("nic_bootstrap runs without a session")

    def op_nic_credits(self, s: Session, a: Mapping[str, Any]) -> Any:
        """[FLOW-4]: every round writes one batch into every request slot at once (`T` WRITE WITH
        IMMEDIATE per QP in flight), then collects all `T * T` responses."""
        p = s.peer
        t = p.threads
        headers: list[list[bytes]] = []
        for r in range(a["rounds"]):
            seq = r + 1
            image = a["image_for_seq"][r]
            for c in range(t):
                for tt in range(t):
                    p.write(c, tt, image, (p.request_slots[c][tt] << 16) | (seq & 0xFFFF))
            row = []
            for c in range(t):
                for tt in range(t):
                    got = p.wait(p.response_slot(c, tt), s.timeout, s.pump)
                    if got is None:
                        raise TargetBroken(f"round {r}: no response in slot ({c}, {tt}) within {s.timeout:.0f} s")
                    row.append(got.image)
            headers.append(row)
        return {"responses": headers, "threads": t, "receives": p.receives, "reposts": p.reposts}


# -- sessions ----------------------------------------------------------------------------------


class TcpSession:
    """A trustee under test reached over TCP ([ADPT-12], [BOOT-5] .. [BOOT-9])."""

    placement = "device"

    def __init__(self, host: str, port: int, v: Any, device: str, gid_index: int = 1,
                 timeout: float = 10.0, pump: Callable[[], object] | None = None,
                 fallback_secret: bool = True) -> None:
        from ..live_bootstrap import READY, BootstrapFailed, Channel

        self.timeout = timeout
        self._pump = pump
        self.fallback_host = host
        sock = socket.create_connection((host, port), timeout=30)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.chan = Channel(sock)
        try:
            m = self.chan.recv(pump=pump)
            if isinstance(m, dict) and "error" in m and "versions" not in m:
                raise BootstrapFailed(f"the peer refused: {m}")
            self.hello_map = m
            try:  # [BOOT-1] .. [BOOT-8], before anything is driven
                check_trustee_hello(m)
            except HelloViolation as e:  # [BOOT-5] "sends {"error": code, "detail": text} and closes"
                self.chan.send(_encode({"error": e.code, "detail": e.detail}))
                raise
            hello = Hello.from_map(m)
            self.peer = VerbsPeer(v, device, hello, gid_index=gid_index, fallback_secret=fallback_secret)
            self.chan.send(self.peer.hello().encode())
            self.peer.connect()
            self.chan.send(_encode(READY))
            if self.chan.recv(pump=pump) != READY:
                raise BootstrapFailed("expected {'ready': true} ([BOOT-7])")
            self.peer.open_fallback(host)  # [FB-8] before the first batch
        except BaseException:
            self.chan.close()
            raise

    def pump(self) -> object:
        return self._pump() if self._pump is not None else None

    def close(self) -> None:
        self.peer.close()
        self.chan.close()


def _encode(m: dict[str, Any]) -> bytes:
    from ..live_bootstrap import encode

    return encode(m)

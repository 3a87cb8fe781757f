"""`nic_live`: the op of the live-trustee cases (`cases/live.py`), over real slots ([ADPT-12]).

Like `execute`, it seeds the case's properties ([TRUST-3]) and rewrites the case's pointers, but
every batch names its slot `(thread, trustee)` freely and gets its seq from the slot's own count
(the seeding batches included), and the answer carries what the suite saw of each landing:

- `qp`: the index of our QP the response completion came on ([BOOT-8]);
- `elapsed`: seconds from our WRITE to the response's completion ([FB-5] time-outs);
- `byte_len`, `imm`, `response_slot`: the response WRITE's length and immediate ([RSP-1]);
- `frames_ready`: whether every response frame of the batch ([RSP-4]) had already arrived, on
  any of our fallback connections, when the response landed (checked without letting an
  in-process trustee run: a trustee that posts its WRITE before its frames is seen doing so);
- `links_open`: the suite's fallback connections still open at the end (`watch_links`).

Per batch the case may ask for `write_len` (a WRITE shorter than the image's header claims),
`frame_delay` or `frame_delay_frac` (request frames sent that many seconds *after* the WRITE, from a timer thread,
so a trustee must wait for them, [FB-5]) and `keep_seq` (the image's own seq, for crafted
sequences); `write_len` 0 is a WRITE of no bytes, whose answer carries seq 0 ([FLOW-7]); `via_qp`
posts the WRITE on another of our QPs ([LAND-8]); `no_answer` posts something that names no batch
(`send`: "plain" or "imm", else a WRITE whose immediate names an unannounced slot) and listens for
`QUIET` seconds: its fact's `answered` lists what landed meanwhile ([LAND-8]).
"""

from __future__ import annotations

import select
import socket
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..live_wire import FALLBACK, walk_response
from ..model import TargetBroken
from ..peers.suite_client import FallbackLink, PeerError
from .sessions import Session, Unsupported

if TYPE_CHECKING:
    from .verbs import VerbsTrusteeTarget

#: how long the suite waits, without running an in-process trustee, for response frames that
#: should already be on their way when the response lands ([RSP-4], mirrored [FB-4])
FRAME_GRACE = 0.25


def set_seq(image: bytes, seq: int) -> bytes:
    """The image with its header's seq (and the trailer's, where it copied the header) set."""
    b = bytearray(image)
    if len(b) < 8:
        return image
    old = bytes(b[0:4])
    b[0:4] = seq.to_bytes(4, "little")
    end = 8 * int.from_bytes(b[4:6], "little")
    if 16 <= end <= len(b) and bytes(b[end - 8 : end - 4]) == old:
        b[end - 8 : end - 4] = seq.to_bytes(4, "little")
    return bytes(b)


def set_frame(frame: bytes, slot_id: int, seq: int) -> bytes:
    """A request frame ([FB-3]) moved to the real slot id and seq (any other defect kept)."""
    if len(frame) < 12:
        return frame
    return frame[:6] + slot_id.to_bytes(2, "little") + seq.to_bytes(4, "little") + frame[12:]


def _send_raw(link: FallbackLink, data: bytes, timeout: float) -> None:
    """Send without running anything else (from the timer thread): the trustee reads meanwhile."""
    view = memoryview(data)
    deadline = time.monotonic() + timeout
    while view and time.monotonic() < deadline:
        try:
            view = view[link.sock.send(view) :]
        except BlockingIOError:
            select.select([], [link.sock], [], 0.01)
        except OSError:
            return


def _send_all(link: FallbackLink, frames: list[bytes], timeout: float) -> None:
    for f in frames:
        _send_raw(link, f, timeout)


def _frames_ready(s: Session, slot: int, seq: int, want: list[int], grace: float) -> bool:
    """Whether the response frames `want` of (slot, seq) are on some connection of ours within
    `grace` seconds, reading the sockets only (no trustee step runs meanwhile)."""
    links = list(s.peer.links.values())
    deadline = time.monotonic() + grace
    while True:
        have = {f.index for lk in links for f in lk.frames if (int(f.kind), f.slot_id, f.seq) == (2, slot, seq)}
        if set(want) <= have:
            return True
        if time.monotonic() > deadline:
            return False
        moved = [lk.poll() for lk in links]
        if not any(moved):
            socks = [lk.sock for lk in links if not lk.closed]
            if not socks:
                return False
            select.select(socks, [], [], 0.01)


#: how long the suite listens for an answer that must not come ([LAND-8]), and the fewest
#: steps of an in-process trustee meanwhile
QUIET = 0.3
QUIET_STEPS = 300


def _unanswered(s: Session, b: Mapping[str, Any], c: int, t: int, image: bytes,
                seqs: dict[tuple[int, int], int]) -> dict[str, Any]:
    """Post what names no batch ([LAND-8]) on our QP `c` and listen for `QUIET` seconds: a plain
    SEND (`send`: "plain", or "imm" with the immediate of slot (c, t)'s next seq), or the slot's
    next batch WRITTEN into slot (c, t) with an immediate naming a slot id the trustee never
    announced (`imm_slot`: "unknown"). The fact lists what landed meanwhile (`answered`)."""
    peer = s.peer
    real = peer.request_slots[c][t]
    seq = seqs.get((c, t), 0) + 1
    kind = str(b.get("send") or "write")
    try:
        # SENDs of no bytes: they fit any receive the trustee posted, whatever its buffers
        if kind == "plain":
            peer.send(c, b"")
            what = "a plain SEND"
        elif kind == "imm":
            imm = (real << 16) | (seq & 0xFFFF)
            peer.send(c, b"", imm)
            what = f"a SEND WITH IMMEDIATE {imm:#010x} (slot {real}, its next seq {seq})"
        else:
            announced = set(peer.slot_ids)
            bogus = real + 0x100
            while bogus in announced or bogus > 0xFFFF:
                bogus = (bogus + 1) & 0xFFFF
            imm = (bogus << 16) | (seq & 0xFFFF)
            peer.write(c, t, set_seq(image, seq), imm, awaited=False)
            what = f"a WRITE into slot {real} whose immediate {imm:#010x} names slot {bogus}, never announced"
    except PeerError as e:
        raise TargetBroken(str(e)) from None
    before = len(peer.unsolicited)
    deadline = time.monotonic() + QUIET
    steps = 0
    try:
        while time.monotonic() < deadline or (s.pump is not None and steps < QUIET_STEPS):
            if s.pump is not None:
                s.pump()
            steps += 1
            if not peer.poll() and s.pump is None:
                time.sleep(0.005)
    except PeerError as e:
        raise TargetBroken(f"after {what}, which names no batch, the session broke: {e} ([LAND-8]: the trustee "
                           "reposts the receive, reads no slot, answers nothing and goes on serving)") from None
    landed = peer.unsolicited[before:]
    del peer.unsolicited[before:]
    for slot, _ in landed:
        peer.landed.pop(slot, None)
    return {"thread": c, "trustee": t, "seq": None, "slot": real, "what": what,
            "answered": [f"slot {slot}, immediate {imm:#010x}" for slot, imm in landed]}


def nic_bootstrap(host: str, port: int, pump: Callable[[], object] | None, timeout: float,
                  a: Mapping[str, Any]) -> dict[str, Any]:
    """`nic_bootstrap {hellos: [hello]}`: for each, a fresh bootstrap connection on which the suite
    reads the trustee's hello and answers with its own; what the trustee said back (`reply`: a
    message, or None) and whether it then closed ([BOOT-5]). Then one more connection: does the
    trustee still greet a newcomer.

    A hello is message bytes (length prefix included), sent as they are, or a map `{"map": hello,
    "own_gid": bool, "pieces": [offset, ...], "then_ready": bool}`: the hello map encoded by the
    suite's oracle, with the trustee's own `gid` put in when `own_gid` (a GID its NIC reaches, so a
    hello it accepts lets it bring its QPs to RTR and answer `{"ready": true}`, [BOOT-7]), sent cut
    at `pieces` with a pause after each piece ([DEC-5] steps 1 and 3: a reader waits for the rest),
    and followed in the same write by our `{"ready": true}` when `then_ready` (after the trustee's
    `ready`, `closed` then says whether it closed within `LINGER` seconds: it must not,
    [BOOT-7]). A `{"ready": true}` reply ends that connection at once otherwise. A connection on
    which the trustee sends no hello within `timeout` gets `{"reply": None, "greeted": False}`.

    `stalls: [bytes]` (optional): before the hellos, one connection each that reads the trustee's
    hello, sends those bytes (nothing, or part of a message) and then stays silent and open until
    the end ([SEC-1], [PROC-14]: the trustee must go on greeting and serving the others).
    """
    from ..live_bootstrap import BootstrapFailed, Channel

    def dial() -> Channel:
        sock = socket.create_connection((host, port), timeout=timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return Channel(sock)

    def pause() -> None:
        if pump is not None:  # an in-process trustee reads only when it runs
            for _ in range(3):
                pump()
        else:
            time.sleep(PIECE_PAUSE)

    stalled: list[Channel] = []
    # with stalled connections open, each greeting is awaited a third of the timeout, so that a
    # trustee they block fails the case within its deadline
    greet = timeout / 3 if a.get("stalls") else timeout
    try:
        for data in a.get("stalls", []):
            chan = dial()
            stalled.append(chan)
            try:
                chan.recv(greet, pump)
            except BootstrapFailed:  # an earlier stall holds it: the hellos would not be greeted either
                return {"replies": [{"reply": None, "closed": False, "greeted": False} for _ in a["hellos"]],
                        "still_serving": False}
            if data:
                chan.send(bytes(data))
        return _hellos(dial, pause, a["hellos"], pump, timeout, greet)
    finally:
        for chan in stalled:
            chan.close()


def _hellos(dial: Callable[[], Any], pause: Callable[[], None], hellos: Any, pump: Callable[[], object] | None,
            timeout: float, greet: float) -> dict[str, Any]:
    from ..live_bootstrap import READY, BootstrapFailed, encode

    replies: list[dict[str, Any]] = []
    for spec in hellos:
        chan = dial()
        try:
            try:
                theirs = chan.recv(greet, pump)  # the trustee speaks first
            except BootstrapFailed:
                replies.append({"reply": None, "closed": False, "greeted": False})
                continue
            then_ready = False
            if isinstance(spec, Mapping):
                m = dict(spec["map"])
                if spec.get("own_gid") and isinstance(theirs, dict):
                    m["gid"] = theirs.get("gid")
                data = encode(m)
                then_ready = bool(spec.get("then_ready"))
                if then_ready:
                    data += encode(READY)
                cuts = [int(x) for x in spec.get("pieces", [])]
            else:
                data, cuts = bytes(spec), []
            start = 0
            try:
                for cut in cuts:
                    chan.send(data[start:cut])
                    start = cut
                    pause()
                chan.send(data[start:])
            except OSError:  # it closed after a piece: its reply, if any, is read below
                pass
            reply: Any = None
            closed = False
            try:
                reply = chan.recv(timeout, pump)
            except BootstrapFailed as e:
                closed = "closed" in str(e)
            if reply is not None and (reply != READY or then_ready):
                try:
                    extra = chan.recv((LINGER if pump is None else 0.1) if reply == READY else min(timeout, 2.0), pump)
                    reply = {"then": extra, **reply} if isinstance(reply, dict) else reply
                except BootstrapFailed as e:
                    closed = "closed" in str(e)
            replies.append({"reply": reply, "closed": closed})
        finally:
            chan.close()
    chan = dial()
    try:
        hello = chan.recv(greet, pump)
        serving = isinstance(hello, dict) and "versions" in hello
    except BootstrapFailed:
        serving = False
    finally:
        chan.close()
    return {"replies": replies, "still_serving": serving}


#: seconds between the pieces of a hello sent cut (`nic_bootstrap`), to a trustee in another process
PIECE_PAUSE = 0.05
#: seconds a session whose `ready` crossed is watched for a close that must not come ([BOOT-7]); an
#: in-process trustee, which reads whenever it is pumped, is watched for 0.1 s
LINGER = 0.5


def nic_live(tg: VerbsTrusteeTarget, s: Session, a: Mapping[str, Any]) -> dict[str, Any]:
    peer = s.peer
    t_n = peer.threads
    pointers, _ = tg.seed(s, list(a.get("properties", [])))
    seed_seqs: dict[int, int] = getattr(s, "seed_seqs", {})
    seqs = {((t + 1) % t_n, t): n for t, n in seed_seqs.items()}
    responses: list[dict[str, Any]] = []
    facts: list[dict[str, Any]] = []
    for b in a["batches"]:
        c, t = int(b.get("thread", 0)), int(b.get("trustee", 0))
        if max(c, t) >= t_n:
            raise Unsupported(f"the case drives slot ({c}, {t}) of a trustee with {t_n} threads")
        if b.get("no_answer"):  # [LAND-8]: a completion that names no batch
            responses.append({"image": b"", "frames": []})
            facts.append(_unanswered(s, b, c, t, tg.rewrite(b["image"], pointers), seqs))
            continue
        image = tg.rewrite(b["image"], pointers)
        if b.get("keep_seq"):
            seq = int.from_bytes(image[0:4], "little")
        else:
            seq = seqs.get((c, t), 0) + 1
            image = set_seq(image, seq)
        seqs[(c, t)] = seq
        real = peer.request_slots[c][t]
        if b.get("via_qp") is not None or b.get("write_len") == 0:  # another QP; a 0-byte WRITE
            via = int(b.get("via_qp", c))
            if via >= t_n:
                raise Unsupported(f"the case writes on QP {via} of a trustee with {t_n} threads")
            try:
                peer.write(c, t, image, (real << 16) | (seq & 0xFFFF), length=b.get("write_len"), qp=via)
            except PeerError as e:
                raise TargetBroken(str(e)) from None
            # in process, a wait is counted in trustee steps: keep it well inside the case's deadline
            got = peer.wait(peer.response_slot(c, t), s.timeout if s.pump is None else min(s.timeout, 2.0), s.pump)
            if got is None:
                why = ("a WRITE of 0 bytes is answered TRUNCATED with seq 0 ([FLOW-7])" if b.get("write_len") == 0
                       else "a landing is handled whichever QP of the peer it came on ([LAND-8], [FLOW-2])")
                raise TargetBroken(f"no response to the {b.get('write_len', len(image))}-byte WRITE into slot {real} "
                                   f"on QP {via} in time: {why}"
                                   + peer.misdirected(peer.response_slot(c, t)))
            if b.get("write_len") == 0:
                seq = 0  # [FLOW-7]: the answer to a 0-byte WRITE carries seq 0
            facts.append({"thread": c, "trustee": t, "seq": seq, "slot": real, "response_slot": got.slot_id,
                          "qp": got.qp, "imm": got.imm, "byte_len": got.byte_len, "elapsed": round(got.elapsed, 4),
                          "frames_ready": True, "frames_on": [], "via_qp": via})
            responses.append({"image": got.image, "frames": []})
            continue
        frames = [set_frame(f, real, seq) for f in b.get("frames", [])]
        delay = b.get("frame_delay")
        if b.get("frame_delay_frac") is not None:  # a fraction of the announced fallback timeout
            delay = float(b["frame_delay_frac"]) * peer.config.fallback_timeout_ms / 1000.0
        try:
            if delay is None:
                got = tg.roundtrip(s, c, t, image, seq, frames, length=b.get("write_len"))
            else:  # the frames follow the WRITE: the trustee must wait for them ([FB-5])
                link = peer.link(c)
                peer.write(c, t, image, (real << 16) | (seq & 0xFFFF), length=b.get("write_len"))
                timer = threading.Timer(float(delay), _send_all, (link, frames, s.timeout))
                timer.start()
                try:
                    wait = s.timeout + 2 * peer.config.fallback_timeout_ms / 1000.0
                    late = peer.wait(peer.response_slot(c, t), wait, s.pump)
                finally:
                    timer.join()
                if late is None:
                    raise TargetBroken(f"no response to the batch in slot {real} within {wait:.0f} s ([FLOW-2])"
                                       + peer.misdirected(peer.response_slot(c, t)))
                if late.swapped:
                    raise TargetBroken(peer.imm_faults[-1])
                got = late
        except PeerError as e:
            addr = peer.base + real * peer.config.slot_size
            raise TargetBroken(f"{e}: writing request slot {real} at base + {real} * S = {addr:#x} "
                               "(an address outside the announced region breaks [BOOT-6])") from None
        rslot = peer.response_slot(c, t)
        w = walk_response(got.image, b.get("results", []))
        want = [e.index for e in w.entries if e.status == FALLBACK]
        ready = _frames_ready(s, rslot, seq, want, FRAME_GRACE) if want else True
        rframes = tg.response_frames(s, c, t, got, want)
        responses.append({"image": got.image, "frames": [f for name, f in rframes if name == f"thread{c}"]})
        facts.append({"thread": c, "trustee": t, "seq": seq, "slot": real, "response_slot": rslot, "qp": got.qp,
                      "imm": got.imm, "byte_len": got.byte_len, "elapsed": round(got.elapsed, 4),
                      "frames_ready": ready, "frames_on": [name for name, _ in rframes]})
    # [FLOW-2] "exactly one response batch per request batch": anything more that lands is extra
    deadline = time.monotonic() + (0.1 if a["batches"] else 0.0)
    while time.monotonic() < deadline:
        s.pump()
        if not peer.poll():
            time.sleep(0.005)
    out: dict[str, Any] = {"responses": responses, "facts": facts, "threads": t_n, "pointers": pointers,
                           "unsolicited": [f"slot {slot}, immediate {imm:#010x}" for slot, imm in peer.unsolicited],
                           "fallback_timeout_ms": peer.config.fallback_timeout_ms,
                           "hello": getattr(s, "hello_map", None)}
    if a.get("watch_links"):
        grace = max(0.5, 2 * peer.config.fallback_timeout_ms / 1000.0)
        out["links_open"] = [not peer.links[i].wait_closed(grace if i == 0 else 0.05, s.pump)
                             for i in sorted(peer.links)]
    return out

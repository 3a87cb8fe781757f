"""The reference implementation as a target: every adapter op answered by `gossamer/` in process.

Each `op_<name>` method is one op of SPEC.md section 11, taking and returning the same plain values
the adapter protocol carries ([ADPT-5] .. [ADPT-10]). Mutants subclass this class.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from gossamer import serial
from gossamer.batch import decode_request_batch, encode_request_batch, pack_requests
from gossamer.bootstrap import decode_message, hello_from_map, negotiate
from gossamer.closures import ClosureShape, Registry, closure_id
from gossamer.errors import ErrorCode, GossamerError, LocalProtocolError
from gossamer.fallback import BrokenStream, Frame, FrameKind, FrameReader
from gossamer.launch_env import LaunchEnvError, from_environ
from gossamer.layout import Layout, ParamSpec, ResultSpec
from gossamer.rack_bootstrap import POINTS, check_message
from gossamer.request import Request, attach_payload
from gossamer.response import (
    Response,
    decode_response_batch,
    encode_error_response,
    encode_response_batch,
)
from gossamer.shape import MachineShape, RackShape, ranges_of, trustees_from_ranges
from gossamer.slot import SlotConfig, make_imm, next_seq, parse_imm
from gossamer.slot_state import ClientSlot, Event, TrusteeSlot
from gossamer.trust_ids import TrustIdMinter, TrustIdSet
from gossamer.trustee import PropertyEntry, Trustee

from ..catalogue_closures import BEHAVIOUR
from ..model import Outcome, err, ok

OPS = (
    "hello", "closure_id", "register", "pack_capture", "unpack_capture", "check_cbor",
    "encode_request_batch", "pack_requests", "decode_request_batch", "encode_response_batch",
    "encode_error_response", "decode_response_batch", "encode_frame", "decode_frames",
    "attach_payload", "mint", "toggle", "negotiate", "decode_hello", "shape_slots", "next_seq", "make_imm",
    "slot_events", "land", "rack_message", "launch_env", "execute",
)


def required(a: Mapping[str, Any], key: str) -> Any:
    """A required argument of an op ([ADPT-6], [ADPT-7]); its absence is the caller's BAD_ARGUMENT."""
    if a.get(key) is None:
        raise LocalProtocolError(ErrorCode.BAD_ARGUMENT, "ADPT-6", f"argument {key!r} is required")
    return a[key]


def bad(why: str) -> LocalProtocolError:
    """An argument outside its range ([ADPT-19])."""
    return LocalProtocolError(ErrorCode.BAD_ARGUMENT, "ADPT-19", why)


def in_range(a: Mapping[str, Any], key: str, lo: int, hi: int) -> Any:
    """An optional integer argument (absent or null: None) within lo..hi, else BAD_ARGUMENT ([ADPT-19])."""
    v = a.get(key)
    if v is not None and (not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi):
        raise bad(f"{key} {v!r} is outside {lo}..{hi}")
    return v


def config_of(a: Mapping[str, Any]) -> SlotConfig:
    """[ADPT-5]: a key absent (or null, [ADPT-2]) takes the default SPEC.md gives it, the codec's own."""
    c = a.get("config") or {}
    return SlotConfig(**{k: c[k] for k in ("slot_size", "table_k", "fallback_limit") if c.get(k) is not None})


def shapes_of(closures: Sequence[Mapping[str, Any]]) -> dict[int, ClosureShape]:
    return {
        d["id"]: ClosureShape(
            Layout.parse(d["capture"]).size, ParamSpec.parse(d.get("param")), ResultSpec.parse(d["result"])
        )
        for d in closures
    }


def request_of(r: Mapping[str, Any]) -> Request:
    return Request(r["property"], r["closure_id"], bytes(r["captured"]), r.get("param"))


def request_map(r: Request) -> dict[str, Any]:
    return {"property": r.property, "closure_id": r.closure_id, "captured": r.captured,
            "param": r.param, "fallback_len": r.fallback_len}


def response_map(r: Response) -> dict[str, Any]:
    return {"status": r.status, "result": r.result, "body": r.body, "fallback_len": r.fallback_len}


def _frames(frames: Sequence[Frame]) -> list[bytes]:
    return [f.encode() for f in frames]


_EVENTS = {e.value: e for e in Event}


def _mutable(v: Any) -> Any:
    return [_mutable(x) for x in v] if isinstance(v, (list, tuple)) else v


class ReferenceTarget:
    """`gossamer/` answering the adapter ops directly (no subprocess, no CBOR framing)."""

    name = "reference"

    @property
    def capabilities(self) -> frozenset[str]:
        return frozenset(OPS)

    def call(self, op: str, args: Mapping[str, Any]) -> Outcome:
        fn = getattr(self, f"op_{op}", None) if op in OPS else None
        if fn is None:
            return err("UNSUPPORTED")
        try:
            return ok(fn(args))
        except GossamerError as e:
            return err(e.code.name)
        except (KeyError, TypeError, AttributeError):  # an argument absent or of the wrong type ([ADPT-19])
            return err("BAD_ARGUMENT")

    def close(self) -> None:
        pass

    # -- closures and layouts ([CID-1] .. [CID-3], [LAYOUT-1] .. [LAYOUT-4], [SER-1], [SER-2])

    def op_hello(self, a: Mapping[str, Any]) -> Any:
        return {"name": self.name, "versions": [1, 1], "ops": sorted(self.capabilities)}

    def op_closure_id(self, a: Mapping[str, Any]) -> Any:
        return {"id": closure_id(a["name"])}

    def op_register(self, a: Mapping[str, Any]) -> Any:
        seen: dict[int, str] = {}
        for d in a["closures"]:
            Layout.parse(d["capture"])
            ResultSpec.parse(d["result"])
            ParamSpec.parse(d.get("param"))
            cid, name = d["id"], d["name"]
            if cid == 0 or seen.get(cid, name) != name:  # [CID-2]
                raise LocalProtocolError(ErrorCode.BAD_ARGUMENT, "CID-2", f"id {cid:#x} of {name!r}")
            seen[cid] = name
        return {}

    def op_pack_capture(self, a: Mapping[str, Any]) -> Any:
        return {"data": Layout.parse(a["capture"]).pack(a["values"])}

    def op_unpack_capture(self, a: Mapping[str, Any]) -> Any:
        return {"values": list(Layout.parse(a["capture"]).unpack(a["data"]))}

    def op_check_cbor(self, a: Mapping[str, Any]) -> Any:
        serial.loads(a["data"])
        return {}

    # -- request batches (sections 1, 3, 4, 7)

    def op_encode_request_batch(self, a: Mapping[str, Any]) -> Any:
        eb = encode_request_batch(
            a["seq"], [request_of(r) for r in a["requests"]], shapes_of(a["closures"]), config_of(a),
            required(a, "slot_id"),
        )
        return {"image": eb.image, "frames": _frames(eb.frames)}

    def op_pack_requests(self, a: Mapping[str, Any]) -> Any:
        batches = pack_requests([request_of(r) for r in a["requests"]], shapes_of(a["closures"]), config_of(a))
        return {"counts": [len(b) for b in batches]}

    def op_decode_request_batch(self, a: Mapping[str, Any]) -> Any:
        e, i = in_range(a, "expected_seq", 1, 0xFFFFFFFF), in_range(a, "imm_seq16", 0, 0xFFFF)
        rb = decode_request_batch(a["image"], shapes_of(a["closures"]), config_of(a), e, i)
        return {"seq": rb.seq, "table": list(rb.table), "requests": [request_map(r) for r in rb.requests]}

    def op_attach_payload(self, a: Mapping[str, Any]) -> Any:
        shapes = shapes_of(a["closures"])
        if a["closure_id"] not in shapes:  # [ADPT-19]
            raise LocalProtocolError(ErrorCode.UNKNOWN_CLOSURE, "ADPT-19", f"closure {a['closure_id']:#x} not given")
        stub = Request(1, a["closure_id"], b"", None, a["fallback_len"])
        r = attach_payload(stub, a["payload"], shapes[a["closure_id"]])
        return {"captured": r.captured, "param": r.param}

    # -- responses (section 5)

    def op_encode_response_batch(self, a: Mapping[str, Any]) -> Any:
        rs = [Response(r["status"], bytes(r["result"]), r.get("body")) for r in a["responses"]]
        eb = encode_response_batch(a["seq"], rs, config_of(a), required(a, "slot_id"))
        return {"image": eb.image, "frames": _frames(eb.frames)}

    def op_encode_error_response(self, a: Mapping[str, Any]) -> Any:
        code = ErrorCode[a["code"]]
        detail = a.get("detail")
        if detail is not None and not isinstance(detail, str):  # [ADPT-7]: a text or absent
            raise bad("detail must be a text or absent")
        return {"image": encode_error_response(a["seq"], code, detail, config_of(a))}

    def op_decode_response_batch(self, a: Mapping[str, Any]) -> Any:
        specs = [ResultSpec.parse(s) for s in a["results"]]
        e, i = in_range(a, "expected_seq", 1, 0xFFFFFFFF), in_range(a, "imm_seq16", 0, 0xFFFF)
        rb = decode_response_batch(a["image"], specs, config_of(a), e, i)
        return {"seq": rb.seq, "status": rb.status, "responses": [response_map(r) for r in rb.responses],
                "detail": rb.detail}

    # -- fallback frames (section 7)

    def op_encode_frame(self, a: Mapping[str, Any]) -> Any:
        if a["kind"] not in (1, 2):  # [DEC-8]
            raise LocalProtocolError(ErrorCode.BAD_ARGUMENT, "FB-3", f"frame kind {a['kind']} is not 1 or 2")
        in_range(a, "slot_id", 0, 0xFFFF), in_range(a, "index", 0, 0xFFFF), in_range(a, "seq", 0, 0xFFFFFFFF)
        f = Frame(kind=FrameKind(a["kind"]), slot_id=a["slot_id"], seq=a["seq"], index=a["index"],
                  payload=a["payload"])
        return {"frame": f.encode()}

    def op_decode_frames(self, a: Mapping[str, Any]) -> Any:
        if (a.get("data") is None) == (a.get("chunks") is None):  # [ADPT-19]: exactly one of them
            raise bad("decode_frames takes exactly one of data and chunks")
        limit = in_range(a, "limit", 0, 0xFFFFFFFF)
        reader = FrameReader(64 << 20 if limit is None else limit)
        frames = []
        for chunk in a["chunks"] if a.get("chunks") is not None else [a["data"]]:
            frames += reader.feed(chunk)
        return {
            "frames": [{"kind": int(f.kind), "slot_id": f.slot_id, "seq": f.seq, "index": f.index,
                        "payload": f.payload} for f in frames],
            "buffered": reader.buffered,
        }

    # -- trust ids (section 6)

    def op_mint(self, a: Mapping[str, Any]) -> Any:
        in_range(a, "counter", 0, 0xFFFFFFFF)
        return {"id": TrustIdMinter(a["machine"], a["thread"], a["counter"]).mint()}

    def op_toggle(self, a: Mapping[str, Any]) -> Any:
        s = TrustIdSet.entrusted(a["first"])
        return {"emptied": [s.toggle(t["id"]) for t in a["toggles"]]}

    # -- bootstrap (section 10)

    def op_negotiate(self, a: Mapping[str, Any]) -> Any:
        ours, theirs = a["ours"], a["theirs"]
        return {"version": negotiate((ours[0], ours[1]), (theirs[0], theirs[1]))}

    def op_decode_hello(self, a: Mapping[str, Any]) -> Any:
        h = hello_from_map(decode_message(a["data"]))
        return {"versions": list(h.versions), "machine": h.machine, "threads": h.threads,
                "slot_size": h.config.slot_size, "table_k": h.config.table_k,
                "fallback_timeout_ms": h.config.fallback_timeout_ms,
                "fallback_limit": h.config.fallback_limit,
                **({} if h.trustees is None else {"trustees": ranges_of(h.trustees)})}  # [SHAPE-4]

    def op_shape_slots(self, a: Mapping[str, Any]) -> Any:
        """[SHAPE-2]'s ids of one machine of a shape, or BAD_ARGUMENT ([SHAPE-1], [LIM-3])."""
        machines = a.get("shape")
        if not isinstance(machines, list) or not all(isinstance(m, dict) and set(m) == {"threads", "trustees"}
                                                     for m in machines):
            raise LocalProtocolError(ErrorCode.BAD_ARGUMENT, "ADPT-19", "shape is [{threads, trustees}]")
        try:
            shape = RackShape([MachineShape.of(m["threads"], trustees_from_ranges(m["trustees"], m["threads"])
                                               if isinstance(m["threads"], int) else ()) for m in machines])
        except GossamerError as exc:  # a run a hello would refuse is a bad argument here
            raise LocalProtocolError(ErrorCode.BAD_ARGUMENT, "SHAPE-4", exc.message) from None
        shape.check()
        m = a.get("machine")
        if not (isinstance(m, int) and not isinstance(m, bool) and 0 <= m < len(shape)):
            raise LocalProtocolError(ErrorCode.BAD_ARGUMENT, "ADPT-19", f"machine {m!r} of {len(shape)}")
        rows = []
        for i in range(shape.slot_count(m)):
            u = shape.slot_use(m, i)
            assert u is not None
            rows.append(["request" if u.is_request else "response", u.peer_machine, u.peer_thread, u.local_thread])
        return {"count": len(rows), "slots": rows}

    # -- slots, landing and flow control (section 2)

    def op_rack_message(self, a: Mapping[str, Any]) -> Any:
        """[PROC-2] .. [PROC-5]: one bootstrap message of a rack, read by a side of application `app`."""
        data, app, expects = required(a, "data"), required(a, "app"), a.get("expects")
        if not isinstance(data, (bytes, bytearray)) or not isinstance(app, str):
            raise LocalProtocolError(ErrorCode.BAD_ARGUMENT, "ADPT-19", "rack_message takes data (bytes), app (text)")
        if expects is not None and expects not in POINTS:
            raise LocalProtocolError(ErrorCode.BAD_ARGUMENT, "ADPT-19", f"expects {expects!r} is not one of {POINTS}")
        return check_message(bytes(data), app, expects)

    def op_launch_env(self, a: Mapping[str, Any]) -> Any:
        """[PROC-1], [PROC-2]: who a process is, from its launcher's environment."""
        env = required(a, "env")
        if not isinstance(env, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in env.items()):
            raise LocalProtocolError(ErrorCode.BAD_ARGUMENT, "ADPT-19", "env is a map of text to text")
        try:
            info = from_environ(env)
        except LaunchEnvError as exc:
            raise LocalProtocolError(ErrorCode.BAD_ARGUMENT, "PROC-1", str(exc)) from None
        return {"machine": info.machine, "machines": info.machines, "app": info.app,
                "peers": None if info.peers is None else [list(p) for p in info.peers],
                "rendezvous": info.rendezvous, "shape": [list(x) for x in info.shape]}

    def op_next_seq(self, a: Mapping[str, Any]) -> Any:
        return {"seq": next_seq(a["seq"])}

    def op_make_imm(self, a: Mapping[str, Any]) -> Any:
        imm = make_imm(a["slot_id"], a["seq"])
        return {"imm": imm, "parsed": list(parse_imm(imm))}

    def op_slot_events(self, a: Mapping[str, Any]) -> Any:
        cfg = SlotConfig()
        if a["role"] not in ("client", "trustee") or any(ev not in _EVENTS for ev in a["events"]):
            raise bad("role is client or trustee; events are write, response, landed, respond")  # [ADPT-9]
        machine: ClientSlot | TrusteeSlot = (
            ClientSlot(cfg) if a["role"] == "client" else TrusteeSlot(cfg, {})
        )
        out = []
        for ev in a["events"]:
            try:
                machine._fire(_EVENTS[ev])
                out.append(machine.state.value)
            except GossamerError as e:
                out.append(e.code.name)
        return {"results": out}

    def op_land(self, a: Mapping[str, Any]) -> Any:
        slot = TrusteeSlot(config_of(a), shapes_of(a["closures"]))
        out: list[dict[str, Any]] = []
        for landing in a["landings"]:
            in_range(landing, "imm", 0, 0xFFFFFFFF)
            got = slot.on_landed(landing["image"], parse_imm(landing["imm"])[1])
            slot.responded()
            if isinstance(got, bytes):
                out.append({"response": got})
            else:
                out.append({"seq": got.seq, "count": len(got.requests)})
        return {"results": out}

    def op_execute(self, a: Mapping[str, Any]) -> Any:
        """A trustee thread: land each batch, attach frames, run, answer ([REQ-6], [REQ-7], [FB-5])."""
        cfg = config_of(a)
        reg = Registry()
        for d in a["closures"]:
            if d["name"] in BEHAVIOUR:
                reg.register(BEHAVIOUR[d["name"]], d["name"], capture=d["capture"], result=d["result"],
                             param=d.get("param"))
        trustee = Trustee(reg)
        for prop in a.get("properties", []):
            entry = PropertyEntry(_mutable(prop["value"]), TrustIdSet.entrusted(prop["first"]))
            trustee.table.live[prop["pointer"]] = entry
        slot = TrusteeSlot(cfg, reg.shapes)
        out: list[dict[str, Any]] = []
        for b in a["batches"]:
            slot_id, seq16 = parse_imm(b["imm"])
            got = slot.on_landed(b["image"], seq16)
            if isinstance(got, bytes):
                slot.responded()
                out.append({"image": got, "frames": []})
                continue
            reader = FrameReader(cfg.fallback_limit)
            waiting = {i for i, r in enumerate(got.requests) if r.fallback_len is not None}
            reqs = list(got.requests)
            broken: ErrorCode | None = None
            try:
                frames = reader.feed(b"".join(b.get("frames", [])))
            except BrokenStream as e:  # [FB-6]: the stream is dead; waiting entries fail with it
                broken, frames = e.code, e.frames  # [DEC-3]: whole frames before the bad header count
            attach_failed: dict[int, Response] = {}
            for f in frames:
                if (f.kind, f.slot_id, f.seq, f.index) != (FrameKind.REQUEST, slot_id, got.seq, f.index) \
                        or f.index not in waiting:
                    continue  # [FB-7] names no entry we wait for: discarded
                waiting.discard(f.index)
                try:
                    reqs[f.index] = attach_payload(reqs[f.index], f.payload, reg.shapes[reqs[f.index].closure_id])
                except GossamerError as e:  # [DEC-4]: that entry fails; the stream stays in step
                    attach_failed[f.index] = Response.error(e.code, e.message)
            responses: list[Response] = []
            for i, r in enumerate(reqs):  # [REQ-7]: one at a time, in entry order
                if i in attach_failed:
                    responses.append(attach_failed[i])
                elif i in waiting:
                    code = broken if broken is not None else ErrorCode.FALLBACK_TIMEOUT
                    responses.append(Response.error(code, f"entry {i}: no fallback payload"))
                else:
                    responses.append(trustee.run(r))
            eb = encode_response_batch(got.seq, responses, cfg, 0)
            slot.responded()
            out.append({"image": eb.image, "frames": _frames(eb.frames)})
        return {"responses": out, "live": sorted(trustee.table.live)}



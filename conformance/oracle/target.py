"""The oracle answering the adapter's codec ops ([ADPT-5] .. [ADPT-9]), as a target of the suite.

Not a target users pick: it exists so that the oracle itself is checked against every codec case of
the catalogue and every golden vector (`tests/conformance/test_oracle.py`), and so that the
hypothesis tests can compare it with the reference op by op. `execute` and the transport ops are not
a codec's and are not answered.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import bootstrap, cbor, codes, frames, ids, layout, racks, request, response, slot, states
from .errors import Rejected
from .shape import slots as shape_slots

OPS = (
    "hello", "closure_id", "register", "pack_capture", "unpack_capture", "check_cbor",
    "encode_request_batch", "pack_requests", "decode_request_batch", "encode_response_batch",
    "encode_error_response", "decode_response_batch", "encode_frame", "decode_frames",
    "attach_payload", "mint", "toggle", "negotiate", "decode_hello", "shape_slots", "next_seq", "make_imm",
    "slot_events", "land", "rack_message", "launch_env",
)


def _reqs(a: Mapping[str, Any]) -> list[request.Request]:
    return [request.Request.of(r) for r in a["requests"]]


def _uint(v: Any, top: int) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= top


def _arg(ok: bool, what: str) -> None:
    """[ADPT-19]: an argument outside its range is BAD_ARGUMENT, before every other step."""
    if not ok:
        raise Rejected("BAD_ARGUMENT", "ADPT-19", what)


def _config(a: Mapping[str, Any]) -> slot.Config:
    c = slot.Config.of(a.get("config"))
    _arg(c.slot_size % 64 == 0 and slot.MIN_SLOT <= c.slot_size <= slot.MAX_SLOT, f"slot_size {c.slot_size}")
    _arg(0 <= c.table_k <= slot.MAX_K, f"table_k {c.table_k}")
    _arg(0 <= c.fallback_limit <= 0xFFFF_FFFF, f"fallback_limit {c.fallback_limit}")
    return c


def _seqs(a: Mapping[str, Any]) -> tuple[int | None, int | None]:
    e, i = a.get("expected_seq"), a.get("imm_seq16")
    _arg(e is None or (_uint(e, slot.SEQ_MAX) and e >= 1), f"expected_seq {e}")
    _arg(i is None or _uint(i, 0xFFFF), f"imm_seq16 {i}")
    return e, i


class OracleTarget:
    name = "oracle"

    @property
    def capabilities(self) -> frozenset[str]:
        return frozenset(OPS)

    def call(self, op: str, args: Mapping[str, Any]) -> dict[str, Any]:
        fn = getattr(self, f"op_{op}", None) if op in OPS else None
        if fn is None:
            return {"error": "UNSUPPORTED"}
        for key, lo, hi in (("expected_seq", 1, 2**32 - 1), ("imm_seq16", 0, 0xFFFF)):  # [ADPT-19]
            v = args.get(key)
            if v is not None and not (isinstance(v, int) and lo <= v <= hi):
                return {"error": "BAD_ARGUMENT"}
        try:
            return {"ok": fn(args)}
        except Rejected as e:
            return {"error": e.code}

    def close(self) -> None:
        pass

    def op_hello(self, a: Mapping[str, Any]) -> Any:
        return {"name": self.name, "versions": [1, 1], "ops": sorted(OPS)}

    def op_closure_id(self, a: Mapping[str, Any]) -> Any:
        return {"id": ids.closure_id(a["name"])}

    def op_register(self, a: Mapping[str, Any]) -> Any:
        """[DEC-7]: per closure in order, capture, result, parameter, then [CID-2]."""
        seen: dict[int, str] = {}
        for d in a["closures"]:
            layout.Shape.of(d)
            cid, name = int(d["id"]), d["name"]
            if cid == 0 or seen.get(cid, name) != name:  # [CID-2]
                raise Rejected("BAD_ARGUMENT", "CID-2", f"id {cid:#x} of {name!r}")
            seen[cid] = name
        return {}

    def op_pack_capture(self, a: Mapping[str, Any]) -> Any:
        return {"data": layout.Layout.parse(a["capture"]).pack(a["values"])}

    def op_unpack_capture(self, a: Mapping[str, Any]) -> Any:
        return {"values": list(layout.Layout.parse(a["capture"]).unpack(bytes(a["data"])))}

    def op_check_cbor(self, a: Mapping[str, Any]) -> Any:
        cbor.check(bytes(a["data"]))
        return {}

    def op_encode_request_batch(self, a: Mapping[str, Any]) -> Any:
        config = _config(a)
        img, frs = request.encode(a["seq"], _reqs(a), layout.shapes(a["closures"]), config, a.get("slot_id", 0))
        return {"image": img, "frames": frs}

    def op_pack_requests(self, a: Mapping[str, Any]) -> Any:
        config = _config(a)
        return {"counts": request.pack(_reqs(a), layout.shapes(a["closures"]), config)}

    def op_decode_request_batch(self, a: Mapping[str, Any]) -> Any:
        config = _config(a)
        e, i = _seqs(a)
        b = request.decode(a["image"], layout.shapes(a["closures"]), config, e, i)
        return {"seq": b.seq, "table": list(b.table), "requests": [r.as_map() for r in b.requests]}

    def op_attach_payload(self, a: Mapping[str, Any]) -> Any:
        shape = layout.shapes(a["closures"]).get(a["closure_id"])
        if shape is None:
            raise Rejected("UNKNOWN_CLOSURE", "ADPT-19", f"closure {a['closure_id']:#x} is not in closures")
        captured, param = request.attach(shape, a["fallback_len"], bytes(a["payload"]))
        return {"captured": captured, "param": param}

    def op_encode_response_batch(self, a: Mapping[str, Any]) -> Any:
        img, frs = response.encode(a["seq"], a["responses"], _config(a), a.get("slot_id", 0))
        return {"image": img, "frames": frs}

    def op_encode_error_response(self, a: Mapping[str, Any]) -> Any:
        config = _config(a)
        return {"image": response.encode_error(a["seq"], a["code"], a.get("detail"), config.slot_size)}

    def op_decode_response_batch(self, a: Mapping[str, Any]) -> Any:
        config = _config(a)
        e, i = _seqs(a)
        results = [layout.Result.parse(s) for s in a["results"]]
        b = response.decode(a["image"], results, config, e, i)
        return {"seq": b.seq, "status": b.status, "responses": [r.as_map() for r in b.responses],
                "detail": b.detail}

    def op_encode_frame(self, a: Mapping[str, Any]) -> Any:
        _arg(a.get("kind") in (1, 2) and _uint(a.get("slot_id"), 0xFFFF) and _uint(a.get("index"), 0xFFFF)
             and _uint(a.get("seq"), slot.SEQ_MAX), "a frame field out of range")
        f = frames.Frame(a["kind"], a["slot_id"], a["seq"], a["index"], bytes(a["payload"]))
        return {"frame": f.encode()}

    def op_decode_frames(self, a: Mapping[str, Any]) -> Any:
        _arg(("data" in a) != ("chunks" in a), "exactly one of data and chunks")
        _arg(_uint(a.get("limit", frames.DEFAULT_LIMIT), 0xFFFF_FFFF), "limit")
        reader = frames.Reader(a.get("limit", frames.DEFAULT_LIMIT))
        got: list[frames.Frame] = []
        for chunk in a["chunks"] if "chunks" in a else [a["data"]]:
            got += reader.feed_all(bytes(chunk))
        return {"frames": [f.as_map() for f in got], "buffered": reader.buffered}

    def op_mint(self, a: Mapping[str, Any]) -> Any:
        _arg(_uint(a.get("machine"), 0xFFFF) and _uint(a.get("thread"), 0xFFFF)
             and _uint(a.get("counter"), 0xFFFF_FFFF), "machine, thread or counter out of range")
        return {"id": ids.mint_after(a["machine"], a["thread"], a["counter"])}

    def op_toggle(self, a: Mapping[str, Any]) -> Any:
        s = {a["first"]}
        out: list[bool] = []
        for t in a["toggles"]:
            if not s and out and out[-1]:
                raise Rejected("BAD_PROPERTY", "TRUST-5", "a toggle after the set emptied")
            out.append(ids.toggle(s, t["id"]))
        return {"emptied": out}

    def op_negotiate(self, a: Mapping[str, Any]) -> Any:
        for r in (a.get("ours"), a.get("theirs")):
            _arg(isinstance(r, (list, tuple)) and len(r) == 2 and all(_uint(x, 1 << 64) for x in r) and r[0] <= r[1],
                 f"version range {r!r}")
        return {"version": bootstrap.negotiate(tuple(a["ours"]), tuple(a["theirs"]))}

    def op_decode_hello(self, a: Mapping[str, Any]) -> Any:
        return bootstrap.decode_hello(bytes(a["data"])).required()

    def op_shape_slots(self, a: Mapping[str, Any]) -> Any:
        return shape_slots(a.get("shape"), a.get("machine"))

    def op_rack_message(self, a: Mapping[str, Any]) -> Any:
        _arg(isinstance(a.get("data"), (bytes, bytearray)) and isinstance(a.get("app"), str), "data and app")
        _arg(a.get("expects") in (None, "caller", "hello", "ready"), "expects")
        return racks.rack_message(bytes(a["data"]), a["app"], a.get("expects"))

    def op_launch_env(self, a: Mapping[str, Any]) -> Any:
        env = a.get("env")
        _arg(isinstance(env, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in env.items()), "env")
        assert isinstance(env, dict)
        return racks.launch_env(env)

    def op_next_seq(self, a: Mapping[str, Any]) -> Any:
        _arg(_uint(a.get("seq"), slot.SEQ_MAX), "seq")
        return {"seq": slot.next_seq(a["seq"])}

    def op_make_imm(self, a: Mapping[str, Any]) -> Any:
        imm = slot.make_imm(a["slot_id"], a["seq"])
        return {"imm": imm, "parsed": list(slot.parse_imm(imm))}

    def op_slot_events(self, a: Mapping[str, Any]) -> Any:
        _arg(a.get("role") in states.TABLE and all(e in states.EVENTS for e in a.get("events", [None])),
             "role or event unknown")
        return {"results": states.run(a["role"], list(a["events"]))}

    def op_land(self, a: Mapping[str, Any]) -> Any:
        """One trustee slot from seq 1 ([LAND-5], [FLOW-5], [RSP-5])."""
        config = _config(a)
        for landing in a["landings"]:
            _arg(_uint(landing.get("imm"), 0xFFFF_FFFF), "imm")
        shapes = layout.shapes(a["closures"])
        expected = 1
        out: list[dict[str, Any]] = []
        for landing in a["landings"]:
            img = bytes(landing["image"])
            try:
                b = request.decode(img, shapes, config, expected, slot.parse_imm(landing["imm"])[1])
            except Rejected as e:
                seq = slot.U32.unpack_from(img)[0] if len(img) >= 4 else 0  # the rejected header's seq
                out.append({"response": response.encode_error(seq, e.code, e.detail, config.slot_size)})
                if e.code != "STALE_SEQUENCE":  # [FLOW-5] a rejection other than stale consumes the seq
                    expected = slot.next_seq(expected)
                continue
            out.append({"seq": b.seq, "count": len(b.requests)})
            expected = slot.next_seq(expected)
        return {"results": out}


__all__ = ["OracleTarget", "codes"]

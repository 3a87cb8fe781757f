"""The oracle answering the adapter's codec ops ([ADPT-5] .. [ADPT-9]), as a target of the suite.

Not a target users pick: it exists so that the oracle itself is checked against every codec case of
the catalogue and every golden vector (`tests/conformance/test_oracle.py`), and so that the
hypothesis tests can compare it with the reference op by op. `execute` and the transport ops are not
a codec's and are not answered.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import bootstrap, cbor, codes, frames, ids, layout, request, response, slot, states
from .errors import Rejected

OPS = (
    "hello", "closure_id", "register", "pack_capture", "unpack_capture", "check_cbor",
    "encode_request_batch", "pack_requests", "decode_request_batch", "encode_response_batch",
    "encode_error_response", "decode_response_batch", "encode_frame", "decode_frames",
    "attach_payload", "mint", "toggle", "negotiate", "decode_hello", "next_seq", "make_imm",
    "slot_events", "land",
)


def _reqs(a: Mapping[str, Any]) -> list[request.Request]:
    return [request.Request.of(r) for r in a["requests"]]


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
        img, frs = request.encode(a["seq"], _reqs(a), layout.shapes(a["closures"]), slot.Config.of(a.get("config")),
                                  a.get("slot_id", 0))
        return {"image": img, "frames": frs}

    def op_pack_requests(self, a: Mapping[str, Any]) -> Any:
        return {"counts": request.pack(_reqs(a), layout.shapes(a["closures"]), slot.Config.of(a.get("config")))}

    def op_decode_request_batch(self, a: Mapping[str, Any]) -> Any:
        b = request.decode(a["image"], layout.shapes(a["closures"]), slot.Config.of(a.get("config")),
                           a.get("expected_seq"), a.get("imm_seq16"))
        return {"seq": b.seq, "table": list(b.table), "requests": [r.as_map() for r in b.requests]}

    def op_attach_payload(self, a: Mapping[str, Any]) -> Any:
        shape = layout.shapes(a["closures"])[a["closure_id"]]
        captured, param = request.attach(shape, a["fallback_len"], bytes(a["payload"]))
        return {"captured": captured, "param": param}

    def op_encode_response_batch(self, a: Mapping[str, Any]) -> Any:
        config = slot.Config.of(a.get("config"))
        img, frs = response.encode(a["seq"], a["responses"], config.slot_size, a.get("slot_id", 0),
                                   config.fallback_limit)
        return {"image": img, "frames": frs}

    def op_encode_error_response(self, a: Mapping[str, Any]) -> Any:
        return {"image": response.encode_error(a["seq"], a["code"], a.get("detail", ""),
                                               slot.Config.of(a.get("config")).slot_size)}

    def op_decode_response_batch(self, a: Mapping[str, Any]) -> Any:
        results = [layout.Result.parse(s) for s in a["results"]]
        b = response.decode(a["image"], results, slot.Config.of(a.get("config")), a.get("expected_seq"),
                            a.get("imm_seq16"))
        return {"seq": b.seq, "status": b.status, "responses": [r.as_map() for r in b.responses],
                "detail": b.detail}

    def op_encode_frame(self, a: Mapping[str, Any]) -> Any:
        f = frames.Frame(a["kind"], a["slot_id"], a["seq"], a["index"], bytes(a["payload"]))
        return {"frame": f.encode()}

    def op_decode_frames(self, a: Mapping[str, Any]) -> Any:
        reader = frames.Reader(a.get("limit", frames.DEFAULT_LIMIT))
        got: list[frames.Frame] = []
        for chunk in a.get("chunks") or [a["data"]]:
            got += reader.feed_all(bytes(chunk))
        return {"frames": [f.as_map() for f in got], "buffered": reader.buffered}

    def op_mint(self, a: Mapping[str, Any]) -> Any:
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
        return {"version": bootstrap.negotiate(tuple(a["ours"]), tuple(a["theirs"]))}

    def op_decode_hello(self, a: Mapping[str, Any]) -> Any:
        return bootstrap.decode_hello(bytes(a["data"])).required()

    def op_next_seq(self, a: Mapping[str, Any]) -> Any:
        return {"seq": slot.next_seq(a["seq"])}

    def op_make_imm(self, a: Mapping[str, Any]) -> Any:
        imm = slot.make_imm(a["slot_id"], a["seq"])
        return {"imm": imm, "parsed": list(slot.parse_imm(imm))}

    def op_slot_events(self, a: Mapping[str, Any]) -> Any:
        return {"results": states.run(a["role"], list(a["events"]))}

    def op_land(self, a: Mapping[str, Any]) -> Any:
        """One trustee slot from seq 1 ([LAND-5], [FLOW-5], [RSP-5])."""
        config = slot.Config.of(a.get("config"))
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

"""Cases from the golden vectors of `protocol/vectors/` (read as plain JSON by `oracle.files`).

Each vector becomes one or two cases (`vec.<file>.<vector id>[.encode|.decode]`) that keep the
vector's clause ids; the vector files themselves stay the single source of their bytes, and a status
named in a vector becomes the wire value SPEC.md section 9 gives it (`oracle.codes`).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

import attrs
import cbor2

from ..model import Case, err, ok
from ..oracle import codes
from ..oracle.files import load_vectors
from ._wire import case


def _h(x: str | None) -> bytes | None:
    return None if x is None else bytes.fromhex(x)


def _closures(f: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    cl = [{**c, "id": int(c["id"], 16)} for c in f.get("closures", [])]
    return cl, {c["name"]: c for c in cl}


def _requests(reqs: list[dict[str, Any]], by: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"property": r["property"], "closure_id": by[r["closure"]]["id"], "captured": _h(r["captured"]),
             "param": _h(r["param"])} for r in reqs]


def _status(s: str | int) -> int:
    return s if isinstance(s, int) else codes.value(s)


def request_batch(f: dict[str, Any], add: Callable[..., None]) -> None:
    cl, by = _closures(f)
    for v in f["cases"]:
        reqs = _requests(v["requests"], by)
        frames = [bytes.fromhex(x) for x in v["frames"]]
        image = bytes.fromhex(v["image"])
        add(v, "encode", "encode_request_batch",
            {"config": v["config"], "closures": cl, "seq": v["seq"], "slot_id": v["slot_id"], "requests": reqs},
            ok({"image": image, "frames": frames}))
        stubs = {struct.unpack_from("<H", fr, 12)[0]: struct.unpack_from("<I", fr, 16)[0] for fr in frames}
        dec = [{**r, "fallback_len": None} if i not in stubs else
               {**r, "captured": b"", "param": None, "fallback_len": stubs[i]} for i, r in enumerate(reqs)]
        table_len = image[7]
        table = [int.from_bytes(image[8 + 8 * i : 16 + 8 * i], "little") for i in range(table_len)]
        add(v, "decode", "decode_request_batch",
            {"config": v["config"], "closures": cl, "image": image, "expected_seq": v["seq"],
             "imm_seq16": v["imm"] & 0xFFFF},
            ok({"seq": v["seq"], "table": table, "requests": dec}))


def request_batch_errors(f: dict[str, Any], add: Callable[..., None]) -> None:
    cl, _ = _closures(f)
    for v in f["cases"]:
        add(v, None, "decode_request_batch",
            {"config": v["config"], "closures": cl, "image": bytes.fromhex(v["image"]),
             "expected_seq": v.get("expected_seq"), "imm_seq16": v.get("imm_seq16")}, err(v["error"]))


def response_batch(f: dict[str, Any], add: Callable[..., None]) -> None:
    _, _by = _closures(f)
    for v in f["cases"]:
        image = bytes.fromhex(v["image"])
        if v.get("error"):
            if not v.get("decode_only"):
                add(v, "encode", "encode_error_response",
                    {"config": v["config"], "seq": v["seq"], "code": v["error"], "detail": v["detail"]},
                    ok({"image": image}))
            add(v, "decode", "decode_response_batch",  # [RSP-5], [ERR-3]: the status by its wire value
                {"config": v["config"], "results": [], "image": image, "expected_seq": v["seq"]},
                ok({"seq": v["seq"], "status": codes.value(v["error"]), "responses": [], "detail": v["detail"]}))
            continue
        rs = [{"status": _status(r["status"]), "result": _h(r["result"]) or b"", "body": _h(r["body"])}
              for r in v["responses"]]
        frames = [bytes.fromhex(x) for x in v["frames"]]
        add(v, "encode", "encode_response_batch",
            {"config": v["config"], "seq": v["seq"], "slot_id": v["slot_id"], "responses": rs},
            ok({"image": image, "frames": frames}))


def response_batch_errors(f: dict[str, Any], add: Callable[..., None]) -> None:
    _, by = _closures(f)
    for v in f["cases"]:
        add(v, None, "decode_response_batch",
            {"config": v["config"], "results": [by[n]["result"] for n in v["closures"]],
             "image": bytes.fromhex(v["image"]), "expected_seq": v.get("expected_seq")}, err(v["error"]))


def fallback_frames(f: dict[str, Any], add: Callable[..., None]) -> None:
    for v in f["cases"]:
        want = err(v["error"]) if v.get("error") else ok({
            "frames": [{**fr, "payload": bytes.fromhex(fr["payload"])} for fr in v["frames"]],
            "buffered": v["buffered"]})
        add(v, None, "decode_frames", {"limit": v["limit"], "data": bytes.fromhex(v["stream"])}, want)


def cbor(f: dict[str, Any], add: Callable[..., None]) -> None:
    for v in f["cases"]:
        add(v, None, "check_cbor", {"data": bytes.fromhex(v["data"])}, err(v["error"]) if v.get("error") else ok({}))


def packing(f: dict[str, Any], add: Callable[..., None]) -> None:
    cl, by = _closures(f)
    for v in f["cases"]:
        add(v, None, "pack_requests", {"config": v["config"], "closures": cl, "requests": _requests(v["requests"], by)},
            ok({"counts": v["batch_sizes"]}))


def trust_ids(f: dict[str, Any], add: Callable[..., None]) -> None:
    for v in f["cases"]:
        if "trust_id" in v:
            add(v, None, "mint", {"machine": v["machine"], "thread": v["thread"], "counter": v["counter"] - 1},
                ok({"id": int(v["trust_id"], 16)}))
        else:
            toggles = [{"id": int(t, 16), "why": "toggle"} for t in v["toggles"]]
            add(v, None, "toggle", {"first": int(v["first"], 16), "toggles": toggles},
                ok({"emptied": [i == v["emptied_at"] for i in range(len(toggles))]}))


_REQUIRED = ("versions", "machine", "threads", "slot_size", "table_k", "fallback_timeout_ms", "fallback_limit")


def bootstrap(f: dict[str, Any], add: Callable[..., None]) -> None:
    for v in f["cases"]:
        if "message" in v:
            data = bytes.fromhex(v["message"])
            if v.get("error"):
                add(v, None, "decode_hello", {"data": data}, err(v["error"]))
                continue
            m = cbor2.loads(data[4:])
            add(v, None, "decode_hello", {"data": data}, ok({k: m[k] for k in (*_REQUIRED, "trustees") if k in m}))
        elif "shape" in v:  # [SHAPE-2], [LIM-3]: no adapter op; tests/conformance checks the oracle on them
            continue
        else:
            add(v, None, "negotiate", {"ours": v["ours"], "theirs": v["theirs"]},
                err(v["error"]) if v.get("error") else ok({"version": v["version"]}))


def racks(f: dict[str, Any], add: Callable[..., None]) -> None:
    """[PROC-2] .. [PROC-5]: a rack's bootstrap message read by a side of application `app`."""
    for v in f["cases"]:
        add(v, None, "rack_message", {"data": bytes.fromhex(v["message"]), "app": v["app"]},
            err(v["error"]) if v.get("error") else ok(v["answer"]))


LOADERS: dict[str, Callable[[dict[str, Any], Callable[..., None]], None]] = {
    "request_batch": request_batch, "request_batch_errors": request_batch_errors,
    "response_batch": response_batch, "response_batch_errors": response_batch_errors,
    "fallback_frames": fallback_frames, "cbor": cbor, "packing": packing, "trust_ids": trust_ids,
    "bootstrap": bootstrap, "racks": racks,
}


def cases() -> list[Case]:
    out: list[Case] = []
    for stem, f in load_vectors().items():
        loader = LOADERS.get(stem)
        if loader is None:
            continue

        def add(v: dict[str, Any], suffix: str | None, op: str, args: dict[str, Any], expect: dict[str, Any],
                stem: str = stem) -> None:
            cid = f"vec.{stem}.{v['id']}" + (f".{suffix}" if suffix else "")
            c = case(cid, v.get("title", v["id"]), v["clauses"], op, args, expect, tags=("codec", "vector", stem))
            out.append(attrs.evolve(c, source=f"protocol/vectors/{stem}.json#{v['id']}"))

        loader(f, add)
    return out

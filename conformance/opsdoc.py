"""Generate `docs/adapter-ops.md`: one example request and answer per adapter op, from the reference.

    python -m conformance.opsdoc            # rewrite docs/adapter-ops.md
    python -m conformance.opsdoc --check    # exit 1 if the checked-in page differs

For every op of SPEC.md section 11 (the `NAME-request` rules of `protocol/schemas/adapter.cddl`) the
page shows the smallest catalogue case whose reference answer is `{"ok": ...}`: the request as the
suite sends it and the answer of the reference implementation (`reference-sansio`, the same code
`python -m conformance.adapter` serves), both after a CBOR round trip, in diagnostic notation. Each
example is checked against its schema while the page is made. `tests/conformance/test_opsdoc.py`
regenerates the page and fails when the checked-in copy has drifted.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cbor2

from . import schemas
from .cases import catalogue
from .model import Case, wire_args
from .report.diff import show

PAGE = Path(__file__).resolve().parent.parent / "docs" / "adapter-ops.md"

#: op -> the clause of section 11 that defines it
CLAUSE = {
    "hello": "ADPT-4",
    **dict.fromkeys(("encode_request_batch", "pack_requests", "decode_request_batch", "attach_payload"), "ADPT-6"),
    **dict.fromkeys(("encode_response_batch", "encode_error_response", "decode_response_batch"), "ADPT-7"),
    **dict.fromkeys(("encode_frame", "decode_frames", "mint", "toggle", "negotiate", "decode_hello", "rack_message",
                     "launch_env"), "ADPT-8"),
    **dict.fromkeys(("closure_id", "register", "pack_capture", "unpack_capture", "check_cbor", "next_seq",
                     "make_imm", "slot_events", "land", "shape_slots"), "ADPT-9"),
    "execute": "ADPT-10",
}
#: op -> the case shown for it: a plain example of each op; when it is gone (or no longer answers
#: `ok`), the smallest case that does is shown instead
PREFERRED = {
    "hello": "adpt.hello", "encode_request_batch": "req.encode.single", "pack_requests": "req.pack.no-reorder",
    "decode_request_batch": "req.decode.single", "attach_payload": "fb.attach-fixed",
    "encode_response_batch": "rsp.encode.mixed", "encode_error_response": "rsp.encode.batch-error",
    "decode_response_batch": "rsp.decode.mixed", "encode_frame": "fb.frame-encode", "decode_frames": "fb.frames-stream",
    "mint": "trust.id-layout", "toggle": "trust.in-order", "negotiate": "boot.negotiate-highest",
    "decode_hello": "boot.hello-valid", "closure_id": "cid.ascii", "register": "cid.register-standard",
    "pack_capture": "layout.pack-all", "unpack_capture": "layout.unpack-all", "check_cbor": "cbor.valid",
    "next_seq": "land.seq-wrap", "make_imm": "land.imm", "slot_events": "flow.client-cycle", "land": "land.in-order",
    "execute": "exec.in-order", "shape_slots": "shape.slots-server",
}
#: byte strings longer than this are written over several lines (whitespace is allowed inside h'...'
#: in extended diagnostic notation, RFC 8610 appendix G.1)
WRAP = 32


def ops() -> list[str]:
    """Every op the schemas describe, in the order adapter.cddl gives them."""
    return [r[: -len("-request")] for r in schemas.rules() if r.endswith("-request") and r != "decoded-request"]


def diag(v: Any, indent: int = 0) -> str:
    """CBOR diagnostic notation, one map entry a line when the one-line form is long."""
    flat = show(v)
    if len(flat) + indent <= 116 or not isinstance(v, (dict, list)) or not v:
        return flat if not (isinstance(v, bytes) and len(v) > WRAP) else _bytes(v, indent)
    pad = " " * (indent + 2)
    if isinstance(v, dict):
        items = [f"{pad}{show(k)}: {diag(x, indent + 2)}" for k, x in v.items()]
        return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"
    return "[\n" + ",\n".join(f"{pad}{diag(x, indent + 2)}" for x in v) + "\n" + " " * indent + "]"


def _bytes(b: bytes, indent: int) -> str:
    rows = [b[i : i + WRAP].hex() for i in range(0, len(b), WRAP)]
    pad = " " * (indent + 2)
    return "h'" + ("\n" + pad).join(rows) + "'"


def _roundtrip(v: Any) -> Any:
    return cbor2.loads(cbor2.dumps(v, canonical=True))


def examples() -> dict[str, tuple[Case, dict[str, Any], dict[str, Any]]]:
    """op -> (case, request, answer): the PREFERRED case, else the smallest one the reference
    answers with `ok`."""
    from .targets import open_target

    target = open_target("reference-sansio")
    best: dict[str, tuple[int, Case, dict[str, Any], dict[str, Any]]] = {}
    try:
        for c in catalogue():
            if c.op not in CLAUSE or c.capability not in target.capabilities:
                continue
            request = _roundtrip({"op": c.op, **wire_args(c)})
            size = -1 if PREFERRED.get(c.op) == c.id else len(cbor2.dumps(request, canonical=True))
            if c.op in best and best[c.op][0] <= size:
                continue
            answer = _roundtrip(target.call(c.op, wire_args(c)))
            if "ok" in answer:
                best[c.op] = (size, c, request, answer)
    finally:
        target.close()
    return {op: (c, req, ans) for op, (_, c, req, ans) in best.items()}


def render() -> str:
    ex = examples()
    missing = [op for op in ops() if op not in ex]
    if missing:
        raise RuntimeError(f"no catalogue case gives an ok example of {', '.join(missing)}")
    out = [
        "# Adapter ops by example",
        "",
        "<!-- Generated by `python -m conformance.opsdoc` from the reference implementation; do not edit.",
        "     tests/conformance/test_opsdoc.py regenerates it and fails when this copy has drifted. -->",
        "",
        "One request and its answer for every op of the conformance adapter protocol (SPEC.md section 11),",
        "taken from the catalogue case named under each heading (the smallest one the reference answers",
        "with `ok`) and answered by the reference implementation, the code `python -m conformance.adapter`",
        "serves. Values are in CBOR diagnostic notation (RFC 8949 section 8; long byte strings are broken",
        "over lines as RFC 8610 appendix G allows). On the wire each message is a `u32` little-endian",
        "length, then the map in core deterministic CBOR ([ADPT-2]); the first example shows those bytes.",
        "",
        "The shape of every request and answer is pinned by `protocol/schemas/adapter.cddl` ([ADPT-18]);",
        "each example below matches its op's `NAME-request` and `NAME-answer` rules. Any op may answer",
        "`{\"error\": NAME}` instead (`error-answer`), and an op the adapter does not implement answers",
        "`{\"error\": \"UNSUPPORTED\"}` ([ADPT-3]).",
        "",
        "| op | clause | example case |",
        "|---|---|---|",
    ]
    out += [f"| [`{op}`](#{op}) | [{CLAUSE[op]}] | `{ex[op][0].id}` |" for op in ops()]
    for i, op in enumerate(ops()):
        c, req, ans = ex[op]
        for rule, value in ((f"{op}-request", req), (f"{op}-answer", ans)):
            schemas.validate(rule, value)  # an example that breaks its own schema is a bug here
        out += ["", f'<a id="{op}"></a>', f"## `{op}` ([{CLAUSE[op]}])", "",
                f"Case `{c.id}`: {c.title} ({', '.join(c.clauses)}).", "",
                "Request (`" + op + "-request`):", "", "```", diag(req), "```", "",
                "Answer (`" + op + "-answer`):", "", "```", diag(ans), "```"]
        if i == 0:
            frame = cbor2.dumps(req, canonical=True)
            out += ["", "The request as bytes on the adapter's stdin (length, then CBOR):", "", "```",
                    f"{len(frame).to_bytes(4, 'little').hex()} {frame.hex()}", "```"]
    return "\n".join(out) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m conformance.opsdoc", description=__doc__.split("\n\n")[0])
    p.add_argument("--check", action="store_true", help="exit 1 if the checked-in page differs")
    p.add_argument("--out", type=Path, default=PAGE)
    a = p.parse_args(argv)
    text = render()
    if a.check:
        current = a.out.read_text(encoding="utf-8") if a.out.exists() else ""
        if current != text:
            print(f"{a.out} is stale: run python -m conformance.opsdoc", file=sys.stderr)
            return 1
        return 0
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(text, encoding="utf-8")
    print(f"wrote {a.out} ({len(ops())} ops)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

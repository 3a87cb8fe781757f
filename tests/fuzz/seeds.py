"""Write the seed corpus of each fuzz target from protocol/vectors: `python -m tests.fuzz.seeds`.

Each file of tests/fuzz/corpus/<target>/ is one input in the byte layout of that target
(tests/fuzz/targets.py), named by the vector case it comes from. The test suite checks that the
checked-in corpus is what this script writes (it cannot drift from the vectors).
"""

from __future__ import annotations

import shutil
import struct
from pathlib import Path
from typing import Any

from gossamer.bootstrap import Hello
from gossamer.vectors import load

from .targets import BY_NAME, CLOSURES, LIMITS, config_byte

ROOT = Path(__file__).resolve().parent / "corpus"


def _cfg(c: dict[str, Any]) -> int:
    return config_byte(c["slot_size"], c["table_k"], c["fallback_limit"])


def seeds() -> dict[str, dict[str, bytes]]:
    v = load()
    out: dict[str, dict[str, bytes]] = {t: {} for t in (
        "request_batch", "response_batch", "frame_stream", "stub_attach", "hello", "cbor_check", "layouts",
        "trustee_landing")}
    for c in v["request_batch"]["cases"] + v["request_batch_errors"]["cases"]:
        seq = c.get("expected_seq", c.get("seq", 0))
        image = bytes.fromhex(c["image"])
        out["request_batch"][c["id"]] = bytes([_cfg(c["config"]), seq if seq < 256 else 0]) + image
        for i, r in enumerate(c.get("requests", [])):
            payload = bytes.fromhex(r["captured"]) + bytes.fromhex(r["param"] or "")
            if len(payload) <= 0xFFFF:
                out["stub_attach"][f"{c['id']}-{i}"] = (bytes([BY_NAME[r["closure"]]])
                                                        + struct.pack("<H", len(payload)) + payload)
    from conformance.cases import catalogue  # the landing target runs the catalogue's closures

    for case in catalogue():
        if case.op == "execute" and case.args.get("batches"):
            first = case.args["batches"][0]
            if first.get("seq") == 1 and not first.get("frames"):
                out["trustee_landing"][case.id] = bytes([_cfg(case.args["config"]), 1]) + first["image"]
    for c in v["response_batch"]["cases"] + v["response_batch_errors"]["cases"]:
        names = c.get("closures", [])
        idx = bytes(BY_NAME[n] for n in names[:15])
        seq = c.get("expected_seq", c.get("seq", 0))
        out["response_batch"][c["id"]] = (bytes([_cfg(c["config"]), seq if seq < 256 else 0, len(idx)]) + idx
                                          + bytes.fromhex(c["image"]))
    for c in v["fallback_frames"]["cases"]:
        limit = min(range(4), key=lambda i: abs(LIMITS[i] - c["limit"]))
        out["frame_stream"][c["id"]] = bytes([limit, 128]) + bytes.fromhex(c["stream"])
    for c in v["bootstrap"]["cases"]:
        if "message" in c:
            out["hello"][c["id"]] = bytes.fromhex(c["message"])
    rdma = {"gid": bytes(16), "qpns": [17, 18], "psn": 5, "slots": {"base": 1 << 40, "rkey": 7, "ids": [0, 1, 2, 3]},
            "request_slots": [[0, 1], [2, 3]], "response_slots": [[], []], "fallback_port": 7471}
    out["hello"]["full-hello"] = Hello(machine=1, threads=2, rdma=rdma).encode()
    for c in v["cbor"]["cases"]:
        out["cbor_check"][c["id"]] = bytes.fromhex(c["data"])
    for d in CLOSURES:
        for spec in {d["capture"], d["result"]}:
            if spec and spec != "cbor":
                text = spec.encode()
                out["layouts"][d["name"].replace(":", "-") + "-" + spec.replace(" ", "_")] = (
                    bytes([len(text)]) + text + bytes(64))
    return out


def regressions() -> dict[str, dict[str, bytes]]:
    """The inputs of issue 13 that broke the reference ([SEC-1], [SER-4], [DEC-3]); fuzz findings are
    added to tests/fuzz/regressions/<target>/ by hand, named by what they broke."""
    import cbor2

    from gossamer.fallback import Frame, FrameKind

    from ..hostile.attacks import exponential_cbor

    def msg(m: dict[str, Any], extra: bytes = b"") -> bytes:
        body = cbor2.dumps(m, canonical=True)
        if extra:
            body = bytes([body[0] + 1]) + body[1:] + extra
        return struct.pack("<I", len(body)) + body

    base = {"versions": [1, 1], "machine": 1, "threads": 2, "slot_size": 1024, "table_k": 4,
            "fallback_timeout_ms": 5000, "fallback_limit": 1 << 20}
    big = 10**5000
    good = Frame(kind=FrameKind.REQUEST, slot_id=1, seq=2, index=0, payload=b"abc").encode()
    err_detail = struct.pack("<IBBBBI", 9, 0, 0, 0, 0x12, 0)  # placeholder replaced below
    detail = cbor2.dumps(big)
    body = struct.pack("<I", len(detail)) + detail
    body += bytes(-len(body) % 8)
    words = (8 + len(body)) // 8
    err_detail = struct.pack("<IHBB", 1, words + 1, 0, 0x12) + body + struct.pack("<IHBB", 1, words + 1, 0, 0x12)
    return {
        "hello": {
            "slot-size-5000-digits": msg({**base, "slot_size": big}),
            "machine-5000-digits": msg({**base, "machine": big}),
            "versions-5000-digits": msg({**base, "versions": [big, "x"]}),
            "shared-refs-extra-key": msg(base, cbor2.dumps("x") + exponential_cbor(40)),
        },
        "cbor_check": {"shared-refs-40": exponential_cbor(40),
                       "string-refs": b"\xd9\x01\x00\x99\x03\xe8" + cbor2.dumps("x" * 1000) + b"\xd8\x19\x00" * 999},
        "frame_stream": {"frame-then-bad-header-one-read": bytes([3, 255]) + good + b"XXXX" + good[4:]},
        "response_batch": {"error-detail-5000-digits": bytes([0x3A, 0, 0]) + err_detail},
    }


def write(root: Path = ROOT) -> None:
    reg = root.parent / "regressions"
    for target, files in regressions().items():
        (reg / target).mkdir(parents=True, exist_ok=True)
        for name, data in files.items():
            (reg / target / name).write_bytes(data)
    for target, files in seeds().items():
        d = root / target
        if d.exists():
            shutil.rmtree(d)
        d.mkdir(parents=True)
        seen: set[bytes] = set()
        for name, data in sorted(files.items()):
            if data not in seen:
                seen.add(data)
                (d / name).write_bytes(data)


if __name__ == "__main__":
    write()
    print({t: len(f) for t, f in seeds().items()})

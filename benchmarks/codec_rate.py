"""Encode and decode rates of the reference codec for full 1 KiB slots of 40-byte requests.

    python benchmarks/codec_rate.py [--seconds 2]

The batch is the thesis's: 25 requests of one closure with 32 bytes of captured data (SPEC.md
[SLOT-10]). Single process, one core. Prints human-readable lines, then one JSON object per line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Any

from gossamer.batch import decode_request_batch, encode_request_batch
from gossamer.closures import Registry
from gossamer.request import Request
from gossamer.response import Response, decode_response_batch, encode_response_batch
from gossamer.slot import SlotConfig


def _noop(*_: Any) -> None:
    return None


def rate(fn: Any, per_call: int, seconds: float) -> float:
    """Requests per second, median of 5 rounds of about seconds/5 each."""
    n = 1
    while True:  # calibrate a round to ~seconds/5
        t = time.perf_counter()
        for _ in range(n):
            fn()
        dt = time.perf_counter() - t
        if dt > seconds / 50:
            break
        n *= 2
    n = max(1, int(n * (seconds / 5) / dt))
    rounds = []
    for _ in range(5):
        t = time.perf_counter()
        for _ in range(n):
            fn()
        rounds.append(n * per_call / (time.perf_counter() - t))
    return statistics.median(rounds)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=2.0)
    args = ap.parse_args()
    reg = Registry()
    c = reg.register(_noop, "bench:add4", capture="u64 u64 u64 u64", result="u64")
    cfg = SlotConfig()
    reqs = [Request(0x1000 + 0x40 * i, c.id, bytes(range(i, i + 32))) for i in range(25)]
    image = encode_request_batch(1, reqs, reg.shapes, cfg).image
    assert len(image) == 1024
    resps = [Response(0, (i).to_bytes(8, "little")) for i in range(25)]
    rimage = encode_response_batch(1, resps, cfg).image
    specs = [c.result] * 25

    results = {
        "codec_encode_request_rate": rate(lambda: encode_request_batch(1, reqs, reg.shapes, cfg), 25, args.seconds),
        "codec_decode_request_rate": rate(lambda: decode_request_batch(image, reg.shapes, cfg, 1, 1), 25, args.seconds),
        "codec_encode_response_rate": rate(lambda: encode_response_batch(1, resps, cfg), 25, args.seconds),
        "codec_decode_response_rate": rate(lambda: decode_response_batch(rimage, specs, cfg, 1), 25, args.seconds),
    }
    print("reference codec, 1 KiB slots of 25 x 40-byte requests, one core")
    for name, value in results.items():
        print(f"  {name:32s} {value:12,.0f} requests/s")
    for name, value in results.items():
        print(json.dumps({"name": name, "value": round(value), "unit": "requests/s"}))


if __name__ == "__main__":
    main()

"""The nic_emu 32-byte RDMA WRITE message rate under each placement model, from one run.

    python benchmarks/nic_emu_placement.py [--seconds S] [--chunk BYTES]

Same loop as ``benchmarks/nic_emu_rate.py`` (``write_rate``: signaled 1/16, 64 in flight), once
per model (``whole``, ``ascending``, ``any``; nic_emu/docs/placement.md), each on a fresh fabric
with seed 0.  Prints human-readable figures, then one JSON object per line:
``{"name": ..., "value": ..., "unit": ...}``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from nic_emu_rate import SIGNAL_EVERY, write_rate

import nic_emu
from nic_emu.fabric import PLACEMENT_MODELS, Placement
from nic_emu.provider import verbs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=2.0, help="time per model")
    ap.add_argument("--chunk", type=int, default=64, help="chunk size of the relaxed models")
    args = ap.parse_args()
    v = verbs()
    results = []
    for model in PLACEMENT_MODELS:
        nic_emu.set_fabric(nic_emu.Fabric(seed=0, machines=2,
                                          placement=Placement(model=model, chunk=args.chunk)))
        rate, n = write_rate(v, ("emu0", "emu1"), 32, args.seconds)
        print(f"RDMA WRITE 32 B, signaled 1/{SIGNAL_EVERY}, placement {model}: "
              f"{rate:,.0f} msg/s ({n:,} writes)")
        results.append({"name": f"write_32B_rate_{model}", "value": round(rate), "unit": "msg/s"})
    for r in results:
        print(json.dumps(r))


if __name__ == "__main__":
    main()

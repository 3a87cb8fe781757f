"""32-byte RDMA WRITE message rate: real Soft-RoCE (rxe, in the guest) beside nic_emu, one command.

    python benchmarks/rxe_vs_emu.py [--seconds S]

One guest boot (``nic_emu.softroce``: Debian's 6.1 kernel under QEMU TCG, rxe0 and rxe1 on a veth
pair) runs the loop of ``benchmarks/nic_emu_rate.py`` (``write_rate``: 32-byte WRITEs, every 16th
signaled, up to 64 in flight) on rxe0 -> rxe1 with Debian's real pyverbs, then the same loop on
nic_emu in the same guest; this process then runs it on nic_emu on the host. Printed: the three
rates and the ratios

* ``rxe / nic_emu, both in the guest``: the same (emulated) CPU, the fair comparison;
* ``rxe in the guest / nic_emu on the host``: what a developer sees, TCG's slowdown included.

Ends with one JSON object per line: ``{"name": ..., "value": ..., "unit": ...}``.
``--guest-part`` is what runs inside the guest (prints JSON lines only).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SIZE = 32


def _write_rate(provider: str, names: tuple[str, str], seconds: float) -> tuple[float, int]:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import nic_emu_rate  # type: ignore[import-not-found,unused-ignore]
    finally:
        sys.path.pop(0)
    from nic_emu.provider import verbs

    v = verbs(provider)
    if provider == "emu":
        import nic_emu

        with nic_emu.use_fabric(nic_emu.Fabric(seed=0, machines=2)):
            rate, n = nic_emu_rate.write_rate(v, ("emu0", "emu1"), SIZE, seconds)
    else:
        rate, n = nic_emu_rate.write_rate(v, names, SIZE, seconds)
    return float(rate), int(n)


def guest_part(seconds: float) -> None:
    """Inside the guest: rxe first (the device is idle), then nic_emu on the same CPU."""
    for name, provider in (("rxe_guest", "pyverbs"), ("emu_guest", "emu")):
        rate, n = _write_rate(provider, ("rxe0", "rxe1"), seconds)
        print(json.dumps({"part": name, "rate": rate, "writes": n}), flush=True)


def _guest_rates(seconds: float, timeout: float) -> dict[str, dict[str, Any]]:
    from nic_emu.softroce.run import run_in_guest

    argv = ["/usr/bin/python3", str(Path(__file__).resolve()), "--guest-part", "--seconds", str(seconds)]
    res = run_in_guest(argv, devices=2, timeout=timeout, cwd=str(ROOT), stream=False)
    if res.exit_code != 0:
        sys.stderr.write((res.stdout + res.stderr).decode(errors="replace") + res.console_tail)
        raise SystemExit(f"rxe_vs_emu: the guest run failed (exit {res.exit_code})")
    out: dict[str, dict[str, Any]] = {}
    for line in res.stdout.decode(errors="replace").splitlines():
        if line.startswith("{"):
            d = json.loads(line)
            out[d["part"]] = d
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=5.0, help="time per rate measurement")
    ap.add_argument("--timeout", type=float, default=600.0, help="the guest run's limit")
    ap.add_argument("--guest-part", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.guest_part:
        guest_part(args.seconds)
        return 0
    guest = _guest_rates(args.seconds, args.timeout)
    host_rate, host_n = _write_rate("emu", ("emu0", "emu1"), args.seconds)
    rxe, emu_g = guest["rxe_guest"]["rate"], guest["emu_guest"]["rate"]
    print(f"RDMA WRITE {SIZE} B, signaled 1/16, rxe0 -> rxe1 (guest, TCG):  {rxe:>12,.0f} msg/s "
          f"({guest['rxe_guest']['writes']:,} writes)")
    print(f"RDMA WRITE {SIZE} B, signaled 1/16, nic_emu (guest, TCG):      {emu_g:>12,.0f} msg/s "
          f"({guest['emu_guest']['writes']:,} writes)")
    print(f"RDMA WRITE {SIZE} B, signaled 1/16, nic_emu (host):            {host_rate:>12,.0f} msg/s "
          f"({host_n:,} writes)")
    print(f"ratio rxe / nic_emu, both in the guest: {rxe / emu_g:.3f}")
    print(f"ratio rxe (guest) / nic_emu (host):     {rxe / host_rate:.4f}")
    results = [
        {"name": "write_32B_rate_rxe_guest", "value": round(rxe), "unit": "msg/s"},
        {"name": "write_32B_rate_emu_guest", "value": round(emu_g), "unit": "msg/s"},
        {"name": "write_32B_rate_emu_host", "value": round(host_rate), "unit": "msg/s"},
        {"name": "write_32B_rate_ratio_rxe_over_emu_guest", "value": round(rxe / emu_g, 4), "unit": "ratio"},
        {"name": "write_32B_rate_ratio_rxe_guest_over_emu_host", "value": round(rxe / host_rate, 5),
         "unit": "ratio"},
    ]
    for r in results:
        print(json.dumps(r))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Dissect a capture of a Gossamer run with tshark and the dissector, and check what it shows.

    python tests/wireshark/check_capture.py CAPTURE.pcap [--min-batches N]

Used by `tox -e rxe` on the capture the live suite recorded on rxe (tests/rxe/run_suites.py,
`--pcap`), and by tests/wireshark on the checked-in fixtures. Checks: at least N request and N
response batches were dissected; every batch's immediate seq16 equals its header's seq & 0xFFFF
unless the dissector reported STALE_SEQUENCE for it; every request names catalogue closures; no
Lua error. Exits 0 with a note when tshark is not installed (the tests env installs it:
protocol/wireshark/ensure_tshark.py), 1 on a failed check.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

LUA = Path(__file__).resolve().parents[2] / "protocol" / "wireshark" / "gossamer.lua"
FIELDS = ("frame.number", "gossamer.kind", "gossamer.header.seq", "gossamer.imm.seq16", "gossamer.closure",
          "gossamer.error.code", "gossamer_fb.kind", "gossamer_boot.length", "_ws.expert.message")


def dissect(pcap: Path, tshark: str) -> list[dict[str, str]]:
    with tempfile.TemporaryDirectory() as home:
        env = {"HOME": home, "WIRESHARK_CONFIG_DIR": home, "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        proc = subprocess.run(
            [tshark, "-n", "-2", "-X", f"lua_script:{LUA}", "-r", str(pcap), "-Y", "gossamer || gossamer_fb || "
             "gossamer_boot", "-T", "fields", "-E", "separator=|", "-E", "aggregator=,",
             *[a for f in FIELDS for a in ("-e", f)]],
            capture_output=True, text=True, env=env, timeout=600, check=False)
    if proc.returncode != 0 or "Lua: Error" in proc.stderr:
        raise SystemExit(f"check_capture: tshark failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return [dict(zip(FIELDS, line.split("|"), strict=True)) for line in proc.stdout.splitlines()]


def check(rows: list[dict[str, str]], min_batches: int) -> list[str]:
    problems = []
    kinds = Counter(r["gossamer.kind"] for r in rows if r["gossamer.kind"])
    for kind in ("request", "response"):
        if kinds[kind] < min_batches:
            problems.append(f"{kinds[kind]} {kind} batches dissected, fewer than {min_batches}")
    for r in rows:
        if not r["gossamer.kind"] or not r["gossamer.header.seq"]:
            continue
        seq, seq16 = int(r["gossamer.header.seq"]), int(r["gossamer.imm.seq16"])
        if seq & 0xFFFF != seq16 and "0x13" not in r["gossamer.error.code"]:
            problems.append(f"frame {r['frame.number']}: seq {seq} and immediate seq16 {seq16} without "
                            "STALE_SEQUENCE")
    for r in rows:
        if "Lua Error" in r["_ws.expert.message"]:
            problems.append(f"frame {r['frame.number']}: {r['_ws.expert.message']}")
    named = [r for r in rows if r["gossamer.kind"] == "request" and r["gossamer.closure"]]
    if kinds["request"] and not named:
        problems.append("no request names a catalogue closure")
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("pcap", type=Path)
    ap.add_argument("--min-batches", type=int, default=1)
    a = ap.parse_args(argv)
    tshark = shutil.which("tshark")
    if tshark is None:
        print("check_capture: tshark is not installed, the capture is not dissected "
              "(apt-get install tshark; protocol/wireshark/ensure_tshark.py)")
        return 0
    if not a.pcap.exists():
        print(f"check_capture: {a.pcap} does not exist")
        return 1
    rows = dissect(a.pcap, tshark)
    problems = check(rows, a.min_batches)
    kinds = Counter(r["gossamer.kind"] for r in rows if r["gossamer.kind"])
    errors = Counter(c for r in rows for c in r["gossamer.error.code"].split(",") if c)
    print(f"check_capture: {a.pcap}: {kinds['request']} requests, {kinds['response']} responses, "
          f"{sum(1 for r in rows if r['gossamer_fb.kind'])} fallback frames, "
          f"{sum(1 for r in rows if r['gossamer_boot.length'])} bootstrap messages; expert errors by code: "
          f"{dict(errors) or 'none'}")
    for p in problems:
        print(f"check_capture: FAIL {p}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

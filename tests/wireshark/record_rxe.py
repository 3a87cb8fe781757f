"""Record a capture of live trustee cases on real Soft-RoCE (rxe) for the dissector's fixture.

    python tests/wireshark/record_rxe.py OUT.pcap [CASE FILTERS...]

Where the machine has no RDMA device it boots one Soft-RoCE guest (nic_emu.softroce: rxe0 on
veth0, rxe1 on veth1, the host's root read-only); inside, the reference trustee serves on rxe1
and `gossamer-conformance run --target live:198.18.0.2:7470 --device rxe0 --pcap` runs the cases,
recording veth0 (policy routing sends the RDMA and the TCP side channels between the two
addresses over the veth pair). Takes a few minutes under QEMU TCG.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GUEST_PYTHON = "/usr/bin/python3"
LIVE_HOST, LIVE_PORT = "198.18.0.2", 7480
DEFAULT_CASES = ("exec.in-order", "exec.torn-answered", "exec.batch-error-runs-nothing", "exec.fallback-frame",
                 "exec.big-result", "exec.entrust")
CAPTURE = "rxe-live.pcap"


def in_guest(out: Path, cases: list[str]) -> int:
    env = dict(os.environ, GOSSAMER_VERBS="pyverbs")
    ready = out / "serve.port"
    log = (out / "serve.log").open("wb")
    srv = subprocess.Popen(
        [GUEST_PYTHON, "-m", "conformance.peers.reference_trustee", "--device", "rxe1", "--host", LIVE_HOST,
         "--port", str(LIVE_PORT), "--ready-file", str(ready), "--fallback-timeout-ms", "1000"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 180
        while not (ready.exists() and ready.read_text().strip()):
            if srv.poll() is not None or time.monotonic() > deadline:
                print("record_rxe: the reference trustee did not come up", flush=True)
                return 2
            time.sleep(0.1)
        return subprocess.call(
            [GUEST_PYTHON, "-m", "conformance.cli", "run", "-q", "--target", f"live:{LIVE_HOST}:{LIVE_PORT}",
             "--device", "rxe0", "--timeout", "30", "--pcap", str(out / CAPTURE), *cases], cwd=ROOT, env=env)
    finally:
        srv.send_signal(signal.SIGTERM)
        try:
            srv.wait(10)
        except subprocess.TimeoutExpired:
            srv.kill()
        log.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("pcap")
    ap.add_argument("cases", nargs="*")
    ap.add_argument("--in-guest", metavar="DIR", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    cases = a.cases or list(DEFAULT_CASES)
    if a.in_guest:
        return in_guest(Path(a.in_guest), cases)
    out = Path(tempfile.mkdtemp(prefix="record-rxe-"))
    here = [GUEST_PYTHON, str(Path(__file__).resolve()), "--in-guest", str(out), a.pcap, *cases]
    if Path("/sys/class/infiniband").is_dir() and any(Path("/sys/class/infiniband").iterdir()):
        rc = subprocess.call(here, cwd=ROOT)
    else:
        sys.path.insert(0, str(ROOT))
        from nic_emu.softroce.run import run_in_guest, select_env

        env = select_env(os.environ)
        env["GOSSAMER_VERBS"] = "pyverbs"
        res = run_in_guest(here, devices=2, timeout=900, cwd=str(ROOT), env=env, writable=[str(out)])
        rc = res.exit_code if res.status == "ok" else 2
        if res.status != "ok":
            print(f"record_rxe: guest run failed: {res.status} {res.message}", flush=True)
    got = out / CAPTURE
    if got.exists():
        shutil.copyfile(got, a.pcap)
        print(f"record_rxe: {got.stat().st_size} bytes -> {a.pcap} (suite exit {rc})", flush=True)
    else:
        print(f"record_rxe: no capture (exit {rc}); see {out}", flush=True)
        return 2
    return 0 if rc in (0, 1) else rc


if __name__ == "__main__":
    sys.exit(main())

"""``python -m nic_emu.softroce check``: the runner's own acceptance test.

Boots a guest with two rxe devices, runs ``ibv_devices`` and a small pyverbs program (Debian's
/usr/bin/python3): one RC QP on rxe0 and one on rxe1, GID index 1 (RoCE v2, ::ffff:198.18.0.x),
path MTU 1024, a signalled 40-byte RDMA WRITE from rxe0 into an MR on rxe1, then compares the
bytes. Prints PASS or FAIL with the timings.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time

from .prepare import DEBIAN_PYTHON, log, prepare
from .run import report_failure, run_in_guest

GID_INDEX = 1
PAYLOAD_LEN = 40

#: Runs in the guest under /usr/bin/python3; prints one JSON line with its findings.
PYVERBS_WRITE = r"""
import json, os, sys, time
t0 = time.monotonic()
import pyverbs.enums as e
from pyverbs.addr import AHAttr, GlobalRoute
from pyverbs.cq import CQ
from pyverbs.device import Context
from pyverbs.mr import MR
from pyverbs.pd import PD
from pyverbs.qp import QP, QPAttr, QPCap, QPInitAttr
from pyverbs.wr import SGE, SendWR
t_import = time.monotonic() - t0
GID, N = int(sys.argv[1]), int(sys.argv[2])
ACC = e.IBV_ACCESS_LOCAL_WRITE | e.IBV_ACCESS_REMOTE_WRITE | e.IBV_ACCESS_REMOTE_READ

class Side:
    def __init__(self, name):
        self.ctx = Context(name=name)
        self.pd = PD(self.ctx)
        self.cq = CQ(self.ctx, 16)
        self.mr = MR(self.pd, 4096, ACC)
        cap = QPCap(max_send_wr=4, max_recv_wr=4, max_send_sge=1, max_recv_sge=1)
        init = QPInitAttr(qp_type=e.IBV_QPT_RC, scq=self.cq, rcq=self.cq, cap=cap)
        init_attr = QPAttr(port_num=1)
        init_attr.qp_access_flags = ACC  # applied by the RESET->INIT transition in QP()
        self.qp = QP(self.pd, init, init_attr)
        self.gid = self.ctx.query_gid(1, GID)

    def connect(self, peer, psn, peer_psn):
        attr = QPAttr(port_num=1)
        attr.path_mtu = e.IBV_MTU_1024
        attr.dest_qp_num = peer.qp.qp_num
        attr.rq_psn = peer_psn
        attr.sq_psn = psn
        attr.max_dest_rd_atomic = 1
        attr.max_rd_atomic = 1
        attr.min_rnr_timer = 12
        attr.timeout = 14
        attr.retry_cnt = 7
        attr.rnr_retry = 7
        attr.qp_access_flags = ACC
        gr = GlobalRoute(dgid=peer.gid, sgid_index=GID)
        attr.ah_attr = AHAttr(port_num=1, is_global=1, gr=gr)
        self.qp.to_rts(attr)

t1 = time.monotonic()
a, b = Side("rxe0"), Side("rxe1")
a.connect(b, 100, 200)
b.connect(a, 200, 100)
t_connect = time.monotonic() - t1
payload = bytes((i * 7 + 3) % 256 for i in range(N))
a.mr.write(payload, N)
wr = SendWR(wr_id=1, opcode=e.IBV_WR_RDMA_WRITE, num_sge=1, sg=[SGE(a.mr.buf, N, a.mr.lkey)],
            send_flags=e.IBV_SEND_SIGNALED)
wr.set_wr_rdma(b.mr.rkey, b.mr.buf)
t2 = time.monotonic()
a.qp.post_send(wr)
wc = None
while time.monotonic() - t2 < 20:
    n, wcs = a.cq.poll()
    if n:
        wc = wcs[0]
        break
t_write = time.monotonic() - t2
got = b.mr.read(N, 0)
print(json.dumps({
    "gids": [str(a.gid), str(b.gid)],
    "wc_status": None if wc is None else wc.status,
    "wc_opcode": None if wc is None else wc.opcode,
    "match": got == payload,
    "import_s": round(t_import, 3),
    "connect_s": round(t_connect, 3),
    "write_s": round(t_write, 4),
}))
sys.exit(0 if wc is not None and wc.status == 0 and got == payload else 1)
"""

GUEST_SCRIPT = f"""
set -e
echo '== ibv_devices'
ibv_devices
t0=$(date +%s.%N)
{DEBIAN_PYTHON} -c pass
t1=$(date +%s.%N)
{DEBIAN_PYTHON} -c 'import pyverbs.device'
t2=$(date +%s.%N)
{DEBIAN_PYTHON} -c 'import pytest'
t3=$(date +%s.%N)
python_s=$(awk "BEGIN {{print $t1 - $t0}}")
pyverbs_s=$(awk "BEGIN {{print $t2 - $t1}}")
pytest_s=$(awk "BEGIN {{print $t3 - $t2}}")
echo "== guest-timings python_pass_s=$python_s import_pyverbs_s=$pyverbs_s" \
  "import_pytest_s=$pytest_s"
echo '== pyverbs RDMA WRITE rxe0 -> rxe1'
exec {DEBIAN_PYTHON} -c "$1" {GID_INDEX} {PAYLOAD_LEN}
"""


def check(timeout: float = 300.0) -> int:
    """Boot, verify both devices and one RDMA WRITE; print PASS/FAIL; return an exit code."""
    t0 = time.monotonic()
    prep = prepare()
    t_prep = time.monotonic() - t0
    res = run_in_guest(
        ["sh", "-c", GUEST_SCRIPT, "check", PYVERBS_WRITE],
        devices=2,
        timeout=timeout,
        prepared=prep,
        cwd="/",
        stream=True,
    )
    total = time.monotonic() - t0
    report_failure(res)
    out = res.stdout.decode("utf-8", "replace")
    facts: dict[str, object] = {}
    for line in out.splitlines():
        if line.startswith("{"):
            with contextlib.suppress(ValueError):
                facts = json.loads(line)
        if line.startswith("== guest-timings"):
            for item in line.split()[2:]:
                k, _, v = item.partition("=")
                facts[k] = v
    ok = res.status == "ok" and res.exit_code == 0 and "rxe0" in out and "rxe1" in out
    t = res.timings
    summary = (
        f"prepare {t_prep:.2f} s, boot-to-stage2 {t.get('boot', 0):.2f} s, "
        f"devices up {t.get('setup', 0):.2f} s, command done {t.get('command', 0):.2f} s, "
        f"qemu {t.get('qemu', 0):.2f} s, total {total:.2f} s"
    )
    log(f"timings: {summary}")
    if facts:
        log(f"guest: {json.dumps(facts)}")
    print(f"softroce check: {'PASS' if ok else 'FAIL'} ({total:.1f} s)", flush=True)
    sys.stderr.flush()
    return 0 if ok else (res.exit_code or 1)

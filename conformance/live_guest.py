"""The live-mode proof on Soft-RoCE, as one guest command (`nic_emu/softroce`, two rxe devices).

    S=$(python -c 'from conformance.live_guest import GUEST_SCRIPT; print(GUEST_SCRIPT)')
    python -m nic_emu.softroce run --devices 2 -- sh -c "$S"

Inside the guest, with Debian's `/usr/bin/python3` (the only Python with pyverbs there) and
`GOSSAMER_VERBS=pyverbs`: the reference trustee serves on rxe1 (198.18.0.2) in the background, and
`gossamer-conformance run --target live:198.18.0.2:PORT --device rxe0` drives it from rxe0 in
another process. `tests/conformance/test_live.py` runs this with GOSSAMER_SOFTROCE=1.

`CLIENT_GUEST_SCRIPT` is the client role ([ADPT-14]): the suite listens as the trustee machine
(`--target live-client:7471` on rxe0, 198.18.0.1), the reference client
(`python -m conformance.peers.reference_client`) connects from rxe1 in another process, once per case;
`tests/conformance/test_client_role.py` runs it with GOSSAMER_SOFTROCE=1.
"""

from __future__ import annotations

PORT = 7470

GUEST_SCRIPT = f"""
export GOSSAMER_VERBS=pyverbs
PY=/usr/bin/python3
t0=$(date +%s.%N)
$PY -m conformance.peers.reference_trustee --device rxe1 --host 198.18.0.2 --port {PORT} --ready-file /tmp/srv.port \\
    --fallback-timeout-ms 1000 \\
    2>/tmp/srv.log &
SRV=$!
i=0
while [ ! -s /tmp/srv.port ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done
t1=$(date +%s.%N)
$PY -m conformance.cli run --target live:198.18.0.2:{PORT} --device rxe0 -q
rc=$?
t2=$(date +%s.%N)
kill $SRV 2>/dev/null
wait $SRV 2>/dev/null
echo "server log (last lines):"; tail -n 3 /tmp/srv.log
echo "timing: server up in $(echo "$t1 - $t0" | bc 2>/dev/null || echo "?") s"
echo "timing: suite process $(echo "$t2 - $t1" | bc 2>/dev/null || echo "?") s"
exit $rc
"""

CLIENT_PORT = 7471

CLIENT_GUEST_SCRIPT = f"""
export GOSSAMER_VERBS=pyverbs
PY=/usr/bin/python3
t0=$(date +%s.%N)
$PY -m conformance.cli run --target live-client:{CLIENT_PORT} --device rxe0 -q tag:client >/tmp/suite.out 2>&1 &
SUITE=$!
$PY -m conformance.peers.reference_client --connect 198.18.0.1:{CLIENT_PORT} --device rxe1 --retry 120 \\
    2>/tmp/client.log &
CLI=$!
wait $SUITE
rc=$?
t1=$(date +%s.%N)
kill $CLI 2>/dev/null
wait $CLI 2>/dev/null
cat /tmp/suite.out
echo "client log (last lines):"; tail -n 3 /tmp/client.log
echo "timing: suite process $(echo "$t1 - $t0" | bc 2>/dev/null || echo "?") s"
exit $rc
"""

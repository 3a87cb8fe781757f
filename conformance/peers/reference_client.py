"""The reference runtime as a client machine that the suite judges ([ADPT-14] .. [ADPT-16]).

    python -m conformance.peers.reference_client --connect HOST:PORT --device DEV [--sessions N]

`ReferenceClient` connects to the suite's bootstrap port as the non-accepting side of [BOOT-5],
once per session: it reads the suite's hello, builds a `gossamer.runtime.Rack(2, T, remote=1)`
with the suite's `T`, `S`, `K` and fallback settings (machine 0 is the client under test, with the
catalogue's closures registered; machine 1, remote, is the suite), sends its hello, connects its
QPs, exchanges `ready`, opens one fallback connection per client thread to the suite's
`fallback_port` ([FB-8]), then waits for the workload. Each call of the workload is queued on its
client thread's `ClientSide` (the runtime's own client: batching, tables, seqs, flow control,
fallback frames and response handling are all its), every call before the first flush; the rack
then runs until every call has its answer, and the outcomes go back as `{"results": [...]}`.
This module only carries the bootstrap and the report.

`poll()` is one step, without threads or blocking calls, so the same client runs under `main()`
on a device and inside the suite's step loop on the emulated NIC (the default target).
"""

from __future__ import annotations

import argparse
import socket
import sys
import time
from typing import Any

from gossamer.bootstrap import Hello, check_rdma, check_sender, hello_from_map
from gossamer.errors import ErrorCode, GossamerError, LocalProtocolError
from gossamer.runtime import NO_ARG, Pending, Rack, RackFailure, make_request

from ..catalogue_closures import cid
from ..live_bootstrap import READY, BootstrapFailed, Channel, encode
from .reference_trustee import registry


class ReferenceClient:
    """A client machine of the reference runtime, one suite session after another."""

    def __init__(self, v: Any, device: str, host: str, port: int, *, fabric: Any = None, log: Any = None,
                 retry: float = 10.0, sessions: int = 0) -> None:
        """`sessions`: stop connecting after that many sessions (0: until the suite is gone)."""
        self.v, self.device, self.host, self.port = v, device, host, port
        self.fabric = fabric
        self.log = log
        self.retry = retry
        self.limit = sessions
        self.registry = registry()
        self.phase = "connect"  # connect -> hello -> ready -> workload -> running -> done
        self.chan: Channel | None = None
        self.rack: Rack | None = None
        self.suite: Hello | None = None
        self.results: list[Any] = []
        self.waiting = 0
        self.sessions = 0
        self.batches = 0
        self.gave_up = False
        self._since = time.monotonic()

    def _say(self, text: str) -> None:
        if self.log is not None:
            print(f"reference_client: {text}", file=self.log, flush=True)

    def poll(self) -> bool:
        """One step; True if anything happened."""
        try:
            return self._poll()
        except (BootstrapFailed, RackFailure, OSError, GossamerError) as e:
            self._say(f"session {self.sessions} ended: {str(e).splitlines()[0]}")
            self._end()
            return True

    def _poll(self) -> bool:
        if self.phase == "connect":
            if self.gave_up or (self.limit and self.sessions >= self.limit):
                return False
            try:
                sock = socket.create_connection((self.host, self.port), timeout=5.0)
            except (ConnectionRefusedError, TimeoutError):
                if time.monotonic() - self._since > self.retry:
                    self.gave_up = True  # [ADPT-14]: retried long enough; the suite is gone
                return False
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.chan = Channel(sock)
            self.phase = "hello"
            return True
        assert self.chan is not None
        if self.phase == "hello":  # [BOOT-5]: the acceptor (the suite) speaks first
            m = self.chan.try_recv()
            if m is None:
                return False
            try:
                self.suite = suite = hello_from_map(m)
                check_sender(suite, 1)  # [BOOT-11], [DEC-5] step 11: the suite is machine 1 ([ADPT-14])
                # [SEC-2], [DEC-5] steps 13 to 17: the suite's RDMA keys, before any is used (this
                # client runs the suite's thread count, every thread a trustee)
                check_rdma(suite, suite.threads, suite.config.slot_size)
            except GossamerError as e:
                self.chan.send(encode({"error": int(e.code), "detail": str(e)}))
                raise
            # [BOOT-2], [BOOT-8]: the acceptor's S, K, timeout, limit and thread count
            self.rack = Rack(2, suite.threads, seed=self.sessions, config=suite.config, registry=self.registry,
                             fabric=self.fabric, verbs=self.v, devices=[self.device], remote=1)
            self.chan.send(self.rack.hello_for(0, 1))
            self.rack.connect_remote(0, 1, encode(m))
            self.chan.send(encode(READY))  # [BOOT-7]
            self.phase = "ready"
            return True
        assert self.rack is not None and self.suite is not None
        if self.phase == "ready":
            m = self.chan.try_recv()
            if m is None:
                return False
            if m != READY:
                raise BootstrapFailed(f"expected {{'ready': true}}, got {m!r:.80}")
            # [FB-8], [ADPT-14]: one fallback connection per client thread, before the first batch
            hub = self.rack.fallback
            hub.reach_remote(1, self.host, int(self.suite.rdma["fallback_port"]))
            for c in range(self.rack.threads):
                hub.open_remote(0, c, 1)
            self.phase = "workload"
            return True
        if self.phase == "workload":
            m = self.chan.try_recv()
            if m is None:
                return self.rack.fallback.pump()
            if not isinstance(m, dict) or not isinstance(m.get("workload"), list):
                raise BootstrapFailed(f"expected a workload, got {m!r:.80}")
            self._submit(m["workload"])
            self.phase = "running"
            return True
        if self.phase == "running":
            ran = self.rack.serve_round()
            ran = self.rack.fallback.pump() or ran
            if self.waiting == 0:
                self.chan.send(encode({"results": self.results}))  # [ADPT-16]
                self.phase = "done"
                return True
            return ran
        # done: the suite closes the connection when it has judged the session
        self.rack.fallback.pump()
        self.chan.try_recv()  # raises BootstrapFailed once the suite closed: the session ends
        return False

    def _submit(self, calls: list[Any]) -> None:
        """[ADPT-15]: queue every call, in order, before any batch is written."""
        assert self.rack is not None
        self.results = [None] * len(calls)
        self.waiting = len(calls)
        for i, call in enumerate(calls):
            closure = self.registry.get(cid(str(call["closure"])))
            try:
                if closure is None:
                    raise LocalProtocolError(ErrorCode.UNKNOWN_CLOSURE, "VT-5", f"no closure {call['closure']!r}")
                req = make_request(self.registry, int(call["pointer"]), closure, tuple(call.get("captured", ())),
                                   call.get("arg", NO_ARG))
            except GossamerError as e:
                self._done(i, None, e)
                continue
            th = self.rack.machines[0].threads[int(call["thread"])]
            th.client.submit(1, int(call["trustee"]), Pending(req, closure, self._callback(i)))

    def _callback(self, i: int) -> Any:
        def on_done(value: Any, error: GossamerError | None) -> None:
            self._done(i, value, error)

        return on_done

    def _done(self, i: int, value: Any, error: GossamerError | None) -> None:
        self.results[i] = {"error": error.code.name} if error is not None else {"ok": value}
        self.waiting -= 1

    def _end(self) -> None:
        if self.rack is not None:
            self.batches += sum(th.client.batches_sent for th in self.rack.all_threads)
            self.rack.close()
            for m in self.rack.machines:
                m.net.close()
        if self.chan is not None:
            self.chan.close()
        self.rack, self.chan, self.suite, self.phase = None, None, None, "connect"
        self.sessions += 1
        self._since = time.monotonic()

    def close(self) -> None:
        if self.phase != "connect":
            self._end()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m conformance.peers.reference_client",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--connect", required=True, metavar="HOST:PORT", help="the suite's bootstrap port")
    p.add_argument("--device", required=True, help="verbs device (rxe0, mlx5_0, emu0 ...)")
    p.add_argument("--sessions", type=int, default=0, help="stop after N sessions (0: until the suite is gone)")
    p.add_argument("--retry", type=float, default=10.0, help="seconds to retry a refused connection ([ADPT-14])")
    a = p.parse_args(argv)
    from nic_emu.provider import verbs

    host, _, port = a.connect.rpartition(":")
    client = ReferenceClient(verbs(), a.device, host, int(port), log=sys.stderr, retry=a.retry,
                             sessions=a.sessions)
    idle = 0
    try:
        while not client.gave_up and (a.sessions == 0 or client.sessions < a.sessions):
            if client.poll():
                idle = 0
                continue
            idle += 1
            if client.phase == "connect":
                time.sleep(0.1)
            elif idle > 2000:
                time.sleep(0.0002)
    finally:
        client.close()
    print(f"reference_client: {client.sessions} sessions, {client.batches} batches", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

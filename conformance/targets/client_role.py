"""Client cases: the suite plays a trustee machine and judges a client under test ([ADPT-14] ..
[ADPT-17]).

`ClientRoleTarget` answers the op `client_run`. For each case it accepts one bootstrap connection
on its listening port (the client connects, [BOOT-5]), sends the hello of a `SuiteTrustee`
(`peers/suite_trustee.py`), reads the client's, connects the QPs, exchanges `ready` ([BOOT-7]), accepts the
client's fallback connections ([FB-8]) and sends the case's workload ([ADPT-15]). Then it collects
every batch the client writes (bytes, immediate, WRITE length, the QP it came on, its request
frames and the connection they came on), holds each for the time the case names, answers it with
the case's crafted response image (and response frames, on the client thread's connection), notes
any WRITE into a slot whose batch is still unanswered ([FLOW-1]), and finally reads the client's
report ([ADPT-16]). The answer carries all of it; the case's check judges it.

Where the client runs:
- `ClientRoleTarget.in_process()`: the reference client (`conformance.peers.reference_client`) on a fresh
  emulated fabric per case, in this process, stepped while the suite waits; the bootstrap still
  crosses a real loopback TCP connection. The default target uses it, so the client cases run
  there too.
- `live-client:[HOST:]PORT`: the suite listens; the client under test connects from wherever it runs.
"""

from __future__ import annotations

import select
import socket
import time
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from ..live_bootstrap import READY, BootstrapFailed, Channel, encode
from ..model import Outcome, TargetBroken, err, ok
from ..oracle import codes
from ..oracle.bootstrap import VERSION, Hello, check_fallback_secret, negotiate
from ..oracle.errors import Rejected
from ..oracle.frames import KIND_RESPONSE, forge
from ..oracle.response import error_image
from ..oracle.slot import HDR, Config
from ..peers.suite_client import PeerError
from ..peers.suite_trustee import Arrival, FallbackListener, SuiteTrustee

CLIENT_OPS = frozenset({"client_run"})
STALE_SEQUENCE = codes.value("STALE_SEQUENCE")
#: a client under test is machine 0 and the suite, its trustee machine, machine 1 ([BOOT-11], [ADPT-14])
CLIENT_MACHINE = 0


class Env:
    """Where one case's client runs: `pump` steps an in-process client; `fabric` is its fabric."""

    def __init__(self, pump: Callable[[], object] | None = None, fabric: Any = None,
                 close: Callable[[], None] | None = None) -> None:
        self.pump = pump
        self.fabric = fabric
        self._close = close

    def close(self) -> None:
        if self._close is not None:
            self._close()


class ClientRoleTarget:
    name = "client-role"

    def __init__(self, name: str, v: Any, device: str, host: str = "0.0.0.0", port: int = 0, *,
                 gid_index: int = 1, timeout: float = 10.0, first_timeout: float = 60.0,
                 env: Callable[[ClientRoleTarget], Env] | None = None) -> None:
        self.name = name
        self.v, self.device, self.gid_index = v, device, gid_index
        self.timeout = timeout
        self.first_timeout = first_timeout
        self.ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind((host, port))
        self.ls.listen(4)
        self.ls.setblocking(False)
        self.host = host
        self.port = int(self.ls.getsockname()[1])
        self.env = env
        self.sessions = 0

    @classmethod
    def in_process(cls, name: str = "reference") -> ClientRoleTarget:
        """The reference client on the emulated NIC, in this process ([ADPT-14])."""
        from nic_emu.provider import verbs

        def env(t: ClientRoleTarget) -> Env:
            import nic_emu

            from ..peers.reference_client import ReferenceClient

            fab = nic_emu.Fabric(seed=t.sessions, machines=2)
            client = ReferenceClient(verbs("emu"), "emu0", "127.0.0.1", t.port, fabric=fab, sessions=1)
            return Env(client.poll, fab, client.close)

        return cls(name, verbs("emu"), "emu1", "127.0.0.1", 0, timeout=5.0, first_timeout=5.0, env=env)

    @property
    def capabilities(self) -> frozenset[str]:
        return CLIENT_OPS

    def call(self, op: str, args: Mapping[str, Any]) -> Outcome:
        if op not in CLIENT_OPS:
            return err("UNSUPPORTED")
        env = self.env(self) if self.env is not None else Env()
        try:
            return ok(self._run(env, args))
        except (PeerError, BootstrapFailed, OSError, Rejected) as e:
            raise TargetBroken(f"{type(e).__name__}: {e}") from None
        finally:
            env.close()
            self.sessions += 1

    def close(self) -> None:
        self.ls.close()

    # -- one session -----------------------------------------------------------------------

    def _accept(self, env: Env) -> socket.socket:
        limit = self.first_timeout if self.sessions == 0 else self.timeout
        deadline = time.monotonic() + limit
        while True:
            try:
                sock, _ = self.ls.accept()
                sock.setblocking(True)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                return sock
            except (BlockingIOError, InterruptedError):
                pass
            if time.monotonic() > deadline:
                raise TargetBroken(f"no client connected to port {self.port} within {limit:.0f} s ([ADPT-14])")
            if env.pump is not None:
                env.pump()
            else:
                select.select([self.ls], [], [], 0.05)

    def _run(self, env: Env, a: Mapping[str, Any]) -> dict[str, Any]:
        import nic_emu

        config = attrs.evolve(Config.of(a.get("config")), fallback_timeout_ms=int(a.get("fallback_timeout_ms", 1000)))
        threads = int(a.get("threads", 2))
        pump = env.pump
        chan = Channel(self._accept(env))
        prev = nic_emu.set_fabric(env.fabric) if env.fabric is not None else None
        try:
            suite = SuiteTrustee(self.v, self.device, threads, config, gid_index=self.gid_index)
        finally:
            if env.fabric is not None:
                nic_emu.set_fabric(prev)
        fb = FallbackListener("127.0.0.1" if self.host in ("127.0.0.1", "localhost") else "0.0.0.0",
                              config.fallback_limit)
        try:
            chan.send(suite.hello(fb.port).encode())  # [BOOT-5] the acceptor speaks first
            m = chan.recv(self.timeout, pump)
            if isinstance(m, dict) and "error" in m and "versions" not in m:
                raise TargetBroken(f"the client refused our hello: {m}")
            hello = Hello.from_map(m)  # the oracle's [DEC-5] checks
            negotiate((VERSION, VERSION), hello.versions)  # [BOOT-1]
            fb.secret = check_fallback_secret(m)  # [SEC-6] its callers present it after their hellos
            if hello.machine != CLIENT_MACHINE:  # [BOOT-11], [DEC-5] step 11: the suite is machine 1
                raise TargetBroken(f"[BOOT-11] the client's hello names machine {hello.machine}; a client under test "
                                   f"is machine {CLIENT_MACHINE} ([ADPT-14])")
            if hello.threads != threads:
                raise TargetBroken(f"[BOOT-8] the client announced {hello.threads} threads, not our {threads}")
            prev = nic_emu.set_fabric(env.fabric) if env.fabric is not None else None
            try:
                suite.connect(hello)
            finally:
                if env.fabric is not None:
                    nic_emu.set_fabric(prev)
            if chan.recv(self.timeout, pump) != READY:
                raise TargetBroken("expected {'ready': true} ([BOOT-7])")
            early = self._early_callers(env, fb)  # [FB-13]: before our ready, no fallback connection
            chan.send(encode(READY))
            chan.send(encode({"workload": list(a["workload"])}))  # [ADPT-15]
            return {**self._drive(env, a, chan, suite, fb, hello.machine), "early_fallback": early}
        finally:
            chan.close()
            if pump is not None:
                for _ in range(20):  # let an in-process client see the close and end its session
                    pump()
            fb.close()
            suite.close()

    @staticmethod
    def _early_callers(env: Env, fb: FallbackListener) -> int:
        """[FB-13]: the fallback connections the client opened before it read our `ready` (it has
        sent its own): the client is given a moment to open them (pumped, when it runs in-process)."""
        until = time.monotonic() + 0.1
        while time.monotonic() < until:
            if env.pump is not None:
                env.pump()
            else:
                time.sleep(0.01)
        fb.poll()
        return len(fb.conns)

    def _drive(self, env: Env, a: Mapping[str, Any], chan: Channel, suite: SuiteTrustee, fb: FallbackListener,
               client_machine: int) -> dict[str, Any]:
        pump = env.pump
        t_n = suite.threads
        answers = {(int(x["thread"]), int(x["trustee"]), int(x["seq"])): x for x in a.get("answers", [])}
        queue: list[dict[str, Any]] = []  # landed, not yet answered, in landing order
        unanswered: set[int] = set()
        batches: list[dict[str, Any]] = []
        report: Any = None
        deadline = time.monotonic() + self.timeout + 2 * suite.config.fallback_timeout_ms / 1000.0
        while report is None:
            if pump is not None:
                pump()
            moved = suite.poll()
            moved = fb.poll() or moved
            for arr in suite.arrivals:
                rec = _record(arr, t_n, arr.slot_id in unanswered)  # early: [FLOW-1]
                c, t, seq = rec["thread"], rec["trustee"], rec["seq"]
                unanswered.add(arr.slot_id)
                batches.append(rec)
                spec = answers.get((c, t, seq))
                hold = (spec or {}).get("hold_ms", 0) / 1000.0
                queue.append({"rec": rec, "spec": spec, "due": arr.at + hold, "pumps": 40 if hold else 0,
                              "frames_by": arr.at + 1.0})
            suite.arrivals.clear()
            now = time.monotonic()
            for q in list(queue):
                rec, spec = q["rec"], q["spec"]
                # the case's request frames, from the connection they came on ([FB-4], [FB-8])
                want_in = [int(i) for i in (spec or {}).get("frames_in", [])]  # entry indices, in order
                want_frames = len(want_in)
                while len(rec["frames"]) < want_frames:
                    got = fb.take(rec["slot"], rec["seq"], want_in[len(rec["frames"])])
                    if got is None:
                        break
                    rec["frame_callers"].append(list(got[0]) if got[0] else None)
                    rec["frames"].append(got[1].encode())
                if q["pumps"] > 0:
                    q["pumps"] -= 1
                if now < q["due"] or q["pumps"] > 0:
                    continue
                if len(rec["frames"]) < want_frames and now < q["frames_by"]:
                    continue
                if any(o["rec"]["slot"] == rec["slot"] for o in queue[: queue.index(q)]):
                    continue  # answer a slot's batches in landing order
                self._answer(suite, fb, rec, spec, client_machine)
                queue.remove(q)
                if not any(o["rec"]["slot"] == rec["slot"] for o in queue):
                    unanswered.discard(rec["slot"])
                moved = True
            m = chan.try_recv()
            if m is not None:
                if not isinstance(m, dict) or "results" not in m:
                    raise TargetBroken(f"expected the client's report, got {m!r:.80} ([ADPT-16])")
                report = m["results"]
                break
            if time.monotonic() > deadline:
                if any(b["early"] for b in batches):  # judge the [FLOW-1] violation, not the hang after it
                    break
                raise TargetBroken(f"no report from the client within {self.timeout:.0f} s "
                                   f"({len(batches)} batches seen, {len(queue)} unanswered) ([ADPT-16])")
            if not moved and pump is None:
                time.sleep(0.0005)
        # frames or batches that came after the report still count against the client
        suite.poll()
        fb.poll()
        batches += [_record(arr, t_n, arr.slot_id in unanswered) for arr in suite.arrivals]
        return {"batches": batches, "results": report, "threads": t_n,
                "callers": [list(c) for c in fb.callers()], "client_machine": client_machine,
                "client_secret": fb.secret is not None, "callers_secret": fb.callers_secret(),
                "stray_imms": suite.stray_imms, "broken_frames": fb.broken}

    def _answer(self, suite: SuiteTrustee, fb: FallbackListener, rec: dict[str, Any], spec: Mapping[str, Any] | None,
                client_machine: int) -> None:
        c, t, seq = rec["thread"], rec["trustee"], rec["seq"]
        slot = suite.response_slots[c][t]
        if spec is None:  # a batch the case did not expect: reject it so the client is not left hanging
            image = error_image(seq, STALE_SEQUENCE, "the suite expected no such batch")
            rec["answered"] = "unexpected"
            suite.respond(c, t, image, (slot << 16) | (seq & 0xFFFF))
            return
        for f in spec.get("frames_out", []):  # response payloads first, on the caller's connection
            fb.send((client_machine, c), forge(KIND_RESPONSE, slot, seq, int(f["index"]), bytes(f["payload"])))
        imm_seq = int(spec.get("imm_seq", seq))
        suite.respond(c, t, bytes(spec["image"]), (slot << 16) | (imm_seq & 0xFFFF))


def _record(arr: Arrival, threads: int, early: bool) -> dict[str, Any]:
    """What the answer reports of one landed batch (the suite's slot of (c, t) is `c * T + t`)."""
    c, t = divmod(arr.slot_id, threads)
    return {"thread": c, "trustee": t, "slot": arr.slot_id, "qp": arr.qp_index, "imm": arr.imm,
            "byte_len": arr.byte_len, "image": arr.image, "seq": HDR.unpack_from(arr.image)[0] if len(arr.image) >= 8
            else 0, "early": early, "frames": [], "frame_callers": []}


def live_client_target(address: str, device: str | None = None, gid_index: int = 1,
                       timeout: float = 10.0, first_timeout: float = 60.0) -> ClientRoleTarget:
    """`live-client:[HOST:]PORT`: listen on HOST (default every address) and PORT for the client
    under test, which connects once per case ([ADPT-14]); the first case waits `first_timeout` s."""
    from nic_emu.provider import verbs

    host, sep, port = address.rpartition(":")
    if not port.isdigit():
        raise ValueError(f"live-client target {address!r}: expected [HOST:]PORT")
    v = verbs()
    if device is None:
        devs = v.device.get_device_list()
        if not devs:
            raise RuntimeError("no verbs device (use --device; real RDMA needs GOSSAMER_VERBS=pyverbs)")
        d = devs[0].name
        device = d.decode() if isinstance(d, bytes) else str(d)
    name = f"live-client:{address} via {device}"
    return ClientRoleTarget(name, v, device, host if sep and host else "0.0.0.0", int(port), gid_index=gid_index,
                            timeout=timeout, first_timeout=first_timeout)

"""`tox -e rxe`: the verbs property tests, the runtime tests and the conformance suite on real
Soft-RoCE (Linux `rdma_rxe`), with Debian's `/usr/bin/python3` and its `python3-pyverbs`.

    python tests/rxe/run_suites.py [--out DIR] [--timeout S] [--direct] [-- PYTEST ARGS AND PATHS...]

Where the host already has RDMA devices (`/sys/class/infiniband/*`, e.g. rxe0 made with `rdma
link add`), or inside the Soft-RoCE guest, everything runs here (`--direct`). Elsewhere, as on
this project's machines (no InfiniBand in the kernel, no module loading), it boots ONE guest with
`nic_emu.softroce` (rxe0 on veth0, rxe1 on veth1) and runs everything in it, in this order:

1. `verbs` + `runtime` + `hostile` + `procs`: one pytest session (pytest and hypothesis are imported
   once) over `tests/nic_emu`, `tests/runtime`, two racks of 2 processes (`tests/procs`: spawn and
   join across processes, kill -9 of one process mid-run) and the hostile machine's attacks on a rack
   (`tests/hostile/test_rack_attacks.py`: forged slot writes and immediates from another peer, an
   unused response slot, [SEC-3], [SEC-4]; `test_fallback_attacks.py`: caller identity claims,
   [SEC-6]), `GOSSAMER_VERBS=pyverbs`, hypothesis profile `rxe`; the session's junit file is split
   per suite afterwards.
2. `conformance`: `gossamer-conformance run` (the default target: codec cases in process, trustee
   cases on nic_emu; this proves the installed package works with Debian's Python).
3. `conformance-live`: the reference trustee (`conformance.peers.reference_trustee`) on rxe1 in the
   background, `gossamer-conformance run --target live:198.18.0.2:7470 --device rxe0`: the
   trustee cases over real verbs.
4. `conformance-live-wrong`: wrong trustees (`conformance/mutants/live.py`, served by
   `python -m conformance.mutants.live --wrong NAME`) on rxe1, each of which the suite must fail
   (exit 1) naming what it broke: immediates
   byte-swapped ([GEN-1], refused in seconds), versions [2, 2] ([BOOT-1]), responses on the client
   thread's QP ([BOOT-8]). The three servers start together; the suite then runs against each in
   turn. (The other wrong trustees are proven in process over nic_emu,
   `tests/conformance/test_live_mutants.py`.)
5. `conformance-live-client`: the client role: the suite listens on rxe0 as a trustee machine
   (`--target live-client:7471`), the reference client (`conformance.peers.reference_client`) connects
   from rxe1 in another process; the `client` cases over real verbs.

Junit files: `DIR/junit-rxe-SUITE.xml` for each suite above (DIR is shared
read-write with the guest). Prints a table of counts and times per suite; exits 0 only when every
suite ran at least one test and none failed. The host side uses only the standard library, so it
runs from a bare interpreter (tox's `skip_install` env) right after `standalone.py prepare`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
GUEST_PYTHON = "/usr/bin/python3"
#: pytest path prefix (as a junit classname) -> suite name
PYTEST_SUITES = {"tests.nic_emu.": "verbs", "tests.runtime.": "runtime", "tests.hostile.": "hostile",
                 "tests.procs.": "procs"}
#: the hostile machine's attacks that mean something on real verbs (the rest are codec and TCP only)
HOSTILE_ON_RXE = ("tests/hostile/test_rack_attacks.py", "tests/hostile/test_fallback_attacks.py")
#: racks of 2 processes on rxe0 and rxe1 (gossamer launch --local 2, SPEC.md 10.1): spawn and join
#: across processes, and kill -9 of one process in the middle of a run (about 25 s each under TCG)
PROCS_ON_RXE = ("tests/procs/test_processes.py::test_spawn_and_join_across_processes",
                "tests/procs/test_processes.py::test_kill_9_of_one_process_ends_the_whole_application")
SUITES = ("verbs", "runtime", "hostile", "procs",
          "conformance", "conformance-live", "conformance-live-wrong", "conformance-live-client")
LIVE_HOST, LIVE_PORT = "198.18.0.2", 7470  # rxe1's address in the guest (nic_emu/softroce)
SUITE_HOST, CLIENT_PORT = "198.18.0.1", 7471  # rxe0's: the suite listening as a trustee ([ADPT-14])
#: wrong trustees (conformance/mutants/live.py) served on rxe1: the suite must fail each (exit 1) and
#: name the clause, over real verbs too: (name, case filters, what the output must say)
WRONG_ON_RXE = (
    ("imm-byte-swapped", (), "immediate byte-swapped"),
    ("versions-2", (), "[BOOT-1]"),
    ("answers-on-client-qp", ("live.response-qp",), "[BOOT-8]"),
)


def _say(msg: str) -> None:
    print(f"rxe: {msg}", flush=True)


# -- inside the guest (or on a host with devices) ----------------------------------------------


def _run(argv: list[str], env: dict[str, str]) -> tuple[int, float]:
    t0 = time.monotonic()
    _say("$ " + " ".join(argv))
    rc = subprocess.call(argv, cwd=ROOT, env=env)
    return rc, time.monotonic() - t0


def _live(out: Path, env: dict[str, str], devices: tuple[str, str]) -> tuple[int, float]:
    """The reference trustee on devices[1], the suite on devices[0], two processes."""
    t0 = time.monotonic()
    ready = out / "reference_trustee.port"
    ready.unlink(missing_ok=True)
    log = (out / "reference_trustee.log").open("wb")
    srv = subprocess.Popen(
        [GUEST_PYTHON, "-m", "conformance.peers.reference_trustee", "--device", devices[1], "--host", LIVE_HOST,
         "--port", str(LIVE_PORT), "--ready-file", str(ready),
         # a short [FB-5] timeout keeps the fallback-timeout cases quick under TCG, as live_guest.py does
         "--fallback-timeout-ms", "1000"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 120
        while not (ready.exists() and ready.read_text().strip()):
            if srv.poll() is not None or time.monotonic() > deadline:
                _say(f"the reference trustee did not come up (see {out / 'reference_trustee.log'})")
                return 2, time.monotonic() - t0
            time.sleep(0.1)
        rc, _ = _run([GUEST_PYTHON, "-m", "conformance.cli", "run", "-q", "--target",
                      f"live:{LIVE_HOST}:{LIVE_PORT}", "--device", devices[0],
                      "--timeout", "30",  # software-emulated CPUs on a loaded 2-core host can be slow
                      # the session as on the wire (veth0), dissected afterwards (tests/wireshark/check_capture.py)
                      "--pcap", str(out / "rxe-live.pcap"),
                      "--junit", str(out / "junit-rxe-conformance-live.xml")], env)
    finally:
        srv.send_signal(signal.SIGTERM)
        try:
            srv.wait(10)
        except subprocess.TimeoutExpired:
            srv.kill()
            srv.wait()
        log.close()
    return rc, time.monotonic() - t0


def _stop(srv: subprocess.Popen[bytes]) -> None:
    srv.send_signal(signal.SIGTERM)
    try:
        srv.wait(10)
    except subprocess.TimeoutExpired:
        srv.kill()
        srv.wait()


def _live_wrong(out: Path, env: dict[str, str], devices: tuple[str, str]) -> tuple[int, float]:
    """Each wrong trustee of WRONG_ON_RXE on devices[1], the suite on devices[0]: the run must exit 1
    and its output name what the trustee broke. One junit testcase per wrong trustee.

    The servers start together (their imports under TCG overlap on the guest's two CPUs; an idle
    server waits in select), then the suite runs against each in turn; each testcase's time is its
    suite run, the stage's time includes the shared start."""
    t0 = time.monotonic()
    cases: list[tuple[str, float, str | None]] = []
    servers: list[tuple[subprocess.Popen[bytes], Any]] = []
    readies: list[Path] = []
    try:
        for i, (name, _, _) in enumerate(WRONG_ON_RXE):
            ready = out / f"wrong-{name}.port"
            ready.unlink(missing_ok=True)
            readies.append(ready)
            log = (out / f"wrong-{name}.log").open("wb")
            servers.append((subprocess.Popen(
                [GUEST_PYTHON, "-m", "conformance.mutants.live", "--device", devices[1], "--host", LIVE_HOST,
                 "--port", str(LIVE_PORT + 10 + i), "--ready-file", str(ready), "--fallback-timeout-ms", "1000",
                 "--wrong", name],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT), log))
        deadline = time.monotonic() + 180
        up = [False] * len(servers)
        while not all(up) and time.monotonic() < deadline:
            up = [(r.exists() and bool(r.read_text().strip())) or srv.poll() is not None
                  for r, (srv, _) in zip(readies, servers, strict=True)]
            time.sleep(0.1)
        _say(f"{len(servers)} wrong trustees started in {time.monotonic() - t0:.1f} s")
        for i, (name, filters, says) in enumerate(WRONG_ON_RXE):
            c0 = time.monotonic()
            srv, _ = servers[i]
            problem: str | None = None
            if srv.poll() is not None or not (readies[i].exists() and readies[i].read_text().strip()):
                problem = f"the wrong trustee {name} did not come up"
            else:
                argv = [GUEST_PYTHON, "-m", "conformance.cli", "run", "-q", "--target",
                        f"live:{LIVE_HOST}:{LIVE_PORT + 10 + i}", "--device", devices[0], "--timeout", "30", *filters]
                _say("$ " + " ".join(argv))
                res = subprocess.run(argv, check=False, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
                text = res.stdout + res.stderr
                print(text.strip()[-1500:], flush=True)
                if res.returncode != 1 or says not in text:
                    problem = f"exit {res.returncode}, expected 1 with {says!r} in the output"
            _stop(srv)
            took = time.monotonic() - c0
            _say(f"wrong trustee {name}: {'caught' if problem is None else 'NOT CAUGHT: ' + problem} ({took:.1f} s)")
            cases.append((name, took, problem))
    finally:
        for srv, log in servers:
            if srv.poll() is None:
                _stop(srv)
            log.close()
    root = ET.Element("testsuites")
    ts = ET.SubElement(root, "testsuite", name="rxe-conformance-live-wrong", tests=str(len(cases)),
                       failures=str(sum(p is not None for _, _, p in cases)))
    for name, took, problem in cases:
        tc = ET.SubElement(ts, "testcase", classname="conformance-live-wrong", name=name, time=f"{took:.2f}")
        if problem is not None:
            ET.SubElement(tc, "failure", message=problem)
    ET.ElementTree(root).write(out / "junit-rxe-conformance-live-wrong.xml", encoding="utf-8", xml_declaration=True)
    return (1 if any(p is not None for _, _, p in cases) else 0), time.monotonic() - t0


def _live_client(out: Path, env: dict[str, str], devices: tuple[str, str]) -> tuple[int, float]:
    """The client role ([ADPT-14]): the suite listens on devices[0] as a trustee machine; the
    reference client connects from devices[1] in another process, once per case."""
    t0 = time.monotonic()
    log = (out / "reference_client.log").open("wb")
    cli = subprocess.Popen(
        [GUEST_PYTHON, "-m", "conformance.peers.reference_client", "--connect", f"{SUITE_HOST}:{CLIENT_PORT}",
         "--device", devices[1], "--retry", "120"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        rc, _ = _run([GUEST_PYTHON, "-m", "conformance.cli", "run", "-q", "--target", f"live-client:{CLIENT_PORT}",
                      "--device", devices[0], "--junit", str(out / "junit-rxe-conformance-live-client.xml"),
                      "tag:client"], env)
    finally:
        cli.send_signal(signal.SIGTERM)
        try:
            cli.wait(10)
        except subprocess.TimeoutExpired:
            cli.kill()
            cli.wait()
        log.close()
    return rc, time.monotonic() - t0


def in_guest(out: Path, pytest_args: list[str]) -> int:
    out.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env["GOSSAMER_VERBS"] = "pyverbs"
    env.setdefault("CI", "1")
    devices = tuple(env.setdefault("GOSSAMER_DEVICES", "rxe0,rxe1").split(","))[:2]
    assert len(devices) == 2, "GOSSAMER_DEVICES names two devices (the same one twice works)"
    times: dict[str, float] = {}
    codes: dict[str, int] = {}
    junit = out / "junit-rxe-pytest.xml"
    rc, times["pytest"] = _run(
        [GUEST_PYTHON, "-bb", "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rfEs", "--tb=short",
         "--hypothesis-profile", "rxe", "-o", "faulthandler_timeout=600", "--durations", "10",
         f"--junitxml={junit}", *(pytest_args or ["tests/nic_emu", "tests/runtime", *HOSTILE_ON_RXE, *PROCS_ON_RXE])],
        env)
    codes["pytest"] = rc
    rc, times["conformance"] = _run(
        [GUEST_PYTHON, "-m", "conformance.cli", "run", "-q",
         "--junit", str(out / "junit-rxe-conformance.xml")], env)
    codes["conformance"] = rc
    codes["conformance-live"], times["conformance-live"] = _live(out, env, (devices[0], devices[1]))
    codes["conformance-live-wrong"], times["conformance-live-wrong"] = _live_wrong(out, env, (devices[0], devices[1]))
    codes["conformance-live-client"], times["conformance-live-client"] = _live_client(
        out, env, (devices[0], devices[1]))
    (out / "times.txt").write_text("".join(f"{k} {v:.1f} {codes[k]}\n" for k, v in times.items()))
    return 0 if not any(codes.values()) else 1


# -- on the host -------------------------------------------------------------------------------


def _counts(path: Path) -> dict[str, tuple[int, int, int, int, float]]:
    """suite -> (tests, failed, errors, skipped, seconds) from a junit file."""
    root = ET.parse(path).getroot()
    out: dict[str, list[float]] = {}
    for case in root.iter("testcase"):
        cls = case.get("classname", "")
        suite = next((s for p, s in PYTEST_SUITES.items() if cls.startswith(p)), None)
        if suite is None:
            suite = path.stem.removeprefix("junit-rxe-")
        c = out.setdefault(suite, [0, 0, 0, 0, 0.0])
        c[0] += 1
        c[1] += case.find("failure") is not None
        c[2] += case.find("error") is not None
        c[3] += case.find("skipped") is not None
        c[4] += float(case.get("time", 0) or 0)
    return {k: (int(a), int(b), int(c), int(d), e) for k, (a, b, c, d, e) in out.items()}


def _split_pytest_junit(path: Path) -> None:
    """Write junit-rxe-verbs.xml and junit-rxe-runtime.xml out of the one pytest session."""
    tree = ET.parse(path)
    for prefix, suite in PYTEST_SUITES.items():
        root = ET.Element("testsuites")
        ts = ET.SubElement(root, "testsuite", name=f"rxe-{suite}")
        n = f = e = s = 0
        for case in tree.getroot().iter("testcase"):
            if case.get("classname", "").startswith(prefix):
                ts.append(case)
                n += 1
                f += case.find("failure") is not None
                e += case.find("error") is not None
                s += case.find("skipped") is not None
        ts.set("tests", str(n))
        ts.set("failures", str(f))
        ts.set("errors", str(e))
        ts.set("skipped", str(s))
        ET.ElementTree(root).write(path.with_name(f"junit-rxe-{suite}.xml"), encoding="utf-8",
                                   xml_declaration=True)


def report(out: Path) -> int:
    counts: dict[str, tuple[int, int, int, int, float]] = {}
    pytest_junit = out / "junit-rxe-pytest.xml"
    if pytest_junit.exists():
        _split_pytest_junit(pytest_junit)
        counts.update(_counts(pytest_junit))
    for name in ("conformance", "conformance-live", "conformance-live-wrong", "conformance-live-client"):
        p = out / f"junit-rxe-{name}.xml"
        if p.exists():
            counts.update(_counts(p))
    times: dict[str, float] = {}
    tpath = out / "times.txt"
    if tpath.exists():
        for line in tpath.read_text().splitlines():
            k, took, _rc = line.split()
            times[k] = float(took)
    print()
    print(f"{'suite (on rxe)':<24} {'passed':>7} {'failed':>7} {'errors':>7} {'skipped':>8} {'test s':>8}")
    ok = True
    for suite in SUITES:
        if suite not in counts:
            print(f"{suite:<24} {'(no junit file: did not run)':>40}")
            ok = False
            continue
        n, f, e, s, secs = counts[suite]
        passed = n - f - e - s
        print(f"{suite:<24} {passed:>7} {f:>7} {e:>7} {s:>8} {secs:>8.1f}")
        ok = ok and passed > 0 and f == 0 and e == 0
    if times:
        print("wall clock: " + ", ".join(f"{k} {v:.0f} s" for k, v in times.items()))
    print(f"junit files: {out}/junit-rxe-*.xml")
    return 0 if ok else 1


def _has_devices() -> bool:
    ib = Path("/sys/class/infiniband")
    return ib.is_dir() and any(ib.iterdir())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / ".tox" / "rxe-results"), help="junit files go here")
    ap.add_argument("--timeout", type=float, default=1500.0, help="the guest run's limit (s)")
    ap.add_argument("--direct", action="store_true", help="run here, on this machine's devices")
    ap.add_argument("--in-guest", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("pytest_args", nargs="*", help="instead of tests/nic_emu tests/runtime")
    a = ap.parse_args(argv)
    out = Path(a.out).resolve()
    if a.in_guest:
        return in_guest(out, a.pytest_args)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    t0 = time.monotonic()
    here = [GUEST_PYTHON, str(Path(__file__).resolve()), "--in-guest", "--out", str(out)]
    if a.pytest_args:
        here += ["--", *a.pytest_args]
    if a.direct or os.environ.get("GOSSAMER_SOFTROCE_GUEST") or _has_devices():
        _say("RDMA devices on this machine: running directly")
        rc = subprocess.call(here, cwd=ROOT)
    else:
        sys.path.insert(0, str(ROOT))
        from nic_emu.softroce.run import run_in_guest, select_env

        _say("no RDMA device here: one Soft-RoCE guest (nic_emu.softroce) runs every suite")
        env = select_env(os.environ)
        env["GOSSAMER_VERBS"] = "pyverbs"
        res = run_in_guest(here, devices=2, timeout=a.timeout, cwd=str(ROOT), env=env, writable=[str(out)])
        rc = res.exit_code
        if res.status != "ok":
            _say(f"guest run failed: {res.status} {res.message}")
        _say("guest timings: " + ", ".join(f"{k} {v:.1f} s" for k, v in res.timings.items()))
    _say(f"whole run {time.monotonic() - t0:.0f} s, in-guest exit code {rc}")
    rep = report(out)
    return rc or rep


if __name__ == "__main__":
    sys.exit(main())

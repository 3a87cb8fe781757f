"""Boot a guest, run one command in it, stream its output, return its exit code.

Python API: :func:`run_in_guest` (returns a :class:`RunResult`); the CLI in ``__main__`` is a
thin layer over it.
"""

from __future__ import annotations

import contextlib
import fnmatch
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from . import guest
from .prepare import Prepared, log, prepare, repo_root

#: Runner exit codes (anything else is the guest command's own exit code).
EXIT_SETUP_FAILED = 122  # guest booted but the rxe devices (or a share, or the cwd) failed
EXIT_PANIC = 123  # the guest kernel panicked
EXIT_TIMEOUT = 124  # --timeout (or the boot timeout) expired; the guest was killed
EXIT_BOOT_FAILED = 125  # qemu or the guest failed before stage 2 (or preparing failed)

#: Host variables passed through by default (fnmatch patterns).
DEFAULT_PASS_ENV: tuple[str, ...] = ("CI", "GOSSAMER_*")
DEFAULT_TIMEOUT = 1800.0
DEFAULT_BOOT_TIMEOUT = 120.0
DEFAULT_MEM_MB = 1024
POLL = 0.05


@dataclass
class RunResult:
    """Outcome of one guest run. ``exit_code`` is what the CLI exits with."""

    exit_code: int
    status: str  # "ok" (command ran; see command_rc), "timeout", "panic", "boot", "setup"
    command_rc: int | None = None
    message: str = ""
    console_tail: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    stdout: bytes = b""
    stderr: bytes = b""


def select_env(
    host_env: Mapping[str, str],
    patterns: Sequence[str] = DEFAULT_PASS_ENV,
    extra: Sequence[str] = (),
) -> dict[str, str]:
    """Host variables to pass into the guest: those matching ``patterns``, then ``extra``
    items (``NAME=VALUE``, or ``NAME`` to copy the host's value if set)."""
    env = {k: v for k, v in host_env.items() if any(fnmatch.fnmatchcase(k, p) for p in patterns)}
    for item in extra:
        name, eq, value = item.partition("=")
        if not name or not name.replace("_", "a").isalnum():
            raise ValueError(f"bad --env item: {item!r}")
        if eq:
            env[name] = value
        elif name in host_env:
            env[name] = host_env[name]
    return env


class _Tail:
    """Forwards what is appended to a file to a stream (and keeps a copy)."""

    def __init__(self, path: Path, sink: BinaryIO | None) -> None:
        self.path = path
        self.sink = sink
        self.pos = 0
        self.data = bytearray()

    def pump(self) -> None:
        try:
            with self.path.open("rb") as fh:
                fh.seek(self.pos)
                chunk = fh.read()
        except FileNotFoundError:
            return
        if chunk:
            self.pos += len(chunk)
            self.data += chunk
            if self.sink is not None:
                self.sink.write(chunk)
                self.sink.flush()


def _tail_text(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_bytes().decode("utf-8", "replace")
    except FileNotFoundError:
        return ""
    return "\n".join(text.replace("\r", "").splitlines()[-lines:])


#: host directories the guest hides under its own tmpfs
TMPFS_IN_GUEST = ("/tmp", "/run")


def _inside(path: str, root: str) -> bool:
    p, r = Path(path), Path(root)
    return p == r or r in p.parents


def _under_tmpfs(path: str) -> bool:
    return any(_inside(path, t) for t in TMPFS_IN_GUEST)


def run_in_guest(
    argv: Sequence[str],
    *,
    devices: int = 2,
    timeout: float = DEFAULT_TIMEOUT,
    boot_timeout: float = DEFAULT_BOOT_TIMEOUT,
    mem_mb: int = DEFAULT_MEM_MB,
    cwd: str | None = None,
    env: Mapping[str, str] | None = None,
    writable: Sequence[str] = (),
    stream: bool = True,
    prepared: Prepared | None = None,
    keep_io: bool = False,
    pycache: bool = True,
) -> RunResult:
    """Run ``argv`` in a fresh guest with ``devices`` rxe devices.

    ``env`` is added to the guest's base environment (see :func:`guest.base_env`); pass
    :func:`select_env` output for the CLI's behaviour. ``writable`` host directories are
    shared read-write at the same path. With ``stream`` the command's output goes live to
    this process' stdout/stderr; it is always also in the result. With ``pycache`` the
    guest's bytecode (and pytest's rewritten test modules) persist in the cache's
    ``pycache/`` (shared writable); else Python runs with PYTHONDONTWRITEBYTECODE=1.
    """
    t0 = time.monotonic()
    timings: dict[str, float] = {}
    if not argv:
        raise ValueError("no command given")
    try:
        prep = prepared or prepare()
    except Exception as exc:  # any failure to prepare is a boot failure for the caller
        return RunResult(EXIT_BOOT_FAILED, "boot", message=f"prepare failed: {exc}")
    timings["prepare"] = time.monotonic() - t0
    cwd = cwd or os.getcwd()
    rw = [str(Path(p).resolve()) for p in writable]
    # The guest puts tmpfs over /tmp and /run, hiding a checkout that lives there (CI may clone
    # into /tmp): share such a repo (and working directory) read-write at the same path, first,
    # so that shares nested inside it (e.g. .tox/rxe) mount on top of it.
    for hidden in dict.fromkeys([str(repo_root().resolve()), str(Path(cwd).resolve())]):
        if _under_tmpfs(hidden) and not any(_inside(hidden, r) for r in rw):
            rw.insert(0, hidden)
    pycache_dir: str | None = None
    if pycache:
        pycache_dir = str(prep.cache / "pycache")
        rw.append(pycache_dir)
    for p in rw:
        Path(p).mkdir(parents=True, exist_ok=True)
    full_env = guest.base_env(str(prep.pylib) if prep.pylib else None, str(repo_root()), pycache_dir)
    full_env.update(env or {})
    spec = guest.GuestSpec(
        argv=list(argv),
        cwd=cwd,
        env=full_env,
        devices=devices,
        module_dir=str(prep.module_dir),
        kernel_version=prep.kernel_version,
        writable=rw,
        loose=[pycache_dir] if pycache_dir else [],
    )
    io_dir = Path(tempfile.mkdtemp(prefix="gossamer-softroce-io-"))
    try:
        (io_dir / "setup.sh").write_text(guest.setup_script(devices, spec.module_dir, spec.kernel_version))
        (io_dir / "stage2.sh").write_text(guest.stage2_script(spec))
        console = io_dir / "console.log"
        cmd = guest.qemu_command(
            vmlinux=prep.vmlinux,
            initramfs=prep.initramfs,
            io_dir=io_dir,
            console=console,
            mem_mb=mem_mb,
            writable=rw,
        )
        result = _boot_and_wait(
            cmd, io_dir, console, timeout=timeout, boot_timeout=boot_timeout, stream=stream,
            t0=t0, timings=timings,
        )  # fmt: skip
    finally:
        if keep_io:
            log(f"io dir kept: {io_dir}")
        else:
            shutil.rmtree(io_dir, ignore_errors=True)
    result.timings = timings
    return result


def _boot_and_wait(
    cmd: list[str],
    io_dir: Path,
    console: Path,
    *,
    timeout: float,
    boot_timeout: float,
    stream: bool,
    t0: float,
    timings: dict[str, float],
) -> RunResult:
    out = _Tail(io_dir / "stdout", sys.stdout.buffer if stream else None)
    err = _Tail(io_dir / "stderr", sys.stderr.buffer if stream else None)
    t_start = time.monotonic()
    try:
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    except OSError as exc:
        return RunResult(EXIT_BOOT_FAILED, "boot", message=f"cannot start qemu: {exc}")
    marks = {"booted": "boot", "ready": "setup", "rc": "command"}
    killed: str | None = None
    try:
        while proc.poll() is None:
            now = time.monotonic()
            for mark, name in marks.items():
                if name not in timings and (io_dir / mark).exists():
                    timings[name] = now - t_start
            out.pump()
            err.pump()
            if now - t0 > timeout:
                killed = "timeout"
            elif "boot" not in timings and now - t_start > boot_timeout:
                killed = "boot-timeout"
            elif "panic" in _console_flags(console) and now - timings.setdefault("panic_seen", now) > 3:
                # panic=-1 reboots and -no-reboot ends qemu by itself; if not, kill it
                killed = "panic"
            if killed:
                _kill(proc)
                break
            time.sleep(POLL)
    except KeyboardInterrupt:
        _kill(proc)
        raise
    finally:
        qemu_out = proc.stdout.read().decode("utf-8", "replace") if proc.stdout else ""
        proc.wait()
    timings.pop("panic_seen", None)
    timings["total"] = time.monotonic() - t0
    timings["qemu"] = time.monotonic() - t_start
    out.pump()
    err.pump()
    for mark, name in marks.items():
        if name not in timings and (io_dir / mark).exists():
            timings[name] = timings["qemu"]
    res = RunResult(0, "ok", stdout=bytes(out.data), stderr=bytes(err.data))
    tail = _tail_text(console)
    if qemu_out.strip():
        tail = (tail + "\n[qemu] " + qemu_out.strip()).strip()
    panicked = "panic" in _console_flags(console)
    rc_file = io_dir / "rc"
    if killed == "timeout":
        res.exit_code, res.status = EXIT_TIMEOUT, "timeout"
        res.message = f"timed out after {timeout:.0f} s; guest killed"
    elif killed == "boot-timeout":
        res.exit_code, res.status = EXIT_TIMEOUT, "timeout"
        res.message = f"guest did not reach stage 2 within {boot_timeout:.0f} s; killed"
    elif rc_file.exists():
        try:
            res.command_rc = int(rc_file.read_text().strip())
        except ValueError:
            res.command_rc = None
        if res.command_rc is None:
            res.exit_code, res.status = EXIT_BOOT_FAILED, "boot"
            res.message = "unreadable exit code from the guest"
        else:
            res.exit_code = res.command_rc
    elif panicked or killed == "panic":
        res.exit_code, res.status = EXIT_PANIC, "panic"
        res.message = "guest kernel panicked"
    elif (io_dir / "setup_failed").exists():
        res.exit_code, res.status = EXIT_SETUP_FAILED, "setup"
        setup_log = _tail_text(io_dir / "setup.log")
        res.message = f"guest setup failed (rxe devices, shares or cwd):\n{setup_log}"
    elif (io_dir / "ready").exists():
        res.exit_code, res.status = EXIT_BOOT_FAILED, "boot"
        res.message = "guest stopped while the command ran, without an exit code"
    elif (io_dir / "booted").exists():
        res.exit_code, res.status = EXIT_BOOT_FAILED, "boot"
        res.message = "guest stopped during setup"
    else:
        res.exit_code, res.status = EXIT_BOOT_FAILED, "boot"
        res.message = f"guest failed to boot (qemu exit code {proc.returncode})"
    if res.status != "ok":
        res.console_tail = tail
    return res


def _console_flags(console: Path) -> set[str]:
    try:
        text = console.read_bytes()
    except FileNotFoundError:
        return set()
    flags = set()
    if b"Kernel panic" in text:
        flags.add("panic")
    return flags


def _kill(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


def report_failure(res: RunResult) -> None:
    """Print a runner failure (not the command's own non-zero exit) to stderr."""
    if res.status == "ok":
        return
    log(f"ERROR ({res.status}, exit {res.exit_code}): {res.message}")
    if res.console_tail:
        print("softroce: --- tail of the guest console ---", file=sys.stderr)
        print(res.console_tail, file=sys.stderr)
        print("softroce: --- end of console ---", file=sys.stderr, flush=True)

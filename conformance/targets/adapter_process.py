"""A target that is any executable speaking the adapter protocol on stdin/stdout ([ADPT-1])."""

from __future__ import annotations

import contextlib
import os
import selectors
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from typing import Any

from ..adapter import MAX_FRAME, decode_body, encode_frame
from ..model import Outcome, TargetBroken
from ..oracle.framing import Unframer

TIMEOUT = 10.0  # seconds for one answer ([ADPT-4]); a hang is an ERROR verdict ([ERR-1])
#: Seconds an adapter may take to start and answer `hello` (an interpreter's imports, a JIT), at
#: least: starting is not part of a case's deadline.
START_TIMEOUT = 30.0
#: At most this much of an adapter's standard error is kept per case (the end of it).
STDERR_KEEP = 64 << 10


class AdapterTarget:
    """Runs `argv`, asks `hello` for its ops, then one request/answer per case.

    A crash, a hang (no answer within `timeout` seconds: the run's per-case deadline, which the
    runner passes with `set_deadline`; starting and `hello` get `START_TIMEOUT`) or a malformed
    answer makes that case an ERROR and kills the adapter; the next case starts a new one, so one
    bad input does not take the rest of the run down with it. The adapter's standard
    error goes to a file; `take_stderr()` returns what it wrote since the last call, and the runner
    shows it with each failing case.
    """

    def __init__(self, argv: Sequence[str], name: str | None = None, timeout: float = TIMEOUT) -> None:
        self.argv = list(argv)
        self.name = name or f"adapter:{os.path.basename(self.argv[0])}"
        self.timeout = timeout
        self._proc: subprocess.Popen[bytes] | None = None
        self._ops: frozenset[str] = frozenset()
        fd, self._err_path = tempfile.mkstemp(prefix="gossamer-adapter-", suffix=".stderr")
        os.close(fd)
        self._err_read = open(self._err_path, "rb")  # noqa: SIM115 - lives as long as the target
        self._start()
        #: what the adapter wrote to stderr while starting, before the first case
        self.startup_stderr = self.take_stderr()

    @property
    def capabilities(self) -> frozenset[str]:
        return self._ops

    def set_deadline(self, seconds: float | None) -> None:
        """The runner's per-case deadline: this target enforces it itself, per answer."""
        self.timeout = seconds if seconds and seconds > 0 else TIMEOUT

    def _start(self) -> None:
        # O_APPEND: every adapter this target starts writes at the end, whatever we have read
        err = os.open(self._err_path, os.O_WRONLY | os.O_APPEND)
        try:
            self._proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err)
        finally:
            os.close(err)
        got = self._exchange({"op": "hello"}, max(self.timeout, START_TIMEOUT))
        if "ok" not in got or not isinstance(got["ok"], dict):
            raise TargetBroken(f"hello answered {got!r}")
        self._ops = frozenset(got["ok"].get("ops", ())) | {"hello"}
        self.name = self.name if self.name != "adapter" else str(got["ok"].get("name", self.name))

    def take_stderr(self) -> str:
        """What the adapter(s) wrote to standard error since the last call (the last 64 KiB)."""
        data = self._err_read.read()
        if len(data) > STDERR_KEEP:
            data = f"[... {len(data) - STDERR_KEEP} bytes before omitted ...]\n".encode() + data[-STDERR_KEEP:]
        return data.decode("utf-8", "replace")

    def _read_answer(self, deadline: float, timeout: float) -> bytes:
        """The body of the adapter's next frame: exactly its bytes are read from its stdout."""
        assert self._proc is not None and self._proc.stdout is not None
        fd = self._proc.stdout.fileno()
        frames = Unframer(MAX_FRAME, lambda n: TargetBroken(f"answer of {n} bytes"))
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while True:
                if not sel.select(max(0.0, deadline - time.monotonic())):
                    raise TargetBroken(f"no answer within {timeout:g} s (the adapter was killed)")
                chunk = os.read(fd, frames.wanted)
                if not chunk:
                    try:
                        status: int | str = self._proc.wait(timeout=1)
                    except subprocess.TimeoutExpired:
                        status = "still running, stdout closed"
                    raise TargetBroken(f"adapter exited (status {status})")
                bodies = frames.feed(chunk)
                if bodies:
                    return bodies[0]

    def _exchange(self, msg: Mapping[str, Any], timeout: float | None = None) -> Outcome:
        assert self._proc is not None and self._proc.stdin is not None
        timeout = timeout or self.timeout
        deadline = time.monotonic() + timeout
        try:
            self._proc.stdin.write(encode_frame(dict(msg)))
            self._proc.stdin.flush()
        except (BrokenPipeError, OSError) as e:
            raise TargetBroken(f"adapter stdin closed: {e}") from None
        got = decode_body(self._read_answer(deadline, timeout), "answer")
        if not isinstance(got, dict) or not ({"ok"} == set(got) or ({"error"} == set(got) and isinstance(
                got["error"], str))):
            raise TargetBroken(f"answer is not {{ok}} or {{error}}: {got!r:.200}")
        return got

    def call(self, op: str, args: Mapping[str, Any]) -> Outcome:
        try:
            if self._proc is None or self._proc.poll() is not None:
                self._kill()
                self._start()
            return self._exchange({**args, "op": op})
        except BaseException:  # TargetBroken, or the runner's CaseTimeout: this adapter is done
            self._kill()
            raise

    def _kill(self) -> None:
        if self._proc is not None:
            with contextlib.suppress(OSError):
                self._proc.kill()
            self._proc.wait()
            self._close_pipes()

    def _close_pipes(self) -> None:
        assert self._proc is not None
        for pipe in (self._proc.stdin, self._proc.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()
        self._proc = None

    def close(self) -> None:
        if self._proc is not None:
            if self._proc.stdin:
                with contextlib.suppress(OSError):
                    self._proc.stdin.close()
            try:
                self._proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._close_pipes()
        if not self._err_read.closed:
            self._err_read.close()
            with contextlib.suppress(OSError):
                os.unlink(self._err_path)

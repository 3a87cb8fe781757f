"""A target that is any executable speaking the adapter protocol on stdin/stdout ([ADPT-1])."""

from __future__ import annotations

import os
import selectors
import subprocess
from collections.abc import Mapping, Sequence
from typing import Any

import cbor2

from ..adapter import LEN, MAX_FRAME, encode_frame
from ..model import Outcome, TargetBroken

TIMEOUT = 10.0  # seconds for one answer; a hang is an ERROR verdict ([ERR-1])


class AdapterTarget:
    """Runs `argv`, asks `hello` for its ops, then one request/answer per case.

    A crash, a hang or a malformed answer makes that case an ERROR and restarts the adapter, so
    one bad input does not take the rest of the run down with it.
    """

    def __init__(self, argv: Sequence[str], name: str | None = None) -> None:
        self.argv = list(argv)
        self.name = name or f"adapter:{os.path.basename(self.argv[0])}"
        self._proc: subprocess.Popen[bytes] | None = None
        self._ops: frozenset[str] = frozenset()
        self._start()

    @property
    def capabilities(self) -> frozenset[str]:
        return self._ops

    def _start(self) -> None:
        self._proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        got = self._exchange({"op": "hello"})
        if "ok" not in got or not isinstance(got["ok"], dict):
            raise TargetBroken(f"hello answered {got!r}")
        self._ops = frozenset(got["ok"].get("ops", ())) | {"hello"}
        self.name = self.name if self.name != "adapter" else str(got["ok"].get("name", self.name))

    def _read(self, n: int) -> bytes:
        assert self._proc is not None and self._proc.stdout is not None
        fd = self._proc.stdout.fileno()
        buf = b""
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while len(buf) < n:
                if not sel.select(TIMEOUT):
                    raise TargetBroken(f"no answer within {TIMEOUT:.0f} s")
                chunk = os.read(fd, n - len(buf))
                if not chunk:
                    raise TargetBroken(f"adapter exited (status {self._proc.poll()})")
                buf += chunk
        return buf

    def _exchange(self, msg: Mapping[str, Any]) -> Outcome:
        assert self._proc is not None and self._proc.stdin is not None
        try:
            self._proc.stdin.write(encode_frame(dict(msg)))
            self._proc.stdin.flush()
        except (BrokenPipeError, OSError) as e:
            raise TargetBroken(f"adapter stdin closed: {e}") from None
        (n,) = LEN.unpack(self._read(4))
        if n > MAX_FRAME:
            raise TargetBroken(f"answer of {n} bytes")
        try:
            got = cbor2.loads(self._read(n))
        except TargetBroken:
            raise
        except Exception as e:
            raise TargetBroken(f"answer is not CBOR: {e}") from None
        if not isinstance(got, dict) or not ({"ok"} == set(got) or ({"error"} == set(got) and isinstance(
                got["error"], str))):
            raise TargetBroken(f"answer is not {{ok}} or {{error}}: {got!r:.200}")
        return got

    def call(self, op: str, args: Mapping[str, Any]) -> Outcome:
        if self._proc is None or self._proc.poll() is not None:
            self._start()
        try:
            return self._exchange({**args, "op": op})
        except TargetBroken:
            self.close()
            raise

    def close(self) -> None:
        if self._proc is not None:
            if self._proc.stdin:
                self._proc.stdin.close()
            try:
                self._proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            if self._proc.stdout:
                self._proc.stdout.close()
            self._proc = None

"""The TCP bootstrap of a live session ([BOOT-1] .. [BOOT-4], [BOOT-5] .. [BOOT-9], [ADPT-12]).

Messages are a `u32` length and one CBOR map ([BOOT-1]). The side that accepted the connection
(the trustee machine) sends its hello first; the side that connected reads it, sends its own hello,
and both then exchange `{"ready": true}` once their QPs are in RTS with receives posted
([BOOT-7]). Only this module touches the socket; messages are read and written by the suite's oracle
(`oracle.bootstrap`, [DEC-5]), never by the implementation under test.
"""

from __future__ import annotations

import select
import socket
import time
from collections.abc import Callable
from typing import Any

from .oracle.bootstrap import READY, Reader, message
from .oracle.errors import Rejected

__all__ = ["READY", "BootstrapFailed", "Channel", "encode"]


class BootstrapFailed(Exception):
    """The peer closed, timed out, or sent something that is not a bootstrap message."""


def encode(m: dict[str, Any]) -> bytes:
    return message(m)


class Channel:
    """One bootstrap connection: whole messages in, whole messages out."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.reader = Reader()
        self.pending: list[Any] = []

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def try_recv(self) -> Any:
        """The next message if one is complete, else None, without blocking; raises
        BootstrapFailed when the peer closed the connection."""
        while not self.pending:
            self.sock.setblocking(False)
            try:
                data = self.sock.recv(1 << 16)
            except (BlockingIOError, InterruptedError):
                return None
            except OSError as e:
                raise BootstrapFailed(f"bootstrap connection failed: {e}") from None
            finally:
                self.sock.setblocking(True)
            if not data:
                raise BootstrapFailed("the peer closed the bootstrap connection")
            try:
                self.pending += self.reader.feed(data)
            except Rejected as e:  # [DEC-5]: not a bootstrap message
                raise BootstrapFailed(f"the peer sent a bad bootstrap message: {e}") from None
        return self.pending.pop(0)

    def recv(self, timeout: float = 30.0, pump: Callable[[], object] | None = None) -> Any:
        """The next message, waiting up to `timeout` seconds; `pump` runs while waiting (an
        in-process peer's step loop)."""
        deadline = time.monotonic() + timeout
        while True:
            m = self.try_recv()
            if m is not None:
                return m
            if time.monotonic() > deadline:
                raise BootstrapFailed(f"no bootstrap message within {timeout:.0f} s")
            if pump is not None:
                pump()
            else:
                select.select([self.sock], [], [], min(0.05, max(0.0, deadline - time.monotonic())))

    def close(self) -> None:
        self.sock.close()

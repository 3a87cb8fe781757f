"""What a trustee-driving target gets per case: a `Session` (a connected `VerbsPeer` and how to
wait), from a `SessionFactory`; and `Unsupported`, raised by an op the driver cannot run over
verbs (answered UNSUPPORTED, so the case is skipped, never passed).

Sessions are opened by `reference_nic.EmulatedReferenceSession` (the reference runtime on the
emulated NIC) and `verbs.TcpSession` (a trustee reached over the TCP bootstrap); the ops of
`verbs.py` and `live_ops.py` drive them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from ..peers.suite_client import VerbsPeer


class Session(Protocol):
    peer: VerbsPeer
    #: seconds to wait for one response
    timeout: float
    #: what the trustee's NIC places data like: "any" when the suite set it, else "device"
    placement: str
    #: the host of the trustee's fallback port ([FB-8])
    fallback_host: str

    def pump(self) -> object: ...

    def close(self) -> None: ...


#: open_session(placement) -> Session; placement "any" asks for the relaxed model where possible;
#: open_session(placement, fallback_secret=False): the suite's hello announces no secret ([SEC-6])
SessionFactory = Callable[..., Session]


class Unsupported(Exception):
    """The driver cannot run this case over verbs (the answer is UNSUPPORTED)."""

"""The runtime's TCP fallback hub on its own: a broken stream fails only its own link ([FB-6], [ERR-1])."""

from __future__ import annotations

import pytest

from gossamer.errors import ErrorCode
from gossamer.fallback import Frame, FrameKind
from gossamer.runtime.tcp import FallbackHub


@pytest.mark.clause("FB-6", "ERR-1", "FB-8")
def test_a_broken_stream_fails_only_the_entries_waiting_on_it() -> None:
    hub = FallbackHub(2, 1 << 20, 300)
    try:
        # two client threads of machine 1, each with its own connection to machine 0 ([FB-8])
        hub.send(Frame(kind=FrameKind.REQUEST, slot_id=4, seq=1, index=0, payload=b"first"), (1, 0), 0)
        hub.links[(1, 0, 0)][0].out += b"JUNK" + bytes(16)  # thread 0's stream stops parsing
        hub.send(Frame(kind=FrameKind.REQUEST, slot_id=5, seq=1, index=0, payload=b"second"), (1, 1), 0)
        hub.pump()
        assert hub.take(0, (int(FrameKind.REQUEST), 4, 1, 0), (1, 0, 0)) == b"first"  # before the junk
        assert hub.take(0, (int(FrameKind.REQUEST), 5, 1, 0), (1, 1, 0)) == b"second"  # the other link works
        # ... and an entry waiting on the healthy link is not failed by the other link's break
        assert hub.take(0, (int(FrameKind.REQUEST), 5, 2, 0), (1, 1, 0)) is ErrorCode.FALLBACK_TIMEOUT
        # an entry still waiting on the broken link fails with its code, at once, not by timeout
        assert hub.take(0, (int(FrameKind.REQUEST), 4, 2, 0), (1, 0, 0)) is ErrorCode.BAD_FRAME
        assert (1, 0, 0) not in hub.callers  # [FB-6]: the receiver closed that connection
        # a new connection of that client works again
        hub.send(Frame(kind=FrameKind.REQUEST, slot_id=4, seq=3, index=0, payload=b"again"), (1, 0), 0)
        assert hub.take(0, (int(FrameKind.REQUEST), 4, 3, 0), (1, 0, 0)) == b"again"
    finally:
        hub.close()

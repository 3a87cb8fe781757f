"""Relaxed data placement (issue 8; nic_emu/docs/placement.md): a message's data as chunks that
land at later ticks.

Under the ``whole`` placement model nothing here runs: data lands at once (``memory.place``).
Under ``ascending`` and ``any`` the data of an RC message becomes a ``Landing`` on a stream (one
per QP and direction); each tick the fabric places a seeded burst of chunks per stream
(``place_chunks``) and fires the completions at the memory's side that became due.  The
requester's completions held back meanwhile are in ``completions`` (``hold_send``).
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nic_emu.fabric import Fabric, Placement
    from nic_emu.transport.queues import QueuePair

#: One piece of a chunk: (target memory, offset, bytes).
Piece = tuple[memoryview, int, bytes]
#: Where a message lands: (memory, offset, room) per target.
Target = tuple[memoryview, int, int]
#: A stream of landings: (the QP whose memory receives the data, 0 = responder / 1 = requester).
StreamKey = tuple["QueuePair", int]


class Landing:
    """The data of one RC message on its way into memory under a relaxed placement model.

    ``chunks`` are the message's chunks (each a list of pieces, more than one when a SEND's chunk
    straddles two receive SGEs); ``left`` the indices not placed yet; ``on_done`` the completion
    at the side that owns the memory (the responder's for WRITE WITH IMMEDIATE and SEND), run
    when this message and every earlier one of its stream are wholly placed.
    """

    __slots__ = ("chunks", "left", "on_done", "placed", "shuffle")

    def __init__(
        self, chunks: list[list[Piece]], shuffle: bool, on_done: Callable[[], None] | None
    ) -> None:
        self.chunks = chunks
        self.left = list(range(len(chunks)))
        self.placed = 0
        self.shuffle = shuffle
        self.on_done = on_done

    def place_one(self, rng: random.Random) -> None:
        left = self.left
        if self.shuffle and len(left) > 1:
            # IB spec: no order of placement within a message (nic_emu/docs/placement.md).
            i = rng.randrange(len(left))
            left[i], left[-1] = left[-1], left[i]
            idx = left.pop()
        else:
            idx = left.pop(0)
        for view, o, b in self.chunks[idx]:
            view[o : o + len(b)] = b
        self.placed += 1


def chunks(targets: list[Target], data: bytes, size: int) -> list[list[Piece]]:
    """Split ``data``, laid over ``targets`` (memory, offset, room), into chunks of ``size``
    bytes of the message, each a list of pieces (several if a chunk straddles targets)."""
    out: list[list[Piece]] = []
    n = len(data)
    pos = 0
    ti, used = 0, 0
    while pos < n:
        end = min(pos + size, n)
        pieces: list[Piece] = []
        while pos < end:
            view, o, room = targets[ti]
            take = min(room - used, end - pos)
            pieces.append((view, o + used, data[pos : pos + take]))
            pos += take
            used += take
            if used == room:
                ti, used = ti + 1, 0
        out.append(pieces)
    return out


def start_landing(
    fabric: Fabric,
    key: StreamKey,
    model: Placement,
    targets: list[Target],
    data: bytes,
    on_done: Callable[[], None] | None,
) -> Landing:
    landing = Landing(chunks(targets, data, model.chunk), model.model == "any", on_done)
    stream = fabric.streams.get(key)
    if stream is None:
        stream = fabric.streams[key] = deque()
    stream.append(landing)
    fabric.pending = True
    return landing


def writer_release(fabric: Fabric, model: Placement, landing: Landing) -> int:
    """After how many placed chunks the writer's completion is released: with probability
    ``early_completion`` before the last chunk is visible (IB spec 9.7.5.1.6: the ACK means the
    data reached the responder's fault zone, not memory), else after all of it."""
    n = len(landing.chunks)
    rng = fabric.placement_rng
    if n and rng.random() < model.early_completion:
        return rng.randrange(n)
    return n


def fire(stream: deque[Landing]) -> None:
    """Completions at the memory's side, in order: a message completes when it and every earlier
    message of its stream are wholly placed (IB spec o9-20, as cited in docs/placement.md)."""
    while stream and not stream[0].left:
        done = stream.popleft()
        if done.on_done is not None:
            done.on_done()


def place_chunks(fabric: Fabric) -> None:
    """One tick of placement: on each stream a seeded burst of chunks (at least one), then the
    completions at the memory's side that became due.  (The requester's held completions are
    released after this: ``completions.release_held``.)"""
    rng = fabric.placement_rng
    streams = fabric.streams
    for key in list(streams):
        stream = streams.get(key)
        if stream is None:
            continue
        burst = fabric.placement_of(key[0].machine).burst
        while True:
            todo = [ln for ln in stream if ln.left]
            if not todo:
                break
            # ``ascending``: the oldest message first; ``any``: any message of the stream.
            landing = todo[rng.randrange(len(todo))] if todo[0].shuffle else todo[0]
            landing.place_one(rng)
            if rng.random() >= burst:
                break
        fire(stream)
        if not stream:
            del streams[key]


def flush_stream(fabric: Fabric, key: StreamKey) -> None:
    """Place everything still landing on ``key`` (a READ or atomic at the responder executes
    after earlier WRITEs on its QP are placed: IB spec 9.5 / o9-20, see docs/placement.md)."""
    stream = fabric.streams.pop(key, None)
    if stream:
        for landing in stream:
            while landing.left:
                landing.place_one(fabric.placement_rng)
        fire(stream)

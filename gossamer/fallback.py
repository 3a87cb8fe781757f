"""TCP fallback frames and their incremental, sans-I/O reader ([FB-2] .. [FB-7]).

`FrameReader` is fed bytes as they arrive from any stream (a socket, a test) and yields whole
frames, like h11's `receive_data` / `next_event`. After a framing error the stream cannot be
resynchronised ([FB-6]): the reader stays broken and every later `feed` raises the same error.
"""

from __future__ import annotations

import enum

import attrs

from .buffer import FRAME_HEADER
from .errors import ErrorCode, LocalProtocolError, RemoteProtocolError
from .slot import DEFAULT_FALLBACK_LIMIT

FRAME_MAGIC = 0x42465347  # b"GSFB" little-endian ([FB-3])
FRAME_HEADER_SIZE = FRAME_HEADER.size  # 20


class FrameKind(enum.IntEnum):
    """[FB-3] frame kinds."""

    REQUEST = 1  #: request payload, client to trustee
    RESPONSE = 2  #: response payload, trustee to client


@attrs.frozen(slots=True, kw_only=True)
class Frame:
    """One fallback frame: header fields and the payload ([FB-3])."""

    kind: FrameKind
    slot_id: int
    seq: int
    index: int
    payload: bytes

    def encode(self) -> bytes:
        if not (0 <= self.slot_id <= 0xFFFF and 0 <= self.index <= 0xFFFF
                and 0 <= self.seq <= 0xFFFFFFFF and len(self.payload) <= 0xFFFFFFFF):
            raise LocalProtocolError(ErrorCode.BAD_ARGUMENT, "FB-3", f"frame field out of range: {self}")
        head = FRAME_HEADER.pack(
            FRAME_MAGIC, int(self.kind), 0, self.slot_id, self.seq, self.index, 0, len(self.payload)
        )
        return head + self.payload


def decode_frame_header(
    data: bytes | bytearray | memoryview, limit: int = DEFAULT_FALLBACK_LIMIT
) -> tuple[FrameKind, int, int, int, int]:
    """(kind, slot id, seq, index, payload length) of a 20-byte header; BAD_FRAME / OVERSIZE."""
    if len(data) < FRAME_HEADER_SIZE:
        raise RemoteProtocolError(ErrorCode.BAD_FRAME, "FB-3", f"frame header needs 20 bytes, got {len(data)}")
    magic, kind, z1, slot_id, seq, index, z2, length = FRAME_HEADER.unpack_from(data)
    if magic != FRAME_MAGIC:
        raise RemoteProtocolError(ErrorCode.BAD_FRAME, "FB-6", f"bad frame magic {magic:#010x}")
    if kind not in (1, 2):
        raise RemoteProtocolError(ErrorCode.BAD_FRAME, "FB-6", f"unknown frame kind {kind}")
    if z1 or z2:
        raise RemoteProtocolError(ErrorCode.BAD_FRAME, "FB-6", "nonzero reserved bytes in frame header")
    if length > limit:
        raise RemoteProtocolError(
            ErrorCode.OVERSIZE, "FB-6", f"frame payload of {length} bytes exceeds the limit {limit}"
        )
    return FrameKind(kind), slot_id, seq, index, length


class BrokenStream(RemoteProtocolError):
    """The stream broke ([DEC-3]); `frames` are the whole frames that came before the bad header.

    They are delivered as if the error had not happened, so the outcome does not depend on how the
    stream was cut into reads.
    """

    def __init__(self, cause: RemoteProtocolError, frames: list[Frame]) -> None:
        super().__init__(cause.code, cause.clause, cause.message)
        self.frames = frames


class FrameReader:
    """Incremental frame parser over a byte stream ([FB-6], [DEC-3]: broken after the first error)."""

    def __init__(self, limit: int = DEFAULT_FALLBACK_LIMIT) -> None:
        self._buf = bytearray()
        self._limit = limit
        self._error: RemoteProtocolError | None = None

    @property
    def broken(self) -> RemoteProtocolError | None:
        return self._error

    @property
    def buffered(self) -> int:
        return len(self._buf)

    def feed(self, data: bytes) -> list[Frame]:
        """Add bytes; return the frames completed by them (possibly none).

        Raises `BrokenStream` (a RemoteProtocolError with the code) at the first bad header, carrying
        the frames completed before it; every later call raises it again, with no frames.
        """
        if self._error is not None:
            raise BrokenStream(self._error, [])
        self._buf += data
        out: list[Frame] = []
        while len(self._buf) >= FRAME_HEADER_SIZE:
            try:
                kind, slot_id, seq, index, length = decode_frame_header(self._buf, self._limit)
            except RemoteProtocolError as e:
                self._error = e
                raise BrokenStream(e, out) from None
            end = FRAME_HEADER_SIZE + length
            if len(self._buf) < end:
                break
            payload = bytes(self._buf[FRAME_HEADER_SIZE:end])
            del self._buf[:end]
            out.append(Frame(kind=kind, slot_id=slot_id, seq=seq, index=index, payload=payload))
        return out


class PayloadWaiter:
    """Matches arriving frames to the fallback stubs that wait for them ([FB-5], [FB-7]).

    The receiver registers each stub it decodes with `expect`; `on_frame` attaches a frame to the
    stub that names it, or discards and counts a frame that names none ([FB-7]). Time is not read
    here: the runtime calls `expire` with the keys whose timeout it has seen pass ([FB-5]).
    """

    def __init__(self) -> None:
        self._waiting: dict[tuple[int, int, int], int] = {}  # (slot id, seq, index) -> payload_len
        self.arrived: dict[tuple[int, int, int], bytes] = {}
        self.discarded = 0

    def expect(self, slot_id: int, seq: int, index: int, payload_len: int) -> None:
        self._waiting[(slot_id, seq, index)] = payload_len

    def waiting(self, slot_id: int, seq: int, index: int) -> bool:
        return (slot_id, seq, index) in self._waiting

    def on_frame(self, frame: Frame) -> bool:
        """True when the frame completed a waiting stub; False when it was discarded ([FB-7])."""
        key = (frame.slot_id, frame.seq, frame.index)
        want = self._waiting.get(key)
        if want is None:
            self.discarded += 1
            return False
        if len(frame.payload) != want:  # [FB-6]
            raise RemoteProtocolError(
                ErrorCode.BAD_FRAME, "FB-6",
                f"frame for slot {frame.slot_id} seq {frame.seq} entry {frame.index} carries "
                f"{len(frame.payload)} bytes, its stub announced {want}",
            )
        del self._waiting[key]
        self.arrived[key] = frame.payload
        return True

    def expire(self, slot_id: int, seq: int, index: int) -> None:
        """The timeout passed: stop waiting; a later frame for this entry is discarded ([FB-5])."""
        self._waiting.pop((slot_id, seq, index), None)

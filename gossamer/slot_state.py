"""Per-slot state machines of both ends, as one transition table ([FLOW-1] .. [FLOW-3], [LAND-4], [LAND-5]).

Everything that affects a slot's transitions lives in `TRANSITIONS`; an event with no entry for the
current state is a lookup miss turned into one clear error naming the clause (h11's rule).
SPEC.md section 2.2 shows this table; a test checks that the two agree.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence

from .batch import RequestBatch, decode_request_batch
from .closures import ClosureShape
from .errors import ErrorCode, LocalProtocolError, RemoteProtocolError
from .layout import ResultSpec
from .response import ResponseBatch, decode_response_batch, encode_error_response
from .slot import SlotConfig, next_seq


class Role(enum.Enum):
    CLIENT = "client"
    TRUSTEE = "trustee"


class State(enum.Enum):
    IDLE = "IDLE"  #: client: the slot may be written
    AWAITING = "AWAITING"  #: client: a batch is unanswered; the slot must not be written ([FLOW-1])
    READY = "READY"  #: trustee: waiting for the completion of the next batch ([LAND-3])
    BUSY = "BUSY"  #: trustee: a batch was read; its response is owed ([FLOW-2])


class Event(enum.Enum):
    WRITE = "write"  #: client posts the batch WRITE WITH IMMEDIATE
    RESPONSE = "response"  #: client polls the response completion with the right seq
    LANDED = "landed"  #: trustee polls a request completion and reads the batch
    RESPOND = "respond"  #: trustee posts the response WRITE WITH IMMEDIATE


#: role -> state -> event -> (next state, clause that forbids other events in this state)
TRANSITIONS: dict[Role, dict[State, dict[Event, State]]] = {
    Role.CLIENT: {
        State.IDLE: {Event.WRITE: State.AWAITING},
        State.AWAITING: {Event.RESPONSE: State.IDLE},
    },
    Role.TRUSTEE: {
        State.READY: {Event.LANDED: State.BUSY},
        State.BUSY: {Event.RESPOND: State.READY},
    },
}
CLAUSE_OF_STATE = {State.IDLE: "FLOW-1", State.AWAITING: "FLOW-1", State.READY: "LAND-3", State.BUSY: "FLOW-2"}


class _Machine:
    role: Role

    def __init__(self, initial: State) -> None:
        self.state = initial

    def _fire(self, event: Event) -> None:
        nxt = TRANSITIONS[self.role][self.state].get(event)
        if nxt is None:
            code = ErrorCode.SLOT_BUSY if self.role is Role.CLIENT else ErrorCode.BAD_ARGUMENT
            raise LocalProtocolError(
                code, CLAUSE_OF_STATE[self.state],
                f"{self.role.value} slot can't {event.value} in state {self.state.value}",
            )
        self.state = nxt


class ClientSlot(_Machine):
    """The client's view of one request slot and its response slot."""

    role = Role.CLIENT

    def __init__(self, config: SlotConfig) -> None:
        super().__init__(State.IDLE)
        self.config = config
        self.last_seq = 0  # seq of the last batch written; 0 before the first ([LAND-4])
        self._specs: tuple[ResultSpec, ...] = ()

    def begin_write(self, specs: Sequence[ResultSpec]) -> int:
        """Claim the slot for the next batch and return its seq ([FLOW-1], [LAND-4])."""
        self._fire(Event.WRITE)
        self.last_seq = next_seq(self.last_seq)
        self._specs = tuple(specs)
        return self.last_seq

    def on_response(self, image: bytes | memoryview, imm_seq16: int | None = None) -> ResponseBatch:
        """Decode the response to the unanswered batch; the slot becomes writable ([FLOW-1], [RSP-6])."""
        if self.state is not State.AWAITING:  # [LAND-8]: read nothing, deliver nothing
            raise RemoteProtocolError(
                ErrorCode.SLOT_BUSY, "LAND-8", "a response arrived with no batch unanswered"
            )
        rb = decode_response_batch(image, self._specs, self.config, self.last_seq, imm_seq16)
        self._fire(Event.RESPONSE)
        return rb


class TrusteeSlot(_Machine):
    """The trustee's view of one request slot: expected seq and the response it owes."""

    role = Role.TRUSTEE

    def __init__(self, config: SlotConfig, shapes: Mapping[int, ClosureShape]) -> None:
        super().__init__(State.READY)
        self.config = config
        self.shapes = shapes
        self.expected = 1  # [LAND-4]

    def on_landed(self, image: bytes | memoryview, imm_seq16: int) -> RequestBatch | bytes:
        """Read the batch named by a completion ([LAND-3], [LAND-5]).

        Returns the decoded batch, or the error response image to write back ([RSP-5]). A rejected
        batch other than a stale one consumes its seq; a stale or replayed one does not.
        """
        self._fire(Event.LANDED)
        try:
            batch = decode_request_batch(image, self.shapes, self.config, self.expected, imm_seq16)
        except RemoteProtocolError as e:
            seq = int.from_bytes(bytes(image[0:4]), "little") if len(image) >= 4 else 0
            if e.code is not ErrorCode.STALE_SEQUENCE:
                self.expected = next_seq(self.expected)
            return encode_error_response(seq, e.code, e.message, self.config)
        self.expected = next_seq(self.expected)
        return batch

    def responded(self) -> None:
        """The response WRITE for the current batch is posted; the next batch may land ([FLOW-2])."""
        self._fire(Event.RESPOND)

"""Gossamer: the reference implementation of the Gossamer delegation protocol (protocol/SPEC.md).

The modules below are the sans-I/O core: pure code over bytes and values, no sockets, no NIC.

SPEC section -> module:

* 0 Conventions (byte order, alignment, CBOR)  - `buffer` (precompiled structs), CBOR in `serial`
* 1 Request slots, 1.1 batch image              - `slot` (parameters, seq, immediate), `batch`
* 1.2 Rack shape                                - `shape` (threads and trustees per machine, slot ids)
* 2 Landing detection and flow control          - `slot_state` (2.2's table); the NIC side: `runtime.verbs`
* 3 The closure lookup table, closure identity  - `vtable` (the table), `closures` (ids, registry)
* 4 Request entries, 4.1 layouts, 4.2 CBOR      - `request`, `layout`, `serial`
* 5 Responses                                   - `response`; the client's unpacking: `trustee.unpack_result`
* 6 Reference counting by trust-id sets         - `trust_ids`, `trustee` (property table, execution)
* 7 TCP fallback                                - `fallback` (frames, reader, waiter); sockets: `runtime.tcp`
* 8 Limits                                      - the checks sit where each value is decoded
* 9 Errors                                      - `errors`
* 10 Bootstrap and version negotiation          - `bootstrap` (hello; the one home of the u32-length-
                                                  prefixed CBOR framing: `encode_message`, `BootstrapReader`)
* 10.1 Racks of processes                       - `launch_env` (launcher environment), `rack_bootstrap`
                                                  (caller, app, done, down), `procrack` (one process),
                                                  `cli` (`gossamer launch`)
* 11 Conformance codec adapter                  - conformance/ (not this package)
* 12 Decoding algorithms                        - `batch`, `response`, `bootstrap`, `serial`
* 15 Security considerations                    - `bootstrap.check_rdma` (hellos), `runtime.verbs` (where a
                                                  landing came from), `runtime.tcp` (fallback callers)
* thesis 3.2 runtime (entrust, apply, fibers)   - `runtime` (its own module map); its NICs: `networks`

`vectors` generates protocol/vectors/ and `protocol_files` finds them; neither answers a peer.
"""

from .batch import BatchBuilder, EncodedBatch, RequestBatch, decode_request_batch, encode_request_batch, pack_requests
from .closures import Closure, ClosureShape, Registry, closure, closure_id, default_registry
from .errors import DelegationError, ErrorCode, GossamerError, LocalProtocolError, RemoteProtocolError
from .fallback import Frame, FrameKind, FrameReader
from .layout import Layout, ParamSpec, ResultSpec
from .request import Request
from .response import Response, ResponseBatch, decode_response_batch, encode_error_response, encode_response_batch
from .slot import SlotConfig, make_imm, next_seq, parse_imm
from .trust_ids import TrustIdMinter, TrustIdSet, make_trust_id, split_trust_id

__all__ = [
    "BatchBuilder", "Closure", "ClosureShape", "DelegationError", "EncodedBatch", "ErrorCode",
    "Frame", "FrameKind", "FrameReader", "GossamerError", "Layout", "LocalProtocolError",
    "ParamSpec", "Registry", "RemoteProtocolError", "Request", "RequestBatch", "Response",
    "ResponseBatch", "ResultSpec", "SlotConfig", "TrustIdMinter", "TrustIdSet", "closure",
    "closure_id", "decode_request_batch", "decode_response_batch", "default_registry",
    "encode_error_response", "encode_request_batch", "encode_response_batch", "make_imm",
    "make_trust_id", "next_seq", "pack_requests", "parse_imm", "split_trust_id",
]

"""Gossamer: the reference implementation of the Gossamer delegation protocol (protocol/SPEC.md).

The modules below are the sans-I/O core: pure code over bytes and values, no sockets, no NIC.
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

"""SPEC.md section 13 ([CHOICE-1], [ADPT-11]): what an implementation may choose is not compared,
and everything next to it is.

A target that differs from the reference only in a free choice (here: the detail text of every
error response and error entry it writes) passes every case the reference passes; one that also
changes a pinned byte next to it (the status of those responses) fails them.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from typing import Any

import pytest

from conformance.cases import catalogue
from conformance.model import Outcome, Verdict
from conformance.runner import run_case
from conformance.targets.reference import ReferenceTarget
from gossamer.errors import ErrorCode
from gossamer.response import encode_error_response
from gossamer.slot import SlotConfig

HDR = struct.Struct("<IHBB")


def _redetail(image: bytes, status_delta: int) -> bytes:
    """The same error response with another detail text (and, when asked, another status)."""
    seq, _, _, status = HDR.unpack_from(image)
    code = ErrorCode(status)
    out = bytearray(encode_error_response(seq, code, "an entirely different detail, longer than before " * 3,
                                          SlotConfig()))
    if status_delta:
        out[7] = out[-1] = (status + status_delta) & 0xFF
    return bytes(out)


class OtherDetails(ReferenceTarget):
    """The reference, writing other detail texts in every error response it lands."""

    name = "other-details"
    status_delta = 0

    def call(self, op: str, args: Mapping[str, Any]) -> Outcome:
        got = super().call(op, args)
        if op == "land" and "ok" in got:
            for r in got["ok"]["results"]:
                if "response" in r:
                    r["response"] = _redetail(r["response"], self.status_delta)
        return got


class OtherStatus(OtherDetails):
    """Other details *and* another status: a pinned byte changed."""

    name = "other-status"
    status_delta = 1


def _land_cases_with_errors() -> list[Any]:
    return [c for c in catalogue() if c.op == "land"
            and any("response" in r for r in c.expect.get("ok", {}).get("results", []))]


@pytest.mark.clause("CHOICE-1", "ADPT-11", "ERR-3")
def test_a_free_choice_is_not_compared_and_a_pinned_byte_is() -> None:
    cases = _land_cases_with_errors()
    assert len(cases) >= 3
    for c in cases:
        assert run_case(ReferenceTarget(), c).verdict is Verdict.PASS, c.id
        assert run_case(OtherDetails(), c).verdict is Verdict.PASS, c.id
        assert run_case(OtherStatus(), c).verdict is Verdict.FAIL, c.id

"""The live target's hello checks ([ADPT-12]): each way a trustee's hello can break section 10 is
refused with the clause and the code the suite answers with ([BOOT-5]); what the catalogue cannot
drive is refused apart ([ADPT-13])."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from conformance.live_hello import (
    BAD_HEADER,
    MALFORMED_CBOR,
    VERSION_MISMATCH,
    HelloViolation,
    Undrivable,
    check_drivable,
    check_trustee_hello,
)

T = 2


def good() -> dict[str, Any]:
    """A trustee's hello as the reference sends it (2 threads, request slots 4..7, response 8..11)."""
    return {
        "versions": [1, 1], "machine": 0, "threads": T, "slot_size": 1024, "table_k": 4,
        "fallback_timeout_ms": 5000, "fallback_limit": 64 << 20,
        "gid": bytes(10) + b"\xff\xff" + bytes([198, 18, 0, 2]), "qpns": [17, 18], "psn": 0x123456,
        "slots": {"base": 0x7F00_0000_0000, "rkey": 0x1234, "ids": [4, 5, 6, 7, 8, 9, 10, 11]},
        "request_slots": [[4, 5], [6, 7]], "response_slots": [[8, 9], [10, 11]], "fallback_port": 7471,
    }


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(m: dict[str, Any]) -> None:
        *keys, last = path.split(".")
        d: Any = m
        for k in keys:
            d = d[int(k)] if isinstance(d, list) else d[k]
        if value is KeyError:
            del d[last]
        elif isinstance(d, list):
            d[int(last)] = value
        else:
            d[last] = value

    return edit


CASES: list[tuple[str, Callable[[dict[str, Any]], None], str, int]] = [
    ("versions-2", _set("versions", [2, 2]), "BOOT-1", VERSION_MISMATCH),
    ("versions-0-1", _set("versions", [0, 1]), "", 0),  # overlaps at version 1: accepted
    ("versions-reversed", _set("versions", [2, 1]), "BOOT-1", BAD_HEADER),
    ("no-threads", _set("threads", KeyError), "BOOT-2", MALFORMED_CBOR),
    ("threads-bool", _set("threads", True), "BOOT-2", BAD_HEADER),
    ("slot-size-100", _set("slot_size", 100), "BOOT-2", BAD_HEADER),
    ("table-k-33", _set("table_k", 33), "BOOT-2", BAD_HEADER),
    ("threads-0", _set("threads", 0), "BOOT-8", BAD_HEADER),
    ("no-fallback-port", _set("fallback_port", KeyError), "BOOT-3", MALFORMED_CBOR),
    ("fallback-port-0", _set("fallback_port", 0), "BOOT-3", BAD_HEADER),
    ("no-gid", _set("gid", KeyError), "BOOT-3", MALFORMED_CBOR),
    ("gid-short", _set("gid", bytes(4)), "BOOT-3", BAD_HEADER),
    ("psn-25-bit", _set("psn", 1 << 24), "BOOT-9", BAD_HEADER),
    ("qpns-one", _set("qpns", [17]), "BOOT-8", BAD_HEADER),
    ("no-request-slots", _set("request_slots", KeyError), "BOOT-6", MALFORMED_CBOR),
    ("ids-duplicate", _set("slots.ids", [4, 4, 5, 6, 7]), "BOOT-6", BAD_HEADER),
    ("ids-over-u16", _set("slots.ids", [4, 5, 6, 7, 0x10000]), "BOOT-6", BAD_HEADER),
    ("rkey-over-u32", _set("slots.rkey", 1 << 32), "BOOT-6", BAD_HEADER),
    ("slot-past-2^64", _set("slots.base", (1 << 64) - 4096), "BOOT-6", BAD_HEADER),
    ("request-row-short", _set("request_slots.1", [6]), "BOOT-6", BAD_HEADER),
    ("request-stray-id", _set("request_slots.0.0", 99), "BOOT-6", BAD_HEADER),
    ("request-shared", _set("request_slots.0.1", 4), "BOOT-6", BAD_HEADER),
    ("response-stray-id", _set("response_slots.1.1", 99), "BOOT-6", BAD_HEADER),
    ("response-empty-rows", _set("response_slots", [[], []]), "", 0),  # a side with no client threads
    ("hello-not-a-map", lambda m: m.clear(), "BOOT-2", MALFORMED_CBOR),
    # [BOOT-11], [DEC-5] step 11: the suite connected to machine 0
    ("machine-1", _set("machine", 1), "BOOT-11", BAD_HEADER),
    ("machine-7", _set("machine", 7), "BOOT-11", BAD_HEADER),
    # [DEC-5]'s one order: the ranges of step 9 before negotiation (10), negotiation before the
    # machine (11), every RDMA key looked for (13) before any value is judged (14)
    ("versions-2-slot-size-100", lambda m: m.update(versions=[2, 2], slot_size=100), "BOOT-2", BAD_HEADER),
    ("versions-2-machine-7", lambda m: m.update(versions=[2, 2], machine=7), "BOOT-1", VERSION_MISMATCH),
    ("no-psn-gid-short", lambda m: m.update(psn=None, gid=bytes(4)) or _set("psn", KeyError)(m), "BOOT-3",
     MALFORMED_CBOR),
    # [DEC-5] step 18: a key this document does not name is ignored
    ("extension-key", _set("x-extension", {"any": 1}), "", 0),
]


@pytest.mark.clause("ADPT-12", "BOOT-1", "BOOT-2", "BOOT-3", "BOOT-6", "BOOT-8", "BOOT-9", "BOOT-11", "DEC-5")
@pytest.mark.parametrize(("name", "edit", "clause", "code"), CASES, ids=[c[0] for c in CASES])
def test_trustee_hello(name: str, edit: Callable[[dict[str, Any]], None], clause: str, code: int) -> None:
    m = copy.deepcopy(good())
    edit(m)
    if not clause:
        check_trustee_hello(m)
        return
    with pytest.raises(HelloViolation) as got:
        check_trustee_hello(m)
    assert (got.value.clause, got.value.code) == (clause, code), str(got.value)
    assert f"[{clause}]" in str(got.value)


@pytest.mark.clause("ADPT-18")
def test_the_hello_is_validated_against_its_cddl_rule_after_the_clauses(monkeypatch: pytest.MonkeyPatch) -> None:
    """The hook into `conformance.schemas`: the rule `hello` is applied to what passed the clause
    checks (today bootstrap.cddl constrains nothing they leave open, so a stub validator shows the
    wiring), and its path ends up in the refusal."""
    schemas = pytest.importorskip("conformance.schemas")
    pytest.importorskip("pycddl")
    schemas.validate("hello", good())  # the reference's shape matches the real rule
    seen: list[str] = []

    def validate(rule: str, value: Any, *, root: str | None = None) -> None:
        seen.append(rule)
        raise schemas.SchemaError("hello.slots.ids[2]", "expected u16, got -1")

    monkeypatch.setattr(schemas, "validate", validate)
    with pytest.raises(HelloViolation) as got:
        check_trustee_hello(good())
    assert seen == ["hello"]
    assert "bootstrap.cddl: hello.slots.ids[2]: expected u16" in str(got.value), str(got.value)
    m = good()
    m["versions"] = [2, 2]  # a clause check fails first: the schema is not consulted
    with pytest.raises(HelloViolation, match=r"\[BOOT-1\]"):
        check_trustee_hello(m)
    assert seen == ["hello"]


@pytest.mark.clause("ADPT-13")
@pytest.mark.parametrize(("key", "value", "needs"), [("threads", 1, "T = 1"), ("slot_size", 2048, "S = 2048"),
                                                    ("table_k", 8, "K = 8")])
def test_a_trustee_the_catalogue_cannot_drive_is_refused(key: str, value: int, needs: str) -> None:
    m = good()
    check_drivable(m)
    m[key] = value
    with pytest.raises(Undrivable) as got:
        check_drivable(m)
    assert needs in str(got.value) and "[ADPT-13]" in str(got.value) and "Nothing was run" in str(got.value)
    assert got.value.exit_status == 2

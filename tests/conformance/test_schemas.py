"""The CDDL schemas of protocol/schemas/ ([ADPT-18]): the suite's requests, the reference's answers
and the vectors match them; a wrong-shaped answer fails its case with the path of the mismatch."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import cbor2
import pytest

from conformance import schemas
from conformance.cases import catalogue, select
from conformance.model import Outcome, Verdict, wire_args
from conformance.runner import run, run_case
from conformance.targets import open_target

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(not schemas.available(), reason="pycddl is not installed")


def test_every_op_of_section_11_has_a_request_and_an_answer_rule() -> None:
    from conformance.targets.reference import OPS

    for op in OPS:
        assert schemas.has_rule(f"{op}-request"), op
        assert schemas.has_rule(f"{op}-ok") and schemas.has_rule(f"{op}-answer"), op
    for rule in ("error-answer", "hello", "hello-core", "bootstrap-error", "ready", "workload", "results",
                 "bootstrap-message"):
        assert schemas.has_rule(rule)


def test_every_rule_compiles_and_each_request_names_its_op() -> None:
    for rule in schemas.rules():
        schemas._compiled(rule)  # pycddl parses the rule and everything it reaches
    for rule in schemas.rules():
        if rule.endswith("-request") and rule != "decoded-request":
            op = rule[: -len("-request")]
            assert f'op: "{op}"' in schemas._blocks()[rule], rule
            assert schemas.check(rule, {"op": "not-" + op}) is not None


def test_error_names_are_section_9s() -> None:
    """`error-name` lists every section 9 code but OK and FALLBACK (statuses), plus UNSUPPORTED."""
    spec = (ROOT / "protocol" / "SPEC.md").read_text()
    section = spec.split("## 9. Errors", 1)[1].split("\n## ", 1)[0]
    names = set(re.findall(r"^\| 0x[0-9A-Fa-f]{2} \| ([A-Z_]+) \|", section, re.M))
    assert len(names) > 15
    block = re.search(r"^error-name = (.*?)\n\n", schemas.source(), re.S | re.M)
    assert block is not None
    listed = set(re.findall(r'"([A-Z_]+)"', block.group(1)))
    assert listed == (names - {"OK", "FALLBACK"}) | {"UNSUPPORTED"}


@pytest.mark.clause("ADPT-18", "ADPT-19")
def test_every_catalogue_request_matches_its_schema_or_expects_bad_argument() -> None:
    """The suite's requests match their rules, except those that break them on purpose, and those
    expect BAD_ARGUMENT ([ADPT-19]: a wrong type, an unknown role or event)."""
    checked, malformed = 0, []
    for c in catalogue():
        if schemas.has_rule(f"{c.op}-request"):
            bad = schemas.check_request(c.op, wire_args(c))
            if bad is not None:
                assert c.expect == {"error": "BAD_ARGUMENT"}, (c.id, bad)
                malformed.append(c.id)
            checked += 1
    assert checked > 300 and len(malformed) < checked // 10


@pytest.mark.clause("ADPT-18", "ADPT-3")
def test_the_reference_adapter_answers_match_their_schemas() -> None:
    """Every catalogue case the reference codec (the code `python -m conformance.adapter` serves)
    answers: its answer, ok or error, matches the op's rule."""
    target = open_target("reference-sansio")
    checked = 0
    try:
        for c in catalogue():
            if c.capability not in target.capabilities:
                continue
            got = target.call(c.op, wire_args(c))
            assert schemas.answer_rule(c.op, got) is not None or c.op == "no_such_op", c.id
            assert schemas.check_answer(c.op, got) is None, (c.id, schemas.check_answer(c.op, got))
            checked += 1
    finally:
        target.close()
    assert checked > 300


@pytest.mark.clause("ADPT-18", "BOOT-2", "BOOT-3", "BOOT-6")
def test_vectors_and_live_hellos_match_the_bootstrap_schemas() -> None:
    data = json.loads((ROOT / "protocol" / "vectors" / "bootstrap.json").read_text())
    good = [bytes.fromhex(c["message"]) for c in data["cases"] if "message" in c and not c.get("error")]
    assert good
    for h in good:  # length prefix included, as on the wire; [BOOT-2]'s fields (no RDMA keys)
        schemas.validate("hello-core", h)
    # a hello the decoder must reject for its shape (missing key, not a map, wrong type, out of range)
    # breaks the schema too; what CDDL cannot say (min <= max, a key given twice) is left to the
    # prose ([DEC-5]), and so are trustee runs past `threads` or out of order ([SHAPE-4])
    shape = [c for c in data["cases"] if c.get("error") in ("MALFORMED_CBOR", "BAD_HEADER")
             and not any(w in c["id"] for w in ("reversed", "duplicate", "past-threads", "touching", "backwards",
                                                "overlap"))]
    assert len(shape) >= 4
    for c in shape:
        assert schemas.check("hello-core", bytes.fromhex(c["message"])) is not None, c["id"]
    for c in data["cases"]:
        if "ours" in c:
            schemas.validate("negotiate-request", {"op": "negotiate", "ours": c["ours"], "theirs": c["theirs"]})
    # the hellos a live session exchanges (the reference trustee's and the suite's), whole
    from conformance.targets.reference_nic import EmulatedReferenceSession

    s = EmulatedReferenceSession()
    try:
        schemas.validate("hello", s.hello_map)
        schemas.validate("hello", s.peer.hello().encode())
        schemas.validate("bootstrap-message", s.hello_map)
    finally:
        s.close()
    schemas.validate("ready", {"ready": True})
    schemas.validate("bootstrap-error", {"error": 0x1A, "detail": "no common version"})
    schemas.validate("workload", {"workload": [{"thread": 0, "trustee": 1, "pointer": 64, "closure": "conformance:add",
                                                "captured": [5]}]})
    schemas.validate("results", {"results": [{"ok": 5}, {"error": "BAD_PROPERTY"}]})


@pytest.mark.clause("ADPT-18")
def test_vector_files_as_cases_match_the_schemas() -> None:
    """Every vector case the catalogue turns into a request (`vec.*`) is a well-shaped request, and
    the expected answers it derives from the vector are well-shaped answers."""
    vec = [c for c in catalogue() if c.source != "catalogue" or c.id.startswith("vec.")]
    assert len(vec) > 50
    for c in vec:
        assert schemas.check_request(c.op, wire_args(c)) is None or c.expect == {"error": "BAD_ARGUMENT"}, c.id
        if c.check is None:
            assert schemas.check_answer(c.op, c.expect) is None, (c.id, schemas.check_answer(c.op, c.expect))


@pytest.mark.parametrize(("rule", "value", "message"), [
    ("decode_response_batch-answer",
     {"ok": {"seq": 1, "status": 0, "detail": "", "responses": [
         {"status": 0, "result": b"", "body": None, "fallback_len": None},
         {"status": 0, "result": b"", "body": b"", "fallback_len": None},
         {"status": 0, "result": b"", "body": 5, "fallback_len": None}]}},
     "answer.ok.responses[2].body: expected bytes or null, got 5"),
    ("decode_response_batch-answer", {"ok": {"seq": 1, "status": 0, "responses": []}}, "answer.ok.detail: missing"),
    ("make_imm-answer", {"ok": {"imm": -1, "parsed": [1, 2]}}, "answer.ok.imm: expected an integer in 0..4294967295"),
    ("make_imm-answer", {"ok": {"imm": 1, "parsed": [1]}}, "answer.ok.parsed: expected an array of 2"),
    ("error-answer", {"error": "NOPE"}, "answer.error: expected one of"),
    ("decode_request_batch-answer", {"ok": {"seq": 1, "table": "x", "requests": []}},
     "answer.ok.table: expected an array"),
    ("land-answer", {"ok": {"results": [{"seq": 1}]}}, "answer.ok.results[0]: missing"),
])
def test_a_mismatch_names_its_path(rule: str, value: Any, message: str) -> None:
    with pytest.raises(schemas.SchemaError) as e:
        schemas.validate(rule, value, root="answer")
    assert str(e.value).startswith(message), str(e.value)
    assert e.value.raw  # pycddl's own verdict, kept


def test_validate_takes_values_and_bytes() -> None:
    good = {"ok": {"seq": 7}}
    schemas.validate("next_seq-answer", good)
    schemas.validate("next_seq-answer", cbor2.dumps(good))
    with pytest.raises(schemas.SchemaError, match=r"^hello: missing keys machine, threads"):
        schemas.validate("hello", {"versions": [1, 1]})
    with pytest.raises(schemas.SchemaError, match="not one well-formed CBOR item"):
        schemas.validate("hello", b"\xff\xff")
    with pytest.raises(KeyError):
        schemas.validate("no-such-rule", {})


class WrongShape:
    """The reference, except that decoded responses carry `body` as a number."""

    name = "wrong-shape"

    def __init__(self) -> None:
        self.inner = open_target("reference-sansio")

    @property
    def capabilities(self) -> frozenset[str]:
        return self.inner.capabilities

    def call(self, op: str, args: Mapping[str, Any]) -> Outcome:
        got = self.inner.call(op, args)
        if op == "decode_response_batch" and "ok" in got:
            for r in got["ok"]["responses"]:
                r["body"] = 5
        return got

    def close(self) -> None:
        self.inner.close()


@pytest.mark.clause("ADPT-18")
def test_a_wrong_shaped_answer_fails_with_its_path() -> None:
    t = WrongShape()
    try:
        c = select(catalogue(), ["rsp.decode.mixed"])[0]
        r = run_case(t, c)
        assert r.verdict is Verdict.FAIL
        assert r.message == ("[ADPT-18] answer.ok.responses[0].body: expected bytes or null, got 5 (and 2 more) "
                             "(rule decode_response_batch-answer, protocol/schemas/)")
        assert run_case(t, c, validate=False).verdict is Verdict.FAIL  # the exact comparison still fails it
        ok = select(catalogue(), ["rsp.decode.batch-error"])[0]  # no responses: nothing wrong to see
        assert run_case(t, ok).verdict is Verdict.PASS
    finally:
        t.close()


def test_validation_costs_little() -> None:
    """Schema checks on every answer must not make the default run much slower."""
    import time

    target = open_target("reference-sansio")
    cases = [c for c in catalogue() if c.capability in target.capabilities]
    try:
        run(target, cases[:5])  # compile what the first cases need, imports
        t0 = time.perf_counter()
        run(target, cases, validate=False)
        plain = time.perf_counter() - t0
        t0 = time.perf_counter()
        run(target, cases)
        checked = time.perf_counter() - t0
    finally:
        target.close()
    assert checked < plain + 0.5, (plain, checked)


def test_without_pycddl_the_run_says_so_and_still_judges(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bare interpreter without pycddl (it is a dependency, but a guest may lack it): answers are
    judged as before, and the command says the schema checks are off."""
    import io

    from conformance.cli import main

    monkeypatch.setattr(schemas, "pycddl", None)
    schemas._compiled.cache_clear()
    schemas._pycddl_verdict.cache_clear()
    try:
        assert not schemas.available()
        with pytest.raises(schemas.SchemasUnavailable):
            schemas.validate("ready", {"ready": True})
        t = WrongShape()
        try:
            c = select(catalogue(), ["rsp.decode.mixed"])[0]
            r = run_case(t, c)
            assert r.verdict is Verdict.FAIL and "[ADPT-18]" not in r.message  # judged, not schema-checked
        finally:
            t.close()
        out = io.StringIO()
        assert main(["run", "land.imm"], out) == 0
        assert "pycddl is not installed" in out.getvalue()
    finally:
        schemas._compiled.cache_clear()
        schemas._pycddl_verdict.cache_clear()


@pytest.mark.clause("ADPT-18", "ADPT-15", "ADPT-16")
def test_workloads_and_reports_match_the_bootstrap_schemas() -> None:
    """The workloads the client cases send and the reports the reference client sends back
    ([ADPT-15], [ADPT-16]) are the `workload` and `results` messages of bootstrap.cddl."""
    cases = select(catalogue(), ["tag:client"])
    assert len(cases) >= 10
    for c in cases:
        schemas.validate("workload", {"workload": wire_args(c)["workload"]})
    target = open_target("reference")
    try:
        for c in cases[:4]:
            got = target.call(c.op, wire_args(c))
            assert "ok" in got, (c.id, got)
            schemas.validate("results", {"results": got["ok"]["results"]})
    finally:
        target.close()


def test_no_named_choice_as_an_array_element() -> None:
    """pycddl 0.6 tries only the first alternative of a named type choice used as an array's element
    type (`[* name]` with `name = a / b`): a later value of the choice would be refused. The
    schemas spell such choices inline; this keeps anyone from reintroducing the pattern."""
    blocks = schemas._blocks()

    def is_choice(rule: str) -> bool:
        body = re.sub(r'"[^"]*"|;[^\n]*', " ", blocks[rule].split("=", 1)[1])
        depth = 0
        for ch in body:
            depth += ch in "([{"
            depth -= ch in ")]}"
            if ch == "/" and depth == 0:
                return True
        return False

    offenders, seen = [], set()
    for rule, text in blocks.items():
        body = re.sub(r";[^\n]*", " ", text)
        for name in re.findall(r"\[\s*[*+?]?\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\]", body):
            seen.add(name)
            if name in blocks and is_choice(name):
                offenders.append(f"{rule}: [* {name}]")
    assert {"decoded-request", "closure", "u64"} <= seen  # the scan sees array element types
    assert is_choice("error-name") and not is_choice("decoded-request")
    assert not offenders, offenders

"""The catalogue: stable unique ids, every SPEC.md clause checked, each case runnable alone."""

from __future__ import annotations

import re

import pytest

from conformance.cases import catalogue, select
from conformance.model import Verdict
from conformance.runner import run, run_case
from conformance.spec import spec_path
from conformance.targets.reference import ReferenceTarget

ID = re.compile(r"^[a-z0-9_]+(\.[A-Za-z0-9_\-]+)+$")


def spec_clause_ids() -> set[str]:
    out = set()
    for line in spec_path().read_text(encoding="utf-8").splitlines():
        if line.startswith("- ["):
            out |= set(re.findall(r"^- \[([A-Z]+-[0-9]+)\]", line))
    return out


def test_ids_unique_and_well_formed() -> None:
    ids = [c.id for c in catalogue()]
    assert len(ids) == len(set(ids))
    bad = [i for i in ids if not ID.match(i)]
    assert not bad, bad


def test_every_clause_has_a_case() -> None:
    covered = {cl for c in catalogue() for cl in c.clauses}
    missing = sorted(spec_clause_ids() - covered)
    assert not missing, f"SPEC.md clauses no conformance case checks: {missing}"


def test_cases_name_only_existing_clauses() -> None:
    unknown = {cl for c in catalogue() for cl in c.clauses} - spec_clause_ids()
    assert not unknown


def test_every_error_code_is_expected_somewhere() -> None:
    """Cases cover every code a codec or trustee can answer (section 9), not only the happy path."""
    from gossamer.errors import ErrorCode

    named = {c.expect.get("error") for c in catalogue()}
    texts = " ".join(repr(c.args.get("_want", "")) + repr(c.expect) for c in catalogue())
    local_only = {"OK", "FALLBACK", "PEER_FAILED", "NESTED_APPLY", "BAD_RESULT"}
    missing = [e.name for e in ErrorCode if e.name not in local_only and e.name not in named and e.name not in texts]
    assert not missing, missing


@pytest.mark.clause("ADPT-3", "ADPT-5", "ADPT-6", "ADPT-7", "ADPT-8", "ADPT-9", "ADPT-10", "ADPT-11")
def test_reference_sansio_passes_everything_it_can_run() -> None:
    result = run(ReferenceTarget(), catalogue())
    bad = [(r.case.id, r.message) for r in result.results if r.verdict in (Verdict.FAIL, Verdict.ERROR)]
    assert not bad
    skipped = {r.case.op for r in result.results if r.verdict is Verdict.SKIP}
    assert skipped == {"nic_roundtrip", "nic_placement", "nic_credits", "nic_fallback", "nic_live", "nic_bootstrap",
                       "client_run"}


@pytest.mark.clause("ADPT-12", "LAND-1", "LAND-3", "LAND-6", "FLOW-4", "SLOT-1", "SLOT-2", "RSP-1", "BOOT-6",
                    "FB-3", "FB-4", "FB-5", "FB-8", "FB-9")
def test_default_reference_runs_every_case_trustee_cases_over_the_emulated_nic() -> None:
    """The default target skips nothing: land/execute/nic_* go through real slots on nic_emu."""
    from conformance.targets.reference_nic import ReferenceNicTarget

    target = ReferenceNicTarget()
    result = run(target, catalogue())
    bad = [(r.case.id, r.message) for r in result.results if r.verdict in (Verdict.FAIL, Verdict.ERROR)]
    assert not bad
    assert result.count(Verdict.SKIP) == 0
    over_verbs = [c for c in catalogue() if c.op in ("land", "execute") or c.op.startswith("nic_")]
    over_verbs = [c for c in over_verbs if c.op != "nic_bootstrap"]  # bootstrap connections only
    # one session per trustee case, the fallback-frame cases included (over real TCP, [FB-8])
    assert target.verbs.sessions == len(over_verbs)
    assert target.sansio_fallbacks == []


def test_a_case_runs_alone_by_id() -> None:
    [c] = select(catalogue(), ["req.encode.exactly-full"])
    assert run_case(ReferenceTarget(), c).verdict is Verdict.PASS


def test_filters_by_clause_and_tag() -> None:
    by_clause = select(catalogue(), ["SLOT-4"])
    assert by_clause and all("SLOT-4" in c.clauses for c in by_clause)
    by_tag = select(catalogue(), ["tag:hostile"])
    assert by_tag and all("hostile" in c.tags for c in by_tag)
    trust = [c for c in catalogue() if any(x.startswith("TRUST-") for x in c.clauses)]
    assert select(catalogue(), ["TRUST-*"]) == trust


def test_vectors_are_a_source_of_cases() -> None:
    vec = [c for c in catalogue() if c.id.startswith("vec.")]
    assert len(vec) > 50
    assert all(c.source.startswith("protocol/vectors/") for c in vec)

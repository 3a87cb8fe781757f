"""Proof that the suite catches bugs: every mutant fails at least one of the cases it names."""

from __future__ import annotations

import pytest

from conformance.cases import catalogue, select
from conformance.model import Verdict
from conformance.mutants import MUTANTS, make_mutant
from conformance.runner import run
from conformance.targets.reference import ReferenceTarget


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_mutant_is_caught_by_its_named_cases(name: str) -> None:
    cls = MUTANTS[name]
    assert cls.caught_by and cls.description
    cases = select(catalogue(), cls.caught_by)
    assert {c.id for c in cases} == set(cls.caught_by), "a named case does not exist"
    caught = [r.case.id for r in run(make_mutant(name), cases).results if r.verdict in (Verdict.FAIL, Verdict.ERROR)]
    assert caught, f"mutant {name} ({cls.description}) passes every case that should catch it"
    reference = run(ReferenceTarget(), cases)
    assert reference.passed


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_mutant_fails_the_whole_suite(name: str) -> None:
    assert not run(make_mutant(name), catalogue()).passed

"""Landing detection under the placement models of nic_emu (issue 8; SPEC.md section 2).

The property: under every placement model the spec allows ([LAND-6]: any, hence also ascending
and whole), the reference trustee never accepts a torn or stale batch, and accepts every batch
once it has landed (no lost batch, no hang).  Each mutant of harness.py breaks it under a relaxed
model, with a shrunk counterexample that replays from its printed scenario (seed included), and
passes under ``whole`` (except ``no_repost``, whose bug is not about placement).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, find, given, note, settings
from hypothesis import strategies as st

from tests.landing.harness import Scenario, run

MODELS = ("whole", "ascending", "any")


def scenarios(
    models: tuple[str, ...] = MODELS, trustee: str = "reference", client: str = "reference",
    max_batches: int = 5,
) -> st.SearchStrategy[Scenario]:
    return st.builds(
        Scenario,
        model=st.sampled_from(models),
        chunk=st.sampled_from((8, 16, 64, 128, 1024)),
        seed=st.integers(0, 2**32 - 1),
        sizes=st.lists(st.integers(1, 60), min_size=1, max_size=max_batches).map(tuple),
        salt=st.integers(0, 2**24 - 1),
        trustee=st.just(trustee),
        client=st.just(client),
        recv_depth=st.integers(1, 3),
        early_completion=st.sampled_from((0.0, 0.5, 1.0)),
    )


def _mutant_scenarios(mutant: str, models: tuple[str, ...]) -> st.SearchStrategy[Scenario]:
    if MUTANTS[mutant][0] == "trustee":
        return scenarios(models, trustee=mutant)
    return scenarios(models, client=mutant)


def _report(sc: Scenario) -> str:
    out = run(sc)
    return f"replay: run({sc!r}) -> {out.violations}"


@pytest.mark.clause("LAND-1", "LAND-2", "LAND-3", "LAND-5", "LAND-6", "FLOW-1", "FLOW-2", "FLOW-4")
@given(scenarios())
def test_reference_trustee_never_accepts_torn_or_stale_and_never_loses(sc: Scenario) -> None:
    out = run(sc)
    note(f"replay: run({sc!r})")
    assert out.ok, out.violations
    assert [seq for seq, _ in out.accepted] == list(range(1, len(sc.sizes) + 1))


#: mutant -> (the harness role it replaces, relaxed models it must fail under, clause it breaks)
MUTANTS = {
    "header_only": ("trustee", ("ascending", "any"), "LAND-3"),
    "trailer_only": ("trustee", ("any",), "LAND-3"),
    "copy_before_canary": ("trustee", ("ascending", "any"), "LAND-3"),
    "reuse_before_ack": ("client", ("ascending", "any"), "FLOW-1"),
    "split_notify": ("client", ("ascending", "any"), "LAND-1"),
}

_FIND = settings(max_examples=300, database=None, derandomize=True, deadline=None,
                 suppress_health_check=list(HealthCheck))


def _mutant_cases() -> list[tuple[str, str]]:
    return [(m, model) for m, (_, models, _) in MUTANTS.items() for model in models]


@pytest.mark.clause("LAND-1", "LAND-3", "LAND-6", "FLOW-1")
@pytest.mark.parametrize(("mutant", "model"), _mutant_cases())
def test_mutant_is_caught_under_relaxed_placement(mutant: str, model: str) -> None:
    sc = find(_mutant_scenarios(mutant, (model,)), lambda s: not run(s).ok, settings=_FIND)
    print(f"{mutant} under {model}: shrunk counterexample, seed {sc.seed}; {_report(sc)}")
    # Replayable: the same scenario fails the same way again.
    assert run(sc).violations == run(sc).violations != []


@pytest.mark.clause("LAND-6")
@pytest.mark.parametrize("mutant", sorted(MUTANTS))
@settings(max_examples=25)
@given(data=st.data())
def test_mutant_passes_under_whole_placement(mutant: str, data: st.DataObject) -> None:
    """The mutants are bugs only an emulator with partial placement can catch."""
    sc = data.draw(_mutant_scenarios(mutant, ("whole",)))
    out = run(sc)
    note(f"replay: run({sc!r})")
    assert out.ok, out.violations


@pytest.mark.clause("LAND-6")
@settings(max_examples=50)
@given(scenarios(("ascending",), trustee="trailer_only"))
def test_last_word_polling_is_correct_only_because_of_ascending(sc: Scenario) -> None:
    """HERD-style polling of the trailer is correct under ``ascending`` (and caught under
    ``any`` above): this is why [LAND-6] must say which model the scheme assumes."""
    out = run(sc)
    note(f"replay: run({sc!r})")
    assert out.ok, out.violations


@pytest.mark.clause("FLOW-4")
@pytest.mark.parametrize("model", MODELS)
def test_trustee_that_does_not_repost_receives_hangs(model: str) -> None:
    """[FLOW-4]: without a receive reposted per completion, the next batch meets an empty
    receive queue (RNR, retried forever with rnr_retry 7): the run hangs, under every model."""
    sc = Scenario(model=model, sizes=(2, 3, 4), trustee="no_repost", recv_depth=1)
    out = run(sc)
    assert any(v.startswith("hang: 1 of 3") for v in out.violations), out.violations
    assert run(Scenario(model=model, sizes=(2, 3, 4), recv_depth=1)).ok


@pytest.mark.clause("LAND-3", "LAND-6")
def test_known_counterexamples_replay() -> None:
    """Pinned counterexamples (found by the tests above): replay them exactly by seed."""
    assert not run(Scenario(model="ascending", seed=0, sizes=(3, 20), trustee="header_only")).ok
    assert not run(Scenario(model="any", seed=0, sizes=(3, 20, 7, 40), trustee="trailer_only")).ok
    assert run(Scenario(model="ascending", seed=0, sizes=(3, 20, 7, 40), trustee="trailer_only")).ok

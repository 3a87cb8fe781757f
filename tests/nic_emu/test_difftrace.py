"""The differential trace oracle (tests/nic_emu/difftrace.py).

On the emulator (the default run) every program recorded on rxe (``traces/rxe-*.jsonl.gz``,
recorded in the Soft-RoCE guest) is regenerated from its seed, run on nic_emu, and its trace
compared with rxe's; a divergence must be one of the known differences (``d.classify``, listed
in nic_emu/README.md).  On rxe (``tox -e rxe``) a sample of the recorded seeds runs again and must give
the recorded traces: the recording stays honest.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings

from nic_emu.provider import is_emulated, verbs
from tests.nic_emu import difftrace as d

FILES = d.trace_files()
#: on rxe: every SAMPLE-th recorded program whose trace is a function of the program (not
#: ``d.racy``), about 50
SAMPLE = 4


def test_traces_are_recorded() -> None:
    assert FILES, "no recorded traces under tests/nic_emu/traces"
    seeds = [r["seed"] for f in FILES for r in d.load(f)]
    assert len(seeds) >= 1000 and len(set(seeds)) == len(seeds)


def _sample(path: Path) -> set[int]:
    steady = sorted(r["seed"] for r in d.load(path) if not d.racy(d.program(r["seed"])))
    return set(steady[::SAMPLE])


@pytest.mark.parametrize("path", FILES, ids=[f.name for f in FILES])
def test_recorded_programs_give_the_recorded_traces(path: Path) -> None:
    """nic_emu: every program; a divergence must be a known one (``d.classify``, listed in
    nic_emu/README.md).  rxe: the sample, exactly (the recording is honest)."""
    seeds = None if is_emulated() else _sample(path)
    diffs, known = [], 0
    for rec in d.load(path):
        seed = rec["seed"]
        if seeds is not None and seed not in seeds:
            continue
        prog = d.program(seed)
        assert d.digest(prog) == rec["prog"], f"seed {seed}: the generator changed; re-record"
        if is_emulated():
            got = d.run_on_emulator(prog)
        else:
            import os

            devs = tuple(os.environ.get("GOSSAMER_DEVICES", "rxe0,rxe1").split(","))[:2]
            got = d.run(prog, verbs(), (devs[0], devs[1]))
        got = d.canonical(prog, d.normalize(got))
        want = d.canonical(prog, rec["trace"])
        if got == want:
            continue
        if is_emulated() and d.classify(prog, want, got) is not None:
            known += 1
            continue
        diffs.append(f"seed {seed}: {d.first_difference(want, got)}")
    where = "nic_emu" if is_emulated() else "rxe (drift from the recording)"
    assert not diffs, f"{len(diffs)} divergences on {where}:\n" + "\n".join(diffs[:10])
    if seeds is not None:
        assert len(seeds) >= 10


@pytest.mark.skipif(not is_emulated(), reason="the emulator's determinism")
@settings(max_examples=30, deadline=None)
@given(d.programs())
def test_generated_programs_run_deterministically(prog: dict[str, object]) -> None:
    a = d.normalize(d.run_on_emulator(prog, seed=1))
    b = d.normalize(d.run_on_emulator(prog, seed=2))
    assert a == b
    epochs = prog["epochs"]
    assert isinstance(epochs, list)
    assert sum(1 for step in a if step[0] == "drain") == len(epochs)
    json.dumps(a)

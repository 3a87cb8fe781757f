"""The runtime's tests run with leak reports as errors: a test whose rack ends with a property
kept alive by an undropped Trust fails with TrustLeakError (gossamer.runtime.leaks). A test that
means to leak passes `leaks=` to its Rack or launch explicitly."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _leaks_are_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOSSAMER_LEAKS", "error")

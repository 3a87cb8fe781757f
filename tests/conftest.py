"""Shared test configuration: hypothesis profiles and the `clause` marker.

Profiles (Hypothesis's habit, not timeouts): `dev` (default), `ci` (derandomized, no deadline;
chosen when the CI environment variable is set) and `deep` (many examples), selectable with
`--hypothesis-profile`.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=100, deadline=None)
settings.register_profile(
    "ci", max_examples=100, deadline=None, derandomize=True, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("deep", max_examples=5000, deadline=None, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "clause(*ids): the SPEC.md clause ids this test checks (tests/test_spec_coverage.py)"
    )

"""Shared test configuration: hypothesis profiles and the `clause` marker.

Profiles (Hypothesis's habit, not timeouts): `dev` (default), `ci` (derandomized, no deadline;
chosen when the CI environment variable is set), `deep` (many examples) and `rxe` (few examples,
for real verbs under TCG), selectable with
`--hypothesis-profile`.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, Phase, settings

settings.register_profile("dev", max_examples=100, deadline=None)
settings.register_profile(
    "ci", max_examples=100, deadline=None, derandomize=True, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("deep", max_examples=5000, deadline=None, print_blob=True)
# Real verbs in the Soft-RoCE guest (QEMU TCG, `tox -e rxe`): every example opens devices and QPs
settings.register_profile(
    "rxe", max_examples=10, deadline=None, derandomize=True, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # no shrinking: replay the blob instead
)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "clause(*ids): the SPEC.md clause ids this test checks (tests/test_spec_coverage.py)"
    )

"""Provider-specific setup for the nic_emu tests; the tests themselves only use the pyverbs API.

On the emulator (the default), every test gets a fresh two-machine ``Fabric`` installed as the
current one.  With ``GOSSAMER_VERBS=pyverbs`` the same tests run on real devices named by
``GOSSAMER_DEVICES`` (default ``rxe0,rxe1``); tests that need the emulator's fabric (faults,
seeds, counters) ask for the ``fabric`` fixture and are skipped there.

Hypothesis profiles (``dev``, ``ci`` when ``CI`` is set, ``deep``) are registered once for the
whole suite in ``tests/conftest.py``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from types import ModuleType

import pytest

import nic_emu
from nic_emu.provider import is_emulated, verbs
from tests.nic_emu.helpers import OPENED, Node, close_nodes, open_node

EMULATED = is_emulated()


@pytest.fixture(autouse=True)
def _close_devices() -> Iterator[None]:
    """Every device a test opened is closed after it (on real pyverbs: see ``close_nodes``)."""
    start = len(OPENED)
    yield
    close_nodes(start)


@pytest.fixture(scope="session")
def v() -> ModuleType:
    """The verbs namespace under test (``pyverbs``-shaped)."""
    return verbs()


@pytest.fixture
def fabric() -> Iterator[nic_emu.Fabric]:
    """A fresh emulated fabric with two machines, seed 0 (emulator only)."""
    if not EMULATED:
        pytest.skip("needs the emulated fabric")
    f = nic_emu.Fabric(seed=0, machines=2)
    with nic_emu.use_fabric(f):
        yield f


@pytest.fixture
def device_names(request: pytest.FixtureRequest) -> tuple[str, str]:
    if EMULATED:
        request.getfixturevalue("fabric")
        return ("emu0", "emu1")
    names = os.environ.get("GOSSAMER_DEVICES", "rxe0,rxe1").split(",")
    return (names[0], names[1])


@pytest.fixture
def nodes(v: ModuleType, device_names: tuple[str, str]) -> tuple[Node, Node]:
    return open_node(v, device_names[0]), open_node(v, device_names[1])

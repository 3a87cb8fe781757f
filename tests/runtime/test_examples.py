"""The examples run and give the answers their README promises."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from gossamer.runtime import launch

ROOT = Path(__file__).resolve().parents[2]


def _load(name: str) -> ModuleType:
    path = ROOT / "examples" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"examples.{name}", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.clause("REQ-7", "TRUST-6")
def test_table_ii() -> None:
    mod = _load("table_ii")
    assert launch(mod.gsm_main, machines=2, threads=2) == {"First Greeting": "Hello", "Second Greeting": "Hi"}


@pytest.mark.clause("REQ-7")
@pytest.mark.parametrize(("m", "t", "f"), [(1, 2, 3), (3, 2, 2)])
def test_counter(m: int, t: int, f: int) -> None:
    mod = _load("counter")
    assert launch(mod.gsm_main, m, t, f, 10, machines=m, threads=t) == m * t * f * 10


@pytest.mark.clause("SER-1", "SHAPE-1")
def test_kvstore_in_the_thesis_shape() -> None:
    """Figures 10/11's shape, small: 2 servers of 2 dedicated trustees + 2 query threads, 2 client-only
    machines of 3 threads; every non-trustee thread puts and gets its own keys."""
    mod = _load("kvstore")
    sizes = mod.run(servers=2, trustees=2, query=2, client_machines=2, client_threads=3, ops=10)
    assert len(sizes) == 2 * 2 and sum(sizes) == (2 * 2 + 2 * 3) * 10
    assert mod.shape(8, **mod.FIGURE_11) == [(32, 6)] * 8 + [(192, 0)] * 4


def test_benchmark_quick_runs() -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import runtime_rate  # type: ignore[import-not-found,unused-ignore]
    finally:
        sys.path.pop(0)
    r = runtime_rate.delegation(4, 1, 10)
    assert r["batch"] > 1 and r["qps"] == 2
    assert runtime_rate.lock_baseline(2, 5)["rate"] > 0
    f11 = runtime_rate.figure_11(1, client_threads=4, ops=2)  # Figure 11's shape, 4 client threads a machine
    assert f11["rate"] > 0 and f11["slots_server"] == (32 + 16) * 6 + 32 * 6 and f11["slots_client"] == 4 * 6
    assert (f11["qps_server"], f11["qps_client"]) == (4 * 32, 32 + 3 * 4)  # max(T, T_peer) per peer

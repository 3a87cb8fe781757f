"""Hypothesis strategies over the codec's values."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from gossamer import serial
from gossamer.closures import Closure, Registry
from gossamer.request import Request
from gossamer.slot import SlotConfig


def _noop(*_: Any) -> None:
    return None


REG = Registry()
CLOSURES: list[Closure] = [
    REG.register(_noop, f"strat:c{i}", capture=cap, result=res, param=par)
    for i, (cap, res, par) in enumerate([
        ("", "u64", None), ("u8", "bool", None), ("u64 u64 u64 u64", "u64", None), ("i32 f64 bool bytes3", "i64", None),
        ("u64", "", "cbor"), ("u32", "u8", "cbor:9"), ("u16", "cbor", "cbor"), ("bytes200", "u32", None),
        ("bytes700", "u32", None), ("u8 u16 u32", "cbor", None), ("bytes1500", "", None),
    ])
]

cbor_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**64) + 1, 2**64 - 1) | st.text(max_size=40) | st.binary(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)

configs = st.builds(
    lambda s, k: SlotConfig(slot_size=s * 64, table_k=k), st.integers(1, 40), st.integers(0, 8)
)


@st.composite
def requests(draw: st.DrawFn, closures: list[Closure] | None = None) -> Request:
    c = draw(st.sampled_from(closures or CLOSURES))
    captured = draw(st.binary(min_size=c.capture.size, max_size=c.capture.size))
    param = None
    if c.param.fixed_size is not None:
        param = serial.dumps(draw(st.binary(min_size=8, max_size=8)))  # 9 bytes: cbor:9
    elif c.param.present:
        param = serial.dumps(draw(cbor_values))
    return Request(draw(st.integers(0, 2**48 - 1)), c.id, captured, param)

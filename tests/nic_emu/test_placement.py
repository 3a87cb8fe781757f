"""Placement models of nic_emu (issue 8; nic_emu/docs/placement.md): what a poller on the
target sees between ticks, and when completions come relative to visibility."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st

import nic_emu
from nic_emu.fabric import Placement
from nic_emu.provider import mr_view
from nic_emu.pyverbs.cq import WC
from tests.nic_emu.helpers import connect_pair, emulator_only, make_qp, open_node

pytestmark = emulator_only  # placement models are the emulator's; rxe places as it does

N = 1024


def _pair(v: ModuleType, model: str, seed: int, chunk: int = 64, early: float = 0.5) -> Any:
    f = nic_emu.Fabric(seed=seed, machines=2,
                       placement=Placement(model=model, chunk=chunk, early_completion=early))
    nic_emu.set_fabric(f)
    e = v.enums
    a, b = open_node(v, "emu0"), open_node(v, "emu1")
    qa, qb = make_qp(a, e.IBV_QPT_RC), make_qp(b, e.IBV_QPT_RC)
    connect_pair(a, qa, b, qb)
    src, dst = a.mr(4 * N), b.mr(4 * N)
    return f, a, b, qa, qb, src, dst


def _post(v: ModuleType, qp: Any, op: int, src: Any, off: int, ln: int, dst: Any, doff: int,
          wr_id: int = 1, imm: int = 0) -> None:
    wr = v.wr.SendWR(wr_id=wr_id, opcode=op, num_sge=1, sg=[v.wr.SGE(src.buf + off, ln, src.lkey)],
                     imm_data=imm, send_flags=v.enums.IBV_SEND_SIGNALED)
    wr.set_wr_rdma(dst.rkey, dst.buf + doff)
    qp.post_send(wr)


def _landed(view: Any, want: bytes, chunk: int) -> list[bool]:
    n = len(want)
    return [view[i : min(i + chunk, n)] == want[i : i + chunk] for i in range(0, n, chunk)]


@pytest.mark.clause("LAND-6")
@settings(max_examples=40)
@given(model=st.sampled_from(("whole", "ascending", "any")), seed=st.integers(0, 2**32 - 1),
       chunk=st.sampled_from((8, 64, 100)))
def test_poller_sees_placed_chunks_and_target_completion_after_all(
    v: ModuleType, model: str, seed: int, chunk: int
) -> None:
    """Mid-message a poller sees exactly the chunks placed so far (a prefix under ascending,
    any subset under any, nothing or all under whole); the target's WRITE_WITH_IMM completion
    comes after every byte is visible; the writer's may come before."""
    f, a, b, qa, qb, src, dst = _pair(v, model, seed, chunk)
    data = bytes((i * 7 + 3) % 251 + 1 for i in range(N))
    mr_view(src)[:N] = data
    qb.post_recv(v.wr.RecvWR(wr_id=5, num_sge=1, sg=[v.wr.SGE(dst.buf, 0, dst.lkey)]))
    _post(v, qa, v.enums.IBV_WR_RDMA_WRITE_WITH_IMM, src, 0, N, dst, 0, imm=9)
    states, writer_early = [], False
    for _ in range(4 * N):
        f.step()
        got = _landed(mr_view(dst), data, chunk)
        states.append(got)
        if a.scq.nic_cq.entries and not all(got):
            writer_early = True
        if b.rcq.nic_cq.entries:
            assert all(got), "target completion before all data was visible"
            break
    note(f"seed={seed} states={len(states)} writer_early={writer_early}")
    assert b.rcq.nic_cq.entries and WC(*b.rcq.nic_cq.entries[0]).imm_data == 9
    for got in states:
        if model == "whole":
            assert all(got) or not any(got)
        elif model == "ascending":
            k = sum(got)
            assert got == [True] * k + [False] * (len(got) - k)


@pytest.mark.clause("LAND-6")
@pytest.mark.parametrize("model", ["ascending", "any"])
def test_relaxed_models_show_partial_data_and_early_writer_completion(
    v: ModuleType, model: str
) -> None:
    partial = non_prefix = early = False
    for seed in range(20):
        f, a, _b, qa, _qb, src, dst = _pair(v, model, seed)
        data = bytes(range(1, 256)) * 4 + b"\x01" * 4
        mr_view(src)[:N] = data
        _post(v, qa, v.enums.IBV_WR_RDMA_WRITE, src, 0, N, dst, 0)
        for _ in range(200):
            f.step()
            got = _landed(mr_view(dst), data, 64)
            partial |= 0 < sum(got) < len(got)
            non_prefix |= got != sorted(got, reverse=True)
            early |= bool(a.scq.nic_cq.entries) and not all(got)
            if all(got) and a.scq.nic_cq.entries:
                break
    assert partial and early
    assert non_prefix == (model == "any")


@pytest.mark.clause("LAND-6")
@pytest.mark.parametrize("seed", range(30))
def test_recv_completion_orders_earlier_writes_on_the_qp_but_not_other_qps(
    v: ModuleType, seed: int
) -> None:
    """Under any: a plain WRITE then a WRITE_WITH_IMM on the same QP: at the receive completion
    both are visible (o9-20).  The receive completion of one QP says nothing about another's."""
    f, _a, b, qa, qb, src, dst = _pair(v, "any", seed)
    mr_view(src)[: 2 * N] = b"\xaa" * N + b"\xbb" * N
    qb.post_recv(v.wr.RecvWR(wr_id=5, num_sge=1, sg=[v.wr.SGE(dst.buf, 0, dst.lkey)]))
    _post(v, qa, v.enums.IBV_WR_RDMA_WRITE, src, 0, N, dst, 0)
    _post(v, qa, v.enums.IBV_WR_RDMA_WRITE_WITH_IMM, src, N, 8, dst, 2 * N, imm=1)
    for _ in range(500):
        f.step()
        if b.rcq.nic_cq.entries:
            break
    assert bytes(mr_view(dst)[:N]) == b"\xaa" * N
    assert bytes(mr_view(dst)[2 * N : 2 * N + 8]) == b"\xbb" * 8


@pytest.mark.clause("LAND-6")
def test_later_message_may_land_before_earlier_under_any(v: ModuleType) -> None:
    overtaken = False
    for seed in range(20):
        f, _a, _b, qa, _qb, src, dst = _pair(v, "any", seed)
        mr_view(src)[: 2 * N] = b"\x11" * N + b"\x22" * N
        _post(v, qa, v.enums.IBV_WR_RDMA_WRITE, src, 0, N, dst, 0)
        _post(v, qa, v.enums.IBV_WR_RDMA_WRITE, src, N, N, dst, N)
        for _ in range(500):
            f.step()
            view = mr_view(dst)
            if bytes(view[N : 2 * N]) == b"\x22" * N and bytes(view[:N]) != b"\x11" * N:
                overtaken = True
            if not f.pending:
                break
    assert overtaken


@pytest.mark.clause("LAND-6")
def test_concurrent_read_returns_mix_and_read_after_write_on_same_qp_does_not(
    v: ModuleType,
) -> None:
    e = v.enums
    mixed = False
    for seed in range(20):
        f, _a, b, qa, _qb, src, dst = _pair(v, "any", seed)
        c = open_node(v, "emu0")
        qc, qd = make_qp(c, e.IBV_QPT_RC), make_qp(b, e.IBV_QPT_RC)
        connect_pair(c, qc, b, qd)
        rbuf = c.mr(N)
        mr_view(src)[:N] = b"\x77" * N
        _post(v, qa, e.IBV_WR_RDMA_WRITE, src, 0, N, dst, 0)
        f.step()
        f.step()
        _post(v, qc, e.IBV_WR_RDMA_READ, rbuf, 0, N, dst, 0)
        assert f.run_until_idle()
        got = set(bytes(mr_view(rbuf)[:N]))
        mixed |= got == {0, 0x77}
        # Same QP: READ after WRITE sees all of it.
        mr_view(src)[:N] = b"\x99" * N
        _post(v, qa, e.IBV_WR_RDMA_WRITE, src, 0, N, dst, 0)
        _post(v, qa, e.IBV_WR_RDMA_READ, src, N, N, dst, 0)
        assert f.run_until_idle()
        assert bytes(mr_view(src)[N : 2 * N]) == b"\x99" * N
    assert mixed


def test_send_data_lands_in_chunks_before_its_receive_completion(v: ModuleType) -> None:
    e = v.enums
    f, _a, b, qa, qb, src, dst = _pair(v, "any", 4, chunk=16)
    mr_view(src)[:100] = bytes(range(100))
    qb.post_recv(v.wr.RecvWR(wr_id=5, num_sge=2, sg=[v.wr.SGE(dst.buf, 30, dst.lkey),
                                                       v.wr.SGE(dst.buf + 500, 70, dst.lkey)]))
    wr = v.wr.SendWR(wr_id=1, opcode=e.IBV_WR_SEND, num_sge=1, sg=[v.wr.SGE(src.buf, 100, src.lkey)],
                     send_flags=e.IBV_SEND_SIGNALED)
    qa.post_send(wr)
    for _ in range(100):
        f.step()
        if b.rcq.nic_cq.entries:
            break
    view = mr_view(dst)
    assert bytes(view[:30]) + bytes(view[500:570]) == bytes(range(100))
    assert WC(*b.rcq.nic_cq.entries[0]).byte_len == 100


def test_whole_keeps_fast_path_and_per_nic_model(v: ModuleType) -> None:
    f = nic_emu.Fabric(seed=0, machines=2)
    assert f.fast and not f.relaxed
    f.set_placement(Placement(model="ascending"), machine="emu1")
    assert f.relaxed and not f.fast
    assert f.placement_of(f.machine("emu0")).model == "whole"
    f.set_placement(Placement(), machine="emu1")
    assert f.fast

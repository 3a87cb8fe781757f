"""Property tests over random programs of verbs.

* ``RcMachine``: a stateful test against a plain model (a bytearray for the remote region, a
  list of expected completions): data written is the data read, atomics agree with the model,
  signaled completions come back in posting order.
* ``test_one_misuse_*``: a valid program with one misuse at a random place; the misused WR fails
  with the status real verbs give, everything before it succeeds, everything after is flushed.
* ``test_arbitrary_wrs_*``: random WR fields never make the emulator raise anything but the
  pyverbs exceptions, and every completion status is a real ibv_wc_status.
* ``test_run_is_a_function_of_the_seed``: same seed and program, same trace (emulator only).

Everything but the last test uses only the pyverbs API and runs on real devices too.
"""

from __future__ import annotations

import contextlib
import hashlib
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

import nic_emu
from nic_emu.provider import is_emulated, verbs
from tests.nic_emu.helpers import OPENED, close_nodes, connect_pair, make_qp, open_node, poll, qp_state, sge

REMOTE = 1024
SLOT = 256
SLOTS = 16
V = verbs()
E = V.enums


def _device_names() -> tuple[str, str]:
    import os

    if is_emulated():
        return ("emu0", "emu1")
    n = os.environ.get("GOSSAMER_DEVICES", "rxe0,rxe1").split(",")
    return (n[0], n[1])


@contextlib.contextmanager
def _fresh(seed: int = 0, **kw: Any) -> Any:
    start = len(OPENED)
    try:
        if is_emulated():
            with nic_emu.use_fabric(nic_emu.Fabric(seed=seed, **kw)) as f:
                yield f
        else:
            yield None
    finally:
        close_nodes(start)  # each example's devices, before a failed one's traceback cycles them


class RcMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self._ctx = _fresh()
        self._ctx.__enter__()
        a, b = (open_node(V, n) for n in _device_names())
        self.a, self.b = a, b
        self.qa = make_qp(a, E.IBV_QPT_RC, max_send_wr=SLOTS, max_recv_wr=SLOTS)
        self.qb = make_qp(b, E.IBV_QPT_RC, max_send_wr=SLOTS, max_recv_wr=SLOTS)
        connect_pair(a, self.qa, b, self.qb, max_rd_atomic=4, max_dest_rd_atomic=4)
        self.la = a.mr(SLOT * SLOTS)
        self.rb = b.mr(REMOTE)
        self.rbuf = b.mr(SLOT * SLOTS)
        self.model = bytearray(REMOTE)
        self.slot = 0
        self.expect_wcs: list[tuple[int, int]] = []  # (wr_id, opcode) of signaled WRs
        self.expect_local: list[tuple[int, bytes]] = []  # (local offset, bytes) after drain
        self.expect_recv: list[tuple[int, bytes, int]] = []
        self.next_id = 0

    def teardown(self) -> None:
        self._ctx.__exit__(None, None, None)

    def _post(self, opcode: int, local_len: int, roff: int, signaled: bool,
              compare_add: int = 0, swap: int = 0, imm: int = 0) -> int:
        off = self.slot * SLOT
        self.slot += 1
        self.next_id += 1
        w = V.wr.SendWR(wr_id=self.next_id, opcode=opcode, num_sge=1,
                        sg=[sge(self.la, local_len, off)], imm_data=imm,
                        send_flags=E.IBV_SEND_SIGNALED if signaled else 0)
        if opcode in (E.IBV_WR_ATOMIC_CMP_AND_SWP, E.IBV_WR_ATOMIC_FETCH_AND_ADD):
            w.set_wr_atomic(self.rb.rkey, self.rb.buf + roff, compare_add, swap)
        else:
            w.set_wr_rdma(self.rb.rkey, self.rb.buf + roff)
        self.qa.post_send(w)
        if signaled:
            self.expect_wcs.append((self.next_id, opcode))
        return off

    @precondition(lambda self: self.slot < SLOTS)
    @rule(data=st.binary(min_size=0, max_size=SLOT), roff=st.integers(0, REMOTE),
          signaled=st.booleans())
    def write(self, data: bytes, roff: int, signaled: bool) -> None:
        data = data[: REMOTE - roff]
        off = self.slot * SLOT
        if data:
            self.la.write(data, len(data), off)
        self._post(E.IBV_WR_RDMA_WRITE, len(data), roff, signaled)
        self.model[roff : roff + len(data)] = data

    @precondition(lambda self: self.slot < SLOTS)
    @rule(length=st.integers(1, SLOT), roff=st.integers(0, REMOTE - 1), signaled=st.booleans())
    def read(self, length: int, roff: int, signaled: bool) -> None:
        length = min(length, REMOTE - roff)
        off = self._post(E.IBV_WR_RDMA_READ, length, roff, signaled)
        self.expect_local.append((off, bytes(self.model[roff : roff + length])))

    @precondition(lambda self: self.slot < SLOTS)
    @rule(word=st.integers(0, REMOTE // 8 - 1), add=st.integers(0, 2**64 - 1),
          cas=st.booleans(), hit=st.booleans())
    def atomic(self, word: int, add: int, cas: bool, hit: bool) -> None:
        roff = word * 8
        old = int.from_bytes(self.model[roff : roff + 8], "little")
        if cas:
            cmp = old if hit else old ^ 1
            off = self._post(E.IBV_WR_ATOMIC_CMP_AND_SWP, 8, roff, True, cmp, add)
            new = add if cmp == old else old
        else:
            off = self._post(E.IBV_WR_ATOMIC_FETCH_AND_ADD, 8, roff, True, add)
            new = (old + add) % 2**64
        self.model[roff : roff + 8] = new.to_bytes(8, "little")
        self.expect_local.append((off, old.to_bytes(8, "little")))

    @precondition(lambda self: self.slot < SLOTS)
    @rule(data=st.binary(min_size=0, max_size=SLOT), imm=st.integers(0, 2**32 - 1),
          with_imm=st.booleans())
    def send(self, data: bytes, imm: int, with_imm: bool) -> None:
        roff = self.slot * SLOT
        self.qb.post_recv(V.wr.RecvWR(wr_id=self.next_id + 1, num_sge=1,
                                      sg=[sge(self.rbuf, SLOT, roff)]))
        if data:
            self.la.write(data, len(data), self.slot * SLOT)
        op = E.IBV_WR_SEND_WITH_IMM if with_imm else E.IBV_WR_SEND
        self._post(op, len(data), 0, False, imm=imm)
        self.expect_recv.append((roff, data, imm if with_imm else -1))

    @rule()
    def drain(self) -> None:
        wcs = poll(self.a.scq, len(self.expect_wcs))
        assert [(w.wr_id, w.status) for w in wcs] == [(i, 0) for i, _ in self.expect_wcs]
        opmap = {E.IBV_WR_RDMA_WRITE: E.IBV_WC_RDMA_WRITE, E.IBV_WR_RDMA_READ: E.IBV_WC_RDMA_READ,
                 E.IBV_WR_ATOMIC_CMP_AND_SWP: E.IBV_WC_COMP_SWAP,
                 E.IBV_WR_ATOMIC_FETCH_AND_ADD: E.IBV_WC_FETCH_ADD}
        assert [w.opcode for w in wcs] == [opmap[o] for _, o in self.expect_wcs]
        # One last signaled WRITE of nothing: its completion means every earlier WR is done.
        self.next_id += 1
        fence = V.wr.SendWR(wr_id=self.next_id, opcode=E.IBV_WR_RDMA_WRITE, num_sge=1,
                            sg=[sge(self.la, 0)])
        fence.set_wr_rdma(self.rb.rkey, self.rb.buf)
        self.qa.post_send(fence)
        assert [w.status for w in poll(self.a.scq, 1)] == [0]
        for off, want in self.expect_local:
            assert self.la.read(len(want), off) == want
        rwcs = poll(self.b.rcq, len(self.expect_recv))
        assert len(rwcs) == len(self.expect_recv)
        for wc, (roff, data, imm) in zip(rwcs, self.expect_recv, strict=True):
            assert (wc.status, wc.byte_len) == (0, len(data))
            assert bool(wc.wc_flags & E.IBV_WC_WITH_IMM) == (imm >= 0)
            if imm >= 0:
                assert wc.imm_data == imm
            assert self.rbuf.read(len(data), roff) == data
        self.expect_wcs, self.expect_local, self.expect_recv = [], [], []
        self.slot = 0

    @invariant()
    def remote_memory_matches_once_drained(self) -> None:
        if self.slot == 0:
            assert self.rb.read(REMOTE, 0) == bytes(self.model)


RcMachine.TestCase.settings = settings(RcMachine.TestCase.settings, stateful_step_count=40)
TestRc = RcMachine.TestCase


# -- one misuse in a valid program ---------------------------------------------------------

MISUSES = {
    "bad_rkey": E.IBV_WC_REM_ACCESS_ERR,
    "out_of_bounds": E.IBV_WC_REM_ACCESS_ERR,
    "no_remote_read_mr": E.IBV_WC_REM_ACCESS_ERR,
    # rxe 6.1 reports an unknown local key as LOC_QP_OP_ERR on a WRITE (the requester reads
    # the buffer), LOC_PROT_ERR on a READ (the completer writes it): see BAD_LKEY_READ
    "bad_lkey": E.IBV_WC_LOC_QP_OP_ERR,
    "local_read_only": E.IBV_WC_LOC_PROT_ERR,
}


BAD_LKEY_READ = E.IBV_WC_LOC_PROT_ERR


@given(before=st.integers(0, 6), after=st.integers(0, 6), misuse=st.sampled_from(list(MISUSES)),
       reads=st.lists(st.booleans(), min_size=13, max_size=13))
@example(before=1, after=1, misuse="bad_lkey", reads=[True] * 13)
@example(before=1, after=1, misuse="bad_lkey", reads=[False] * 13)
def test_one_misuse_fails_exactly_there(before: int, after: int, misuse: str,
                                        reads: list[bool]) -> None:
    with _fresh():
        a, b = (open_node(V, n) for n in _device_names())
        qa = make_qp(a, E.IBV_QPT_RC, max_send_wr=16, sq_sig_all=1)
        qb = make_qp(b, E.IBV_QPT_RC)
        connect_pair(a, qa, b, qb)
        la, rb = a.mr(4096), b.mr(4096)
        ro_local = V.mr.MR(a.pd, 64, 0)
        wo_remote = b.mr(64, E.IBV_ACCESS_LOCAL_WRITE | E.IBV_ACCESS_REMOTE_WRITE)
        n = before + 1 + after
        for i in range(n):
            op = E.IBV_WR_RDMA_READ if reads[i] else E.IBV_WR_RDMA_WRITE
            s, rkey, raddr = sge(la, 16, 16 * i), rb.rkey, rb.buf + 16 * i
            if i == before:
                if misuse == "bad_rkey":
                    rkey ^= 0x1200
                elif misuse == "out_of_bounds":
                    raddr = rb.buf + 4090
                elif misuse == "no_remote_read_mr":
                    op, rkey, raddr = E.IBV_WR_RDMA_READ, wo_remote.rkey, wo_remote.buf
                elif misuse == "bad_lkey":
                    s = V.wr.SGE(la.buf, 16, la.lkey ^ 0x3400)
                else:
                    op, s = E.IBV_WR_RDMA_READ, sge(ro_local, 16)
            w = V.wr.SendWR(wr_id=i, opcode=op, num_sge=1, sg=[s])
            w.set_wr_rdma(rkey, raddr)
            qa.post_send(w)
        wcs = poll(a.scq, n)
        bad = BAD_LKEY_READ if misuse == "bad_lkey" and reads[before] else MISUSES[misuse]
        want = [0] * before + [bad] + [E.IBV_WC_WR_FLUSH_ERR] * after
        assert [(w.wr_id, w.status) for w in wcs] == list(enumerate(want))
        assert qp_state(qa) == E.IBV_QPS_ERR


# -- arbitrary work requests: only pyverbs errors, only real statuses ------------------------

_STATUSES = {int(s) for s in E.ibv_wc_status}


@given(ops=st.lists(st.tuples(
    st.integers(0, 16), st.integers(0, 31), st.integers(-8, 5000), st.integers(0, 600),
    st.sampled_from(["good", "bad", "other"]), st.sampled_from(["good", "bad", "other"]),
    st.integers(0, 2**64 - 1)), min_size=1, max_size=12),
    qp_type=st.sampled_from([E.IBV_QPT_RC, E.IBV_QPT_UC]))
def test_arbitrary_wrs_raise_only_pyverbs_errors(ops: list[tuple[Any, ...]], qp_type: int) -> None:
    with _fresh():
        a, b = (open_node(V, n) for n in _device_names())
        qa = make_qp(a, qp_type, max_send_wr=8, max_inline_data=64)
        qb = make_qp(b, qp_type)
        access = E.IBV_ACCESS_LOCAL_WRITE | E.IBV_ACCESS_REMOTE_WRITE
        if qp_type == E.IBV_QPT_RC:
            access |= E.IBV_ACCESS_REMOTE_READ | E.IBV_ACCESS_REMOTE_ATOMIC
        connect_pair(a, qa, b, qb, access=access, rnr_retry=0, retry_cnt=0)
        la, rb = a.mr(4096), b.mr(4096)
        for opcode, flags, roff, length, lk, rk, operand in ops:
            lkey = {"good": la.lkey, "bad": la.lkey ^ 0x100, "other": rb.lkey}[lk]
            rkey = {"good": rb.rkey, "bad": rb.rkey ^ 0x100, "other": la.rkey}[rk]
            try:
                w = V.wr.SendWR(wr_id=opcode, opcode=opcode, num_sge=1,
                                sg=[V.wr.SGE(la.buf, length, lkey)], send_flags=flags)
                w.set_wr_atomic(rkey, rb.buf + roff, operand, operand >> 1)
                qa.post_send(w)
            except (V.pyverbs_error.PyverbsRDMAError, V.pyverbs_error.PyverbsUserError):
                pass
        for wc in poll(a.scq, 64, max_polls=20) + poll(b.rcq, 64, max_polls=2):
            assert wc.status in _STATUSES


# -- determinism ----------------------------------------------------------------------------

@pytest.mark.skipif(not is_emulated(), reason="seeds exist only on the emulator")
@settings(max_examples=25)
@given(seed=st.integers(0, 2**32), program=st.lists(
    st.tuples(st.integers(0, 3), st.integers(0, 3), st.integers(0, 1023),
              st.binary(min_size=1, max_size=64)), min_size=1, max_size=30))
def test_run_is_a_function_of_the_seed(
    seed: int, program: list[tuple[int, int, int, bytes]]
) -> None:
    plan = nic_emu.FaultPlan(drop=0.1, delay=0.2, reorder=0.3)
    assert _trace(seed, program, plan) == _trace(seed, program, plan)


def _trace(seed: int, program: list[tuple[int, int, int, bytes]],
           plan: nic_emu.FaultPlan) -> tuple[Any, ...]:
    """Four QPs (two RC, two UC) between two machines, lag and faults on; returns every
    completion and a digest of remote memory."""
    with nic_emu.use_fabric(nic_emu.Fabric(seed=seed, lag=0.3, faults=plan)) as f:
        a, b = open_node(V, "emu0"), open_node(V, "emu1")
        pairs = []
        for qpt in (E.IBV_QPT_RC, E.IBV_QPT_RC, E.IBV_QPT_UC, E.IBV_QPT_UC):
            qa, qb = make_qp(a, qpt, max_send_wr=64), make_qp(b, qpt)
            connect_pair(a, qa, b, qb, access=E.IBV_ACCESS_LOCAL_WRITE
                         | E.IBV_ACCESS_REMOTE_WRITE)
            pairs.append(qa)
        la, rb = a.mr(4096), b.mr(1024 + 64)
        out: list[Any] = []
        for i, (qi, polls, roff, data) in enumerate(program):
            la.write(data, len(data), 64 * (i % 32))
            w = V.wr.SendWR(wr_id=i, opcode=E.IBV_WR_RDMA_WRITE, num_sge=1,
                            sg=[sge(la, len(data), 64 * (i % 32))])
            w.set_wr_rdma(rb.rkey, rb.buf + roff)
            pairs[qi].post_send(w)
            for _ in range(polls):
                out.extend((w.wr_id, w.status, w.qp_num) for w in a.scq.poll(4)[1])
        f.run_until_idle()
        out.extend((w.wr_id, w.status, w.qp_num) for w in a.scq.poll(1000)[1])
        return tuple(out), hashlib.sha256(rb.read(rb.length, 0)).hexdigest()

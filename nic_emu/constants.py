"""The verbs constants the NIC works with, as plain ints, and rxe's limits.

The NIC layer (``nic_emu.transport``, ``nic_emu.qp_states``, ``nic_emu.fabric``) compares and
combines these on its hot paths, where plain ints are faster than ``IntEnum`` members, and it
does not import the pyverbs facade.  Each value is a copy of a libibverbs enum value;
``tests/nic_emu/test_constants.py`` checks every one against ``nic_emu.pyverbs.enums``.
"""

from __future__ import annotations

# -- QP states (enum ibv_qp_state) and types (enum ibv_qp_type) -------------------------------
RESET, INIT, RTR, RTS, SQD, SQE, ERR = 0, 1, 2, 3, 4, 5, 6
RC, UC, UD = 2, 3, 4

# -- send opcodes (enum ibv_wr_opcode) and flags (enum ibv_send_flags) ------------------------
WR_WRITE, WR_WRITE_IMM, WR_SEND, WR_SEND_IMM, WR_READ, WR_CAS, WR_FAA = 0, 1, 2, 3, 4, 5, 6
F_SIGNALED, F_INLINE = 2, 8

# -- memory access (enum ibv_access_flags) ----------------------------------------------------
A_LOCAL_WRITE, A_REMOTE_WRITE, A_REMOTE_READ, A_REMOTE_ATOMIC = 1, 2, 4, 8

# -- completion status (enum ibv_wc_status) ---------------------------------------------------
S_OK, S_LOC_LEN, S_LOC_QP_OP, S_LOC_PROT, S_FLUSH = 0, 1, 2, 4, 5
S_REM_INV_REQ, S_REM_ACCESS, S_REM_OP, S_RETRY_EXC, S_RNR_RETRY_EXC = 9, 10, 11, 12, 13

# -- completion opcodes (enum ibv_wc_opcode) and flags (enum ibv_wc_flags) --------------------
WC_SEND, WC_RDMA_WRITE, WC_RDMA_READ, WC_COMP_SWAP, WC_FETCH_ADD = 0, 1, 2, 3, 4
WC_RECV, WC_RECV_RDMA_WITH_IMM = 128, 129
WC_GRH, WC_WITH_IMM = 1, 2

# -- async events (enum ibv_event_type) -------------------------------------------------------
EVENT_SRQ_LIMIT_REACHED = 15

# -- ibv_modify_qp attribute mask bits (enum ibv_qp_attr_mask) --------------------------------
M_STATE, M_CUR_STATE, M_EN_SQD_ASYNC_NOTIFY, M_ACCESS_FLAGS = 1, 2, 4, 8
M_PKEY_INDEX, M_PORT, M_QKEY, M_AV, M_PATH_MTU, M_TIMEOUT = 16, 32, 64, 128, 256, 512
M_RETRY_CNT, M_RNR_RETRY, M_RQ_PSN, M_MAX_QP_RD_ATOMIC = 1024, 2048, 4096, 8192
M_ALT_PATH, M_MIN_RNR_TIMER, M_SQ_PSN, M_MAX_DEST_RD_ATOMIC = 16384, 32768, 65536, 131072
M_PATH_MIG_STATE, M_CAP, M_DEST_QPN, M_RATE_LIMIT = 262144, 524288, 1048576, 33554432

# -- path MTU codes (enum ibv_mtu), by MTU in bytes ------------------------------------------
MTU_CODES = {256: 1, 512: 2, 1024: 3, 2048: 4, 4096: 5}

#: Limits of rxe (drivers/infiniband/sw/rxe/rxe_param.h, Linux 6.1), which the emulator enforces.
MAX_QP = 0x10000
MAX_QP_WR = 1 << 20  # measured on rxe0 (Debian 6.1.0-57): ibv_query_device max_qp_wr
MAX_SGE = 32
MAX_CQ = 0x4000
MAX_CQE = (1 << 15) - 1
MAX_MR = 0x40000
MAX_PD = 0x7FF0
MAX_INLINE_DATA = 512
MAX_QP_RD_ATOM = 128
MAX_MR_SIZE = 1 << 32
MAX_MW = 0x1000
MAX_SRQ = 917503
MAX_SRQ_WR = 1 << 20
MAX_SRQ_SGE = 27

"""The libibverbs enums, with the values of <infiniband/verbs.h> (rdma-core v44).

pyverbs exposes them two ways: flat module constants (``pyverbs.enums.IBV_WR_SEND``, rdma-core
<= v49) and one class per C enum (``pyverbs.libibverbs_enums.ibv_wr_opcode.IBV_WR_SEND``, newer
releases).  Both are here.  The flat aliases at the bottom were generated from the classes by a
one-off script; ``tests/nic_emu/test_api.py`` checks that they still agree.
"""

from enum import IntEnum, IntFlag


class ibv_transport_type(IntEnum):
    """Transport of a device (verbs.h)."""

    IBV_TRANSPORT_UNKNOWN = -1
    IBV_TRANSPORT_IB = 0
    IBV_TRANSPORT_IWARP = 1
    IBV_TRANSPORT_USNIC = 2
    IBV_TRANSPORT_USNIC_UDP = 3


class ibv_node_type(IntEnum):
    """Node type of a device (verbs.h)."""

    IBV_NODE_UNKNOWN = -1
    IBV_NODE_CA = 1
    IBV_NODE_SWITCH = 2
    IBV_NODE_ROUTER = 3
    IBV_NODE_RNIC = 4
    IBV_NODE_USNIC = 5
    IBV_NODE_USNIC_UDP = 6
    IBV_NODE_UNSPECIFIED = 7


class ibv_link_layer(IntEnum):
    """Port link layer (verbs.h, an anonymous enum there)."""

    IBV_LINK_LAYER_UNSPECIFIED = 0
    IBV_LINK_LAYER_INFINIBAND = 1
    IBV_LINK_LAYER_ETHERNET = 2


class ibv_atomic_cap(IntEnum):
    """Atomic capability of a device."""

    IBV_ATOMIC_NONE = 0
    IBV_ATOMIC_HCA = 1
    IBV_ATOMIC_GLOB = 2


class ibv_port_state(IntEnum):
    """Logical port state."""

    IBV_PORT_NOP = 0
    IBV_PORT_DOWN = 1
    IBV_PORT_INIT = 2
    IBV_PORT_ARMED = 3
    IBV_PORT_ACTIVE = 4
    IBV_PORT_ACTIVE_DEFER = 5


class ibv_mtu(IntEnum):
    """Path MTU codes; bytes = 128 << code."""

    IBV_MTU_256 = 1
    IBV_MTU_512 = 2
    IBV_MTU_1024 = 3
    IBV_MTU_2048 = 4
    IBV_MTU_4096 = 5


class ibv_event_type(IntEnum):
    """Asynchronous event types."""

    IBV_EVENT_CQ_ERR = 0
    IBV_EVENT_QP_FATAL = 1
    IBV_EVENT_QP_REQ_ERR = 2
    IBV_EVENT_QP_ACCESS_ERR = 3
    IBV_EVENT_COMM_EST = 4
    IBV_EVENT_SQ_DRAINED = 5
    IBV_EVENT_PATH_MIG = 6
    IBV_EVENT_PATH_MIG_ERR = 7
    IBV_EVENT_DEVICE_FATAL = 8
    IBV_EVENT_PORT_ACTIVE = 9
    IBV_EVENT_PORT_ERR = 10
    IBV_EVENT_LID_CHANGE = 11
    IBV_EVENT_PKEY_CHANGE = 12
    IBV_EVENT_SM_CHANGE = 13
    IBV_EVENT_SRQ_ERR = 14
    IBV_EVENT_SRQ_LIMIT_REACHED = 15
    IBV_EVENT_QP_LAST_WQE_REACHED = 16
    IBV_EVENT_CLIENT_REREGISTER = 17
    IBV_EVENT_GID_CHANGE = 18
    IBV_EVENT_WQ_FATAL = 19


class ibv_access_flags(IntFlag):
    """Memory and QP access flags."""

    IBV_ACCESS_LOCAL_WRITE = 1
    IBV_ACCESS_REMOTE_WRITE = 2
    IBV_ACCESS_REMOTE_READ = 4
    IBV_ACCESS_REMOTE_ATOMIC = 8
    IBV_ACCESS_MW_BIND = 16
    IBV_ACCESS_ZERO_BASED = 32
    IBV_ACCESS_ON_DEMAND = 64
    IBV_ACCESS_HUGETLB = 128
    IBV_ACCESS_RELAXED_ORDERING = 1048576


class ibv_wr_opcode(IntEnum):
    """Send work request opcodes."""

    IBV_WR_RDMA_WRITE = 0
    IBV_WR_RDMA_WRITE_WITH_IMM = 1
    IBV_WR_SEND = 2
    IBV_WR_SEND_WITH_IMM = 3
    IBV_WR_RDMA_READ = 4
    IBV_WR_ATOMIC_CMP_AND_SWP = 5
    IBV_WR_ATOMIC_FETCH_AND_ADD = 6
    IBV_WR_LOCAL_INV = 7
    IBV_WR_BIND_MW = 8
    IBV_WR_SEND_WITH_INV = 9
    IBV_WR_TSO = 10
    IBV_WR_DRIVER1 = 11
    IBV_WR_ATOMIC_WRITE = 15


class ibv_send_flags(IntFlag):
    """Send work request flags."""

    IBV_SEND_FENCE = 1
    IBV_SEND_SIGNALED = 2
    IBV_SEND_SOLICITED = 4
    IBV_SEND_INLINE = 8
    IBV_SEND_IP_CSUM = 16


class ibv_qp_type(IntEnum):
    """Queue pair transport types."""

    IBV_QPT_RC = 2
    IBV_QPT_UC = 3
    IBV_QPT_UD = 4
    IBV_QPT_RAW_PACKET = 8
    IBV_QPT_XRC_SEND = 9
    IBV_QPT_XRC_RECV = 10
    IBV_QPT_DRIVER = 255


class ibv_qp_state(IntEnum):
    """Queue pair states (IB spec 10.3.1)."""

    IBV_QPS_RESET = 0
    IBV_QPS_INIT = 1
    IBV_QPS_RTR = 2
    IBV_QPS_RTS = 3
    IBV_QPS_SQD = 4
    IBV_QPS_SQE = 5
    IBV_QPS_ERR = 6
    IBV_QPS_UNKNOWN = 7


class ibv_qp_attr_mask(IntFlag):
    """Which QPAttr fields a modify/query uses."""

    IBV_QP_STATE = 1
    IBV_QP_CUR_STATE = 2
    IBV_QP_EN_SQD_ASYNC_NOTIFY = 4
    IBV_QP_ACCESS_FLAGS = 8
    IBV_QP_PKEY_INDEX = 16
    IBV_QP_PORT = 32
    IBV_QP_QKEY = 64
    IBV_QP_AV = 128
    IBV_QP_PATH_MTU = 256
    IBV_QP_TIMEOUT = 512
    IBV_QP_RETRY_CNT = 1024
    IBV_QP_RNR_RETRY = 2048
    IBV_QP_RQ_PSN = 4096
    IBV_QP_MAX_QP_RD_ATOMIC = 8192
    IBV_QP_ALT_PATH = 16384
    IBV_QP_MIN_RNR_TIMER = 32768
    IBV_QP_SQ_PSN = 65536
    IBV_QP_MAX_DEST_RD_ATOMIC = 131072
    IBV_QP_PATH_MIG_STATE = 262144
    IBV_QP_CAP = 524288
    IBV_QP_DEST_QPN = 1048576
    IBV_QP_RATE_LIMIT = 33554432


class ibv_mig_state(IntEnum):
    """Path migration states."""

    IBV_MIG_MIGRATED = 0
    IBV_MIG_REARM = 1
    IBV_MIG_ARMED = 2


class ibv_wc_status(IntEnum):
    """Work completion status codes."""

    IBV_WC_SUCCESS = 0
    IBV_WC_LOC_LEN_ERR = 1
    IBV_WC_LOC_QP_OP_ERR = 2
    IBV_WC_LOC_EEC_OP_ERR = 3
    IBV_WC_LOC_PROT_ERR = 4
    IBV_WC_WR_FLUSH_ERR = 5
    IBV_WC_MW_BIND_ERR = 6
    IBV_WC_BAD_RESP_ERR = 7
    IBV_WC_LOC_ACCESS_ERR = 8
    IBV_WC_REM_INV_REQ_ERR = 9
    IBV_WC_REM_ACCESS_ERR = 10
    IBV_WC_REM_OP_ERR = 11
    IBV_WC_RETRY_EXC_ERR = 12
    IBV_WC_RNR_RETRY_EXC_ERR = 13
    IBV_WC_LOC_RDD_VIOL_ERR = 14
    IBV_WC_REM_INV_RD_REQ_ERR = 15
    IBV_WC_REM_ABORT_ERR = 16
    IBV_WC_INV_EECN_ERR = 17
    IBV_WC_INV_EEC_STATE_ERR = 18
    IBV_WC_FATAL_ERR = 19
    IBV_WC_RESP_TIMEOUT_ERR = 20
    IBV_WC_GENERAL_ERR = 21
    IBV_WC_TM_ERR = 22
    IBV_WC_TM_RNDV_INCOMPLETE = 23


class ibv_wc_opcode(IntEnum):
    """Work completion opcodes; receive opcodes have bit 7 set."""

    IBV_WC_SEND = 0
    IBV_WC_RDMA_WRITE = 1
    IBV_WC_RDMA_READ = 2
    IBV_WC_COMP_SWAP = 3
    IBV_WC_FETCH_ADD = 4
    IBV_WC_BIND_MW = 5
    IBV_WC_LOCAL_INV = 6
    IBV_WC_TSO = 7
    IBV_WC_ATOMIC_WRITE = 9
    IBV_WC_RECV = 128
    IBV_WC_RECV_RDMA_WITH_IMM = 129


class ibv_wc_flags(IntFlag):
    """Work completion flags."""

    IBV_WC_GRH = 1
    IBV_WC_WITH_IMM = 2
    IBV_WC_IP_CSUM_OK = 4
    IBV_WC_WITH_INV = 8
    IBV_WC_TM_SYNC_REQ = 16
    IBV_WC_TM_MATCH = 32
    IBV_WC_TM_DATA_VALID = 64


class ibv_gid_type(IntEnum):
    """GID types."""

    IBV_GID_TYPE_IB = 0
    IBV_GID_TYPE_ROCE_V1 = 1
    IBV_GID_TYPE_ROCE_V2 = 2


class ibv_gid_type_sysfs(IntEnum):
    """GID types as pyverbs' query_gid_type reports them."""

    IBV_GID_TYPE_SYSFS_IB_ROCE_V1 = 0
    IBV_GID_TYPE_SYSFS_ROCE_V2 = 1


# Flat aliases, as pyverbs.enums has them (generated; see the module docstring).
IBV_TRANSPORT_UNKNOWN = ibv_transport_type.IBV_TRANSPORT_UNKNOWN
IBV_TRANSPORT_IB = ibv_transport_type.IBV_TRANSPORT_IB
IBV_TRANSPORT_IWARP = ibv_transport_type.IBV_TRANSPORT_IWARP
IBV_TRANSPORT_USNIC = ibv_transport_type.IBV_TRANSPORT_USNIC
IBV_TRANSPORT_USNIC_UDP = ibv_transport_type.IBV_TRANSPORT_USNIC_UDP
IBV_NODE_UNKNOWN = ibv_node_type.IBV_NODE_UNKNOWN
IBV_NODE_CA = ibv_node_type.IBV_NODE_CA
IBV_NODE_SWITCH = ibv_node_type.IBV_NODE_SWITCH
IBV_NODE_ROUTER = ibv_node_type.IBV_NODE_ROUTER
IBV_NODE_RNIC = ibv_node_type.IBV_NODE_RNIC
IBV_NODE_USNIC = ibv_node_type.IBV_NODE_USNIC
IBV_NODE_USNIC_UDP = ibv_node_type.IBV_NODE_USNIC_UDP
IBV_NODE_UNSPECIFIED = ibv_node_type.IBV_NODE_UNSPECIFIED
IBV_LINK_LAYER_UNSPECIFIED = ibv_link_layer.IBV_LINK_LAYER_UNSPECIFIED
IBV_LINK_LAYER_INFINIBAND = ibv_link_layer.IBV_LINK_LAYER_INFINIBAND
IBV_LINK_LAYER_ETHERNET = ibv_link_layer.IBV_LINK_LAYER_ETHERNET
IBV_ATOMIC_NONE = ibv_atomic_cap.IBV_ATOMIC_NONE
IBV_ATOMIC_HCA = ibv_atomic_cap.IBV_ATOMIC_HCA
IBV_ATOMIC_GLOB = ibv_atomic_cap.IBV_ATOMIC_GLOB
IBV_PORT_NOP = ibv_port_state.IBV_PORT_NOP
IBV_PORT_DOWN = ibv_port_state.IBV_PORT_DOWN
IBV_PORT_INIT = ibv_port_state.IBV_PORT_INIT
IBV_PORT_ARMED = ibv_port_state.IBV_PORT_ARMED
IBV_PORT_ACTIVE = ibv_port_state.IBV_PORT_ACTIVE
IBV_PORT_ACTIVE_DEFER = ibv_port_state.IBV_PORT_ACTIVE_DEFER
IBV_MTU_256 = ibv_mtu.IBV_MTU_256
IBV_MTU_512 = ibv_mtu.IBV_MTU_512
IBV_MTU_1024 = ibv_mtu.IBV_MTU_1024
IBV_MTU_2048 = ibv_mtu.IBV_MTU_2048
IBV_MTU_4096 = ibv_mtu.IBV_MTU_4096
IBV_EVENT_CQ_ERR = ibv_event_type.IBV_EVENT_CQ_ERR
IBV_EVENT_QP_FATAL = ibv_event_type.IBV_EVENT_QP_FATAL
IBV_EVENT_QP_REQ_ERR = ibv_event_type.IBV_EVENT_QP_REQ_ERR
IBV_EVENT_QP_ACCESS_ERR = ibv_event_type.IBV_EVENT_QP_ACCESS_ERR
IBV_EVENT_COMM_EST = ibv_event_type.IBV_EVENT_COMM_EST
IBV_EVENT_SQ_DRAINED = ibv_event_type.IBV_EVENT_SQ_DRAINED
IBV_EVENT_PATH_MIG = ibv_event_type.IBV_EVENT_PATH_MIG
IBV_EVENT_PATH_MIG_ERR = ibv_event_type.IBV_EVENT_PATH_MIG_ERR
IBV_EVENT_DEVICE_FATAL = ibv_event_type.IBV_EVENT_DEVICE_FATAL
IBV_EVENT_PORT_ACTIVE = ibv_event_type.IBV_EVENT_PORT_ACTIVE
IBV_EVENT_PORT_ERR = ibv_event_type.IBV_EVENT_PORT_ERR
IBV_EVENT_LID_CHANGE = ibv_event_type.IBV_EVENT_LID_CHANGE
IBV_EVENT_PKEY_CHANGE = ibv_event_type.IBV_EVENT_PKEY_CHANGE
IBV_EVENT_SM_CHANGE = ibv_event_type.IBV_EVENT_SM_CHANGE
IBV_EVENT_SRQ_ERR = ibv_event_type.IBV_EVENT_SRQ_ERR
IBV_EVENT_SRQ_LIMIT_REACHED = ibv_event_type.IBV_EVENT_SRQ_LIMIT_REACHED
IBV_EVENT_QP_LAST_WQE_REACHED = ibv_event_type.IBV_EVENT_QP_LAST_WQE_REACHED
IBV_EVENT_CLIENT_REREGISTER = ibv_event_type.IBV_EVENT_CLIENT_REREGISTER
IBV_EVENT_GID_CHANGE = ibv_event_type.IBV_EVENT_GID_CHANGE
IBV_EVENT_WQ_FATAL = ibv_event_type.IBV_EVENT_WQ_FATAL
IBV_ACCESS_LOCAL_WRITE = ibv_access_flags.IBV_ACCESS_LOCAL_WRITE
IBV_ACCESS_REMOTE_WRITE = ibv_access_flags.IBV_ACCESS_REMOTE_WRITE
IBV_ACCESS_REMOTE_READ = ibv_access_flags.IBV_ACCESS_REMOTE_READ
IBV_ACCESS_REMOTE_ATOMIC = ibv_access_flags.IBV_ACCESS_REMOTE_ATOMIC
IBV_ACCESS_MW_BIND = ibv_access_flags.IBV_ACCESS_MW_BIND
IBV_ACCESS_ZERO_BASED = ibv_access_flags.IBV_ACCESS_ZERO_BASED
IBV_ACCESS_ON_DEMAND = ibv_access_flags.IBV_ACCESS_ON_DEMAND
IBV_ACCESS_HUGETLB = ibv_access_flags.IBV_ACCESS_HUGETLB
IBV_ACCESS_RELAXED_ORDERING = ibv_access_flags.IBV_ACCESS_RELAXED_ORDERING
IBV_WR_RDMA_WRITE = ibv_wr_opcode.IBV_WR_RDMA_WRITE
IBV_WR_RDMA_WRITE_WITH_IMM = ibv_wr_opcode.IBV_WR_RDMA_WRITE_WITH_IMM
IBV_WR_SEND = ibv_wr_opcode.IBV_WR_SEND
IBV_WR_SEND_WITH_IMM = ibv_wr_opcode.IBV_WR_SEND_WITH_IMM
IBV_WR_RDMA_READ = ibv_wr_opcode.IBV_WR_RDMA_READ
IBV_WR_ATOMIC_CMP_AND_SWP = ibv_wr_opcode.IBV_WR_ATOMIC_CMP_AND_SWP
IBV_WR_ATOMIC_FETCH_AND_ADD = ibv_wr_opcode.IBV_WR_ATOMIC_FETCH_AND_ADD
IBV_WR_LOCAL_INV = ibv_wr_opcode.IBV_WR_LOCAL_INV
IBV_WR_BIND_MW = ibv_wr_opcode.IBV_WR_BIND_MW
IBV_WR_SEND_WITH_INV = ibv_wr_opcode.IBV_WR_SEND_WITH_INV
IBV_WR_TSO = ibv_wr_opcode.IBV_WR_TSO
IBV_WR_DRIVER1 = ibv_wr_opcode.IBV_WR_DRIVER1
IBV_WR_ATOMIC_WRITE = ibv_wr_opcode.IBV_WR_ATOMIC_WRITE
IBV_SEND_FENCE = ibv_send_flags.IBV_SEND_FENCE
IBV_SEND_SIGNALED = ibv_send_flags.IBV_SEND_SIGNALED
IBV_SEND_SOLICITED = ibv_send_flags.IBV_SEND_SOLICITED
IBV_SEND_INLINE = ibv_send_flags.IBV_SEND_INLINE
IBV_SEND_IP_CSUM = ibv_send_flags.IBV_SEND_IP_CSUM
IBV_QPT_RC = ibv_qp_type.IBV_QPT_RC
IBV_QPT_UC = ibv_qp_type.IBV_QPT_UC
IBV_QPT_UD = ibv_qp_type.IBV_QPT_UD
IBV_QPT_RAW_PACKET = ibv_qp_type.IBV_QPT_RAW_PACKET
IBV_QPT_XRC_SEND = ibv_qp_type.IBV_QPT_XRC_SEND
IBV_QPT_XRC_RECV = ibv_qp_type.IBV_QPT_XRC_RECV
IBV_QPT_DRIVER = ibv_qp_type.IBV_QPT_DRIVER
IBV_QPS_RESET = ibv_qp_state.IBV_QPS_RESET
IBV_QPS_INIT = ibv_qp_state.IBV_QPS_INIT
IBV_QPS_RTR = ibv_qp_state.IBV_QPS_RTR
IBV_QPS_RTS = ibv_qp_state.IBV_QPS_RTS
IBV_QPS_SQD = ibv_qp_state.IBV_QPS_SQD
IBV_QPS_SQE = ibv_qp_state.IBV_QPS_SQE
IBV_QPS_ERR = ibv_qp_state.IBV_QPS_ERR
IBV_QPS_UNKNOWN = ibv_qp_state.IBV_QPS_UNKNOWN
IBV_QP_STATE = ibv_qp_attr_mask.IBV_QP_STATE
IBV_QP_CUR_STATE = ibv_qp_attr_mask.IBV_QP_CUR_STATE
IBV_QP_EN_SQD_ASYNC_NOTIFY = ibv_qp_attr_mask.IBV_QP_EN_SQD_ASYNC_NOTIFY
IBV_QP_ACCESS_FLAGS = ibv_qp_attr_mask.IBV_QP_ACCESS_FLAGS
IBV_QP_PKEY_INDEX = ibv_qp_attr_mask.IBV_QP_PKEY_INDEX
IBV_QP_PORT = ibv_qp_attr_mask.IBV_QP_PORT
IBV_QP_QKEY = ibv_qp_attr_mask.IBV_QP_QKEY
IBV_QP_AV = ibv_qp_attr_mask.IBV_QP_AV
IBV_QP_PATH_MTU = ibv_qp_attr_mask.IBV_QP_PATH_MTU
IBV_QP_TIMEOUT = ibv_qp_attr_mask.IBV_QP_TIMEOUT
IBV_QP_RETRY_CNT = ibv_qp_attr_mask.IBV_QP_RETRY_CNT
IBV_QP_RNR_RETRY = ibv_qp_attr_mask.IBV_QP_RNR_RETRY
IBV_QP_RQ_PSN = ibv_qp_attr_mask.IBV_QP_RQ_PSN
IBV_QP_MAX_QP_RD_ATOMIC = ibv_qp_attr_mask.IBV_QP_MAX_QP_RD_ATOMIC
IBV_QP_ALT_PATH = ibv_qp_attr_mask.IBV_QP_ALT_PATH
IBV_QP_MIN_RNR_TIMER = ibv_qp_attr_mask.IBV_QP_MIN_RNR_TIMER
IBV_QP_SQ_PSN = ibv_qp_attr_mask.IBV_QP_SQ_PSN
IBV_QP_MAX_DEST_RD_ATOMIC = ibv_qp_attr_mask.IBV_QP_MAX_DEST_RD_ATOMIC
IBV_QP_PATH_MIG_STATE = ibv_qp_attr_mask.IBV_QP_PATH_MIG_STATE
IBV_QP_CAP = ibv_qp_attr_mask.IBV_QP_CAP
IBV_QP_DEST_QPN = ibv_qp_attr_mask.IBV_QP_DEST_QPN
IBV_QP_RATE_LIMIT = ibv_qp_attr_mask.IBV_QP_RATE_LIMIT
IBV_MIG_MIGRATED = ibv_mig_state.IBV_MIG_MIGRATED
IBV_MIG_REARM = ibv_mig_state.IBV_MIG_REARM
IBV_MIG_ARMED = ibv_mig_state.IBV_MIG_ARMED
IBV_WC_SUCCESS = ibv_wc_status.IBV_WC_SUCCESS
IBV_WC_LOC_LEN_ERR = ibv_wc_status.IBV_WC_LOC_LEN_ERR
IBV_WC_LOC_QP_OP_ERR = ibv_wc_status.IBV_WC_LOC_QP_OP_ERR
IBV_WC_LOC_EEC_OP_ERR = ibv_wc_status.IBV_WC_LOC_EEC_OP_ERR
IBV_WC_LOC_PROT_ERR = ibv_wc_status.IBV_WC_LOC_PROT_ERR
IBV_WC_WR_FLUSH_ERR = ibv_wc_status.IBV_WC_WR_FLUSH_ERR
IBV_WC_MW_BIND_ERR = ibv_wc_status.IBV_WC_MW_BIND_ERR
IBV_WC_BAD_RESP_ERR = ibv_wc_status.IBV_WC_BAD_RESP_ERR
IBV_WC_LOC_ACCESS_ERR = ibv_wc_status.IBV_WC_LOC_ACCESS_ERR
IBV_WC_REM_INV_REQ_ERR = ibv_wc_status.IBV_WC_REM_INV_REQ_ERR
IBV_WC_REM_ACCESS_ERR = ibv_wc_status.IBV_WC_REM_ACCESS_ERR
IBV_WC_REM_OP_ERR = ibv_wc_status.IBV_WC_REM_OP_ERR
IBV_WC_RETRY_EXC_ERR = ibv_wc_status.IBV_WC_RETRY_EXC_ERR
IBV_WC_RNR_RETRY_EXC_ERR = ibv_wc_status.IBV_WC_RNR_RETRY_EXC_ERR
IBV_WC_LOC_RDD_VIOL_ERR = ibv_wc_status.IBV_WC_LOC_RDD_VIOL_ERR
IBV_WC_REM_INV_RD_REQ_ERR = ibv_wc_status.IBV_WC_REM_INV_RD_REQ_ERR
IBV_WC_REM_ABORT_ERR = ibv_wc_status.IBV_WC_REM_ABORT_ERR
IBV_WC_INV_EECN_ERR = ibv_wc_status.IBV_WC_INV_EECN_ERR
IBV_WC_INV_EEC_STATE_ERR = ibv_wc_status.IBV_WC_INV_EEC_STATE_ERR
IBV_WC_FATAL_ERR = ibv_wc_status.IBV_WC_FATAL_ERR
IBV_WC_RESP_TIMEOUT_ERR = ibv_wc_status.IBV_WC_RESP_TIMEOUT_ERR
IBV_WC_GENERAL_ERR = ibv_wc_status.IBV_WC_GENERAL_ERR
IBV_WC_TM_ERR = ibv_wc_status.IBV_WC_TM_ERR
IBV_WC_TM_RNDV_INCOMPLETE = ibv_wc_status.IBV_WC_TM_RNDV_INCOMPLETE
IBV_WC_SEND = ibv_wc_opcode.IBV_WC_SEND
IBV_WC_RDMA_WRITE = ibv_wc_opcode.IBV_WC_RDMA_WRITE
IBV_WC_RDMA_READ = ibv_wc_opcode.IBV_WC_RDMA_READ
IBV_WC_COMP_SWAP = ibv_wc_opcode.IBV_WC_COMP_SWAP
IBV_WC_FETCH_ADD = ibv_wc_opcode.IBV_WC_FETCH_ADD
IBV_WC_BIND_MW = ibv_wc_opcode.IBV_WC_BIND_MW
IBV_WC_LOCAL_INV = ibv_wc_opcode.IBV_WC_LOCAL_INV
IBV_WC_TSO = ibv_wc_opcode.IBV_WC_TSO
IBV_WC_ATOMIC_WRITE = ibv_wc_opcode.IBV_WC_ATOMIC_WRITE
IBV_WC_RECV = ibv_wc_opcode.IBV_WC_RECV
IBV_WC_RECV_RDMA_WITH_IMM = ibv_wc_opcode.IBV_WC_RECV_RDMA_WITH_IMM
IBV_WC_GRH = ibv_wc_flags.IBV_WC_GRH
IBV_WC_WITH_IMM = ibv_wc_flags.IBV_WC_WITH_IMM
IBV_WC_IP_CSUM_OK = ibv_wc_flags.IBV_WC_IP_CSUM_OK
IBV_WC_WITH_INV = ibv_wc_flags.IBV_WC_WITH_INV
IBV_WC_TM_SYNC_REQ = ibv_wc_flags.IBV_WC_TM_SYNC_REQ
IBV_WC_TM_MATCH = ibv_wc_flags.IBV_WC_TM_MATCH
IBV_WC_TM_DATA_VALID = ibv_wc_flags.IBV_WC_TM_DATA_VALID
IBV_GID_TYPE_IB = ibv_gid_type.IBV_GID_TYPE_IB
IBV_GID_TYPE_ROCE_V1 = ibv_gid_type.IBV_GID_TYPE_ROCE_V1
IBV_GID_TYPE_ROCE_V2 = ibv_gid_type.IBV_GID_TYPE_ROCE_V2
IBV_GID_TYPE_SYSFS_IB_ROCE_V1 = ibv_gid_type_sysfs.IBV_GID_TYPE_SYSFS_IB_ROCE_V1
IBV_GID_TYPE_SYSFS_ROCE_V2 = ibv_gid_type_sysfs.IBV_GID_TYPE_SYSFS_ROCE_V2

# The rest of pyverbs.enums (device caps, extended CQ/QP flags, flow, SRQ, WQ, XRC, ODP, ...),
# generated from the real module by _enumgen.py; rdma-core's own tests name many of them.
from nic_emu.pyverbs._enums_more import *  # noqa: E402, F403

"""pyverbs.device: the device list and ``Context``, resolved against the current emulated fabric."""

from __future__ import annotations

import errno
from typing import TYPE_CHECKING

from nic_emu.pyverbs import enums as e
from nic_emu.pyverbs._unsupported import unsupported
from nic_emu.pyverbs.addr import GID
from nic_emu.pyverbs.base import PyverbsCM, PyverbsObject
from nic_emu.pyverbs.pyverbs_error import PyverbsRDMAError, PyverbsUserError

if TYPE_CHECKING:
    from nic_emu.fabric import Machine

#: Limits of rxe (drivers/infiniband/sw/rxe/rxe_param.h, Linux 6.1), which the emulator enforces.
MAX_QP = 0x10000
MAX_QP_WR = 0x4000
MAX_SGE = 32
MAX_CQ = 0x4000
MAX_CQE = (1 << 15) - 1
MAX_MR = 0x40000
MAX_PD = 0x7FF0
MAX_INLINE_DATA = 512
MAX_QP_RD_ATOM = 128
MAX_MR_SIZE = 1 << 32


class Device(PyverbsObject):
    """One entry of ``get_device_list()``; ``name`` is bytes, as in pyverbs."""

    __slots__ = ("_guid", "_index", "_name", "_node_type", "_transport_type")

    def __init__(
        self, name: bytes, guid: int, node_type: int, transport_type: int, index: int
    ) -> None:
        self._name = name
        self._guid = guid
        self._node_type = node_type
        self._transport_type = transport_type
        self._index = index

    @property
    def name(self) -> bytes:
        return self._name

    @property
    def guid(self) -> int:
        return self._guid

    @property
    def node_type(self) -> int:
        return self._node_type

    @property
    def transport_type(self) -> int:
        return self._transport_type

    @property
    def index(self) -> int:
        return self._index


def get_device_list() -> list[Device]:
    """The machines of the current fabric, one device each (like one rxe link per host)."""
    from nic_emu.fabric import current_fabric

    return [
        Device(m.name.encode(), m.guid, e.IBV_NODE_CA, e.IBV_TRANSPORT_IB, m.index)
        for m in current_fabric().machines
    ]


class DeviceAttr(PyverbsObject):
    """The subset of ibv_device_attr that RDMA code reads, with rxe's values."""

    __slots__ = ("node_guid", "sys_image_guid")

    fw_version = "0.0.0"
    max_mr_size = MAX_MR_SIZE
    page_size_cap = 0xFFFFF000
    vendor_id = 0xFFFFFF
    vendor_part_id = 0
    hw_ver = 0
    max_qp = MAX_QP
    max_qp_wr = MAX_QP_WR
    device_cap_flags = 0
    max_sge = MAX_SGE
    max_sge_rd = MAX_SGE
    max_cq = MAX_CQ
    max_cqe = MAX_CQE
    max_mr = MAX_MR
    max_pd = MAX_PD
    max_qp_rd_atom = MAX_QP_RD_ATOM
    max_qp_init_rd_atom = MAX_QP_RD_ATOM
    max_res_rd_atom = 0x3F000
    atomic_caps = e.IBV_ATOMIC_HCA
    max_ah = 0x7FFF
    max_srq = 0
    max_pkeys = 64
    local_ca_ack_delay = 15
    phys_port_cnt = 1

    def __init__(self, guid: int) -> None:
        self.node_guid = guid
        self.sys_image_guid = guid


class PortAttr(PyverbsObject):
    """ibv_port_attr for port 1: Ethernet link layer (RoCE), LID 0, like rxe."""

    __slots__ = ("active_mtu", "state")

    max_mtu = e.IBV_MTU_4096
    gid_tbl_len = 2
    port_cap_flags = 0
    max_msg_sz = 0x800000
    lid = 0
    sm_lid = 0
    lmc = 0
    link_layer = e.IBV_LINK_LAYER_ETHERNET
    phys_state = 5

    def __init__(self, state: int, active_mtu: int) -> None:
        self.state = state
        self.active_mtu = active_mtu


class Context(PyverbsCM):
    """An opened device: ``Context(name='emu0')`` finds that machine on the current fabric."""

    __slots__ = ("_closed", "_machine", "name")

    def __init__(self, **kwargs: object) -> None:
        from nic_emu.fabric import current_fabric

        name = kwargs.get("name")
        if name is None:
            raise PyverbsUserError("Device name must be provided")
        machine = current_fabric().machine_or_none(str(name))
        if machine is None:
            raise PyverbsRDMAError(f"Failed to find device {name}")
        self.name = str(name)
        self._machine: Machine = machine
        self._closed = False
        machine.check_alive("open device")

    def close(self) -> None:
        self._closed = True

    @property
    def num_comp_vectors(self) -> int:
        return 1

    def query_device(self) -> DeviceAttr:
        self._machine.check_alive("query device")
        return DeviceAttr(self._machine.guid)

    def query_port(self, port_num: int) -> PortAttr:
        self._machine.check_alive("query port")
        if port_num != 1:
            raise PyverbsRDMAError(f"Failed to query port {port_num}", errno.EINVAL)
        m = self._machine
        state = e.IBV_PORT_ACTIVE if m.link_up else e.IBV_PORT_DOWN
        return PortAttr(state, m.fabric.mtu_code)

    def query_gid(self, port_num: int, index: int) -> GID:
        m = self._machine
        if port_num != 1 or not 0 <= index < len(m.gids):
            raise PyverbsRDMAError(f"Failed to query gid {index} of port {port_num}")
        return GID.from_raw(m.gids[index])

    def query_gid_type(self, port_num: int, index: int) -> int:
        if port_num != 1 or not 0 <= index < len(self._machine.gids):
            raise PyverbsRDMAError(
                f"Failed to query gid type of port {port_num} and gid index {index}",
                errno.EINVAL,
            )
        return e.IBV_GID_TYPE_SYSFS_ROCE_V2

    def query_pkey(self, port_num: int, index: int) -> int:
        if port_num != 1 or index != 0:
            raise PyverbsRDMAError(f"Failed to query pkey {index} of port {port_num}")
        return 0xFFFF


DM = unsupported("DM", __name__)

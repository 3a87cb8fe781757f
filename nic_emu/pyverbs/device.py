"""pyverbs.device: the device list and ``Context``, resolved against the current emulated fabric."""

from __future__ import annotations

import errno
import os
from typing import TYPE_CHECKING

from nic_emu.constants import (  # rxe's limits (rxe_param.h), which the emulator enforces
    MAX_CQ,
    MAX_CQE,
    MAX_INLINE_DATA,  # noqa: F401  (re-exported: pyverbs.device names the limits)
    MAX_MR,
    MAX_MR_SIZE,
    MAX_MW,
    MAX_PD,
    MAX_QP,
    MAX_QP_RD_ATOM,
    MAX_QP_WR,
    MAX_SGE,
    MAX_SRQ,
    MAX_SRQ_SGE,
    MAX_SRQ_WR,
)
from nic_emu.fabric import current_fabric
from nic_emu.pyverbs import enums as e
from nic_emu.pyverbs._unsupported import unsupported
from nic_emu.pyverbs.addr import GID
from nic_emu.pyverbs.base import PyverbsCM, PyverbsObject, check_alive
from nic_emu.pyverbs.pyverbs_error import PyverbsRDMAError, PyverbsUserError

if TYPE_CHECKING:
    from nic_emu.fabric import Machine

#: rxe's GID table has 1024 entries per port; the emulator fills indexes 0 and 1.
GID_TBL_LEN = 1024
#: RXE_DEVICE_CAP_FLAGS (rxe_param.h, 6.1): memory windows type 1 and 2B among them.
DEVICE_CAP_FLAGS = (
    e.IBV_DEVICE_BAD_PKEY_CNTR
    | e.IBV_DEVICE_BAD_QKEY_CNTR
    | e.IBV_DEVICE_AUTO_PATH_MIG
    | e.IBV_DEVICE_CHANGE_PHY_PORT
    | e.IBV_DEVICE_UD_AV_PORT_ENFORCE
    | e.IBV_DEVICE_PORT_ACTIVE_EVENT
    | e.IBV_DEVICE_SYS_IMAGE_GUID
    | e.IBV_DEVICE_RC_RNR_NAK_GEN
    | e.IBV_DEVICE_SRQ_RESIZE
    | e.IBV_DEVICE_MEM_MGT_EXTENSIONS
    | e.IBV_DEVICE_MEM_WINDOW
    | e.IBV_DEVICE_MEM_WINDOW_TYPE_2B
)


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
    return [
        Device(m.name.encode(), m.guid, e.IBV_NODE_CA, e.IBV_TRANSPORT_IB, m.index)
        for m in current_fabric().machines
    ]


class DeviceAttr(PyverbsObject):
    """ibv_device_attr, with rxe's values (rxe_param.h / rxe.c, Linux 6.1)."""

    __slots__ = ("node_guid", "sys_image_guid")

    fw_version = "0.0.0"
    max_mr_size = MAX_MR_SIZE
    page_size_cap = 0xFFFFF000
    vendor_id = 0xFFFFFF
    vendor_part_id = 0
    hw_ver = 0
    max_qp = MAX_QP
    max_qp_wr = MAX_QP_WR
    device_cap_flags = DEVICE_CAP_FLAGS
    max_sge = MAX_SGE
    max_sge_rd = MAX_SGE
    max_cq = MAX_CQ
    max_cqe = MAX_CQE
    max_mr = MAX_MR
    max_pd = MAX_PD
    max_qp_rd_atom = MAX_QP_RD_ATOM
    max_ee_rd_atom = 0
    max_res_rd_atom = 0x3F000
    max_qp_init_rd_atom = MAX_QP_RD_ATOM
    max_ee_init_rd_atom = 0
    atomic_caps = e.IBV_ATOMIC_HCA
    max_ee = 0
    max_rdd = 0
    max_mw = MAX_MW
    max_raw_ipv6_qps = 0
    max_raw_ethy_qp = 0
    max_mcast_grp = 8192
    max_mcast_qp_attach = 56
    max_total_mcast_qp_attach = 0x70000
    max_ah = 0x7FFF
    max_fmr = 0
    max_map_per_fmr = 0
    max_srq = MAX_SRQ
    max_srq_wr = MAX_SRQ_WR
    max_srq_sge = MAX_SRQ_SGE
    max_pkeys = 64
    local_ca_ack_delay = 15
    phys_port_cnt = 1

    def __init__(self, guid: int) -> None:
        self.node_guid = guid
        self.sys_image_guid = guid


class _Zeros(PyverbsObject):
    """A capability struct of ibv_device_attr_ex that rxe leaves zeroed (ODP, TSO, RSS, packet
    pacing, tag matching, CQ moderation, PCI atomics): every field reads 0."""

    def __getattr__(self, name: str) -> int:
        if name.startswith("_"):
            raise AttributeError(name)
        return 0

    def __setattr__(self, name: str, value: object) -> None:
        object.__setattr__(self, name, value)


class DeviceAttrEx(PyverbsObject):
    """ibv_device_attr_ex: ``orig_attr`` plus the extended capabilities, all zero on rxe (no
    ODP, no device memory, no TSO/RSS/tag matching, no completion timestamps)."""

    __slots__ = ("comp_mask", "orig_attr")

    completion_timestamp_mask = 0
    hca_core_clock = 0
    device_cap_flags_ex = DEVICE_CAP_FLAGS
    max_wq_type_rq = 0
    raw_packet_caps = 0
    max_dm_size = 0
    phys_port_cnt_ex = 1

    def __init__(self, guid: int) -> None:
        self.orig_attr = DeviceAttr(guid)
        self.comp_mask = 0

    @property
    def odp_caps(self) -> _Zeros:
        return _Zeros()

    @property
    def tso_caps(self) -> _Zeros:
        return _Zeros()

    @property
    def pci_atomic_caps(self) -> _Zeros:
        return _Zeros()

    @property
    def rss_caps(self) -> _Zeros:
        return _Zeros()

    @property
    def packet_pacing_caps(self) -> _Zeros:
        return _Zeros()

    @property
    def tm_caps(self) -> _Zeros:
        return _Zeros()

    @property
    def cq_mod_caps(self) -> _Zeros:
        return _Zeros()


class QueryDeviceExInput(PyverbsObject):
    """ibv_query_device_ex_input."""

    __slots__ = ("comp_mask",)

    def __init__(self, comp_mask: int = 0) -> None:
        self.comp_mask = comp_mask


class PortAttr(PyverbsObject):
    """ibv_port_attr for port 1: Ethernet link layer (RoCE), LID 0, like rxe (rxe_init_port_param)."""

    __slots__ = ("active_mtu", "state")

    max_mtu = e.IBV_MTU_4096
    gid_tbl_len = GID_TBL_LEN
    port_cap_flags = e.IBV_PORT_CM_SUP | e.IBV_PORT_IP_BASED_GIDS
    max_msg_sz = 0x800000
    bad_pkey_cntr = 0
    qkey_viol_cntr = 0
    pkey_tbl_len = 1
    lid = 0
    sm_lid = 0
    lmc = 0
    max_vl_num = 1
    sm_sl = 0
    subnet_timeout = 0
    init_type_reply = 0
    active_width = 1  # IB_WIDTH_1X
    active_speed = 1  # IB_SPEED_SDR: what ib_get_eth_speed reports for a veth
    phys_state = 5  # LinkUp
    link_layer = e.IBV_LINK_LAYER_ETHERNET
    flags = 0
    port_cap_flags2 = 0

    def __init__(self, state: int, active_mtu: int) -> None:
        self.state = state
        self.active_mtu = active_mtu


class GIDEntry(PyverbsObject):
    """ibv_gid_entry; the GID halves are the 64-bit words as they lie in memory (big-endian
    bytes read as a host integer), as in pyverbs."""

    __slots__ = (
        "gid_index",
        "gid_interface_id",
        "gid_subnet_prefix",
        "gid_type",
        "ndev_ifindex",
        "port_num",
    )

    def __init__(self, subnet_prefix: int = 0, interface_id: int = 0, gid_index: int = 0,
                 port_num: int = 0, gid_type: int = 0, ndev_ifindex: int = 0) -> None:
        self.gid_subnet_prefix = subnet_prefix
        self.gid_interface_id = interface_id
        self.gid_index = gid_index
        self.port_num = port_num
        self.gid_type = gid_type
        self.ndev_ifindex = ndev_ifindex

    @classmethod
    def from_raw(cls, raw: bytes, index: int, ifindex: int) -> GIDEntry:
        return cls(int.from_bytes(raw[:8], "little"), int.from_bytes(raw[8:], "little"), index, 1,
                   e.IBV_GID_TYPE_ROCE_V2, ifindex)

    def gid_str(self) -> str:
        raw = self.gid_subnet_prefix.to_bytes(8, "little") + self.gid_interface_id.to_bytes(8, "little")
        h = raw.hex()
        return ":".join(h[i : i + 4] for i in range(0, 32, 4))


class AsyncEvent(PyverbsObject):
    """ibv_async_event: ``event_type``; ``ack()`` (ibv_ack_async_event) has nothing to do."""

    __slots__ = ("event_type",)

    def __init__(self, event_type: int) -> None:
        self.event_type = event_type

    def ack(self) -> None:
        return None


class Context(PyverbsCM):
    """An opened device: ``Context(name='emu0')`` finds that machine on the current fabric."""

    __slots__ = ("_closed", "_fd", "_machine", "name")

    def __init__(self, **kwargs: object) -> None:
        if kwargs.get("cmd_fd") is not None:
            # ibv_import_device(3): sharing a context between processes is not modelled.
            raise PyverbsRDMAError("Failed to import device", errno.EOPNOTSUPP)
        self._fd = -1
        name = kwargs.get("name")
        if name is None:
            raise PyverbsUserError("Device name must be provided")
        machine = current_fabric().machine_or_none(str(name))
        if machine is None:
            raise PyverbsRDMAError(f"Failed to find device {name}")
        self.name = str(name)
        self._machine: Machine = machine
        self._closed = False
        check_alive(machine, "open device")

    def get_async_event(self) -> AsyncEvent:
        """ibv_get_async_event(3): the oldest event of this device.  Modelled: the SRQ limit
        event (``nic_emu.pyverbs.srq``).  Where libibverbs would block with no event queued,
        this lets the fabric run until idle and then fails with EAGAIN (a single-threaded
        emulator cannot wait for another thread's event)."""
        machine = self._machine
        check_alive(machine, "get async event")
        if not machine.async_events:
            machine.fabric.run_until_idle()
        if not machine.async_events:
            raise PyverbsRDMAError("Failed to get async event", errno.EAGAIN)
        event_type, _element = machine.async_events.popleft()
        return AsyncEvent(event_type)

    def close(self) -> None:
        self._closed = True
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    @property
    def cmd_fd(self) -> int:
        """The uverbs command file of the context; here a file descriptor of /dev/null (so that
        code may dup and pass it around), which ``Context(cmd_fd=...)`` does not accept."""
        if self._fd < 0:
            self._fd = os.open(os.devnull, os.O_RDWR)
        return self._fd

    @property
    def machine(self) -> Machine:
        """The emulated machine whose NIC this context opened (nic_emu only; the rest of the
        facade reaches the NIC through it)."""
        return self._machine

    @property
    def num_comp_vectors(self) -> int:
        return 1

    def query_device(self) -> DeviceAttr:
        check_alive(self._machine, "query device")
        return DeviceAttr(self._machine.guid)

    def query_port(self, port_num: int) -> PortAttr:
        check_alive(self._machine, "query port")
        if port_num != 1:
            raise PyverbsRDMAError(f"Failed to query port {port_num}", errno.EINVAL)
        m = self._machine
        state = e.IBV_PORT_ACTIVE if m.link_up else e.IBV_PORT_DOWN
        return PortAttr(state, m.fabric.mtu_code)

    def query_device_ex(self, ex_input: QueryDeviceExInput | None = None) -> DeviceAttrEx:
        check_alive(self._machine, "query device")
        return DeviceAttrEx(self._machine.guid)

    def query_gid(self, port_num: int, index: int) -> GID:
        """ibv_query_gid(3); an unused index of the table reads as the zero GID (sysfs)."""
        m = self._machine
        if port_num != 1 or not 0 <= index < GID_TBL_LEN:
            raise PyverbsRDMAError(f"Failed to query gid {index} of port {port_num}")
        return GID.from_raw(m.gids[index]) if index < len(m.gids) else GID()

    def query_gid_type(self, port_num: int, index: int) -> int:
        if port_num != 1 or not 0 <= index < len(self._machine.gids):
            raise PyverbsRDMAError(
                f"Failed to query gid type of port {port_num} and gid index {index}",
                errno.EINVAL,
            )
        return e.IBV_GID_TYPE_SYSFS_ROCE_V2

    def query_gid_ex(self, port_num: int, gid_index: int, flags: int = 0) -> GIDEntry:
        """ibv_query_gid_ex(3): ENODATA for an index with no GID, EINVAL for a bad port/index."""
        m = self._machine
        fail = f"Failed to query gid table of port {port_num} in index {gid_index}"
        if port_num != 1 or not 0 <= gid_index < GID_TBL_LEN:
            raise PyverbsRDMAError(fail, errno.EINVAL)
        if gid_index >= len(m.gids):
            raise PyverbsRDMAError(fail, errno.ENODATA)
        return GIDEntry.from_raw(m.gids[gid_index], gid_index, m.index + 2)

    def query_gid_table(self, max_entries: int, flags: int = 0) -> list[GIDEntry]:
        """ibv_query_gid_table(3): the valid GIDs of every port; a negative errno (as the C
        function returns it) when ``max_entries`` is too small."""
        m = self._machine
        if max_entries < len(m.gids):
            raise PyverbsRDMAError("Failed to query gid tables of the device", -errno.EINVAL)
        return [GIDEntry.from_raw(raw, i, m.index + 2) for i, raw in enumerate(m.gids)]

    def query_rt_values_ex(self, comp_mask: int = 0) -> None:
        raise PyverbsRDMAError("Failed to query real time values", errno.EOPNOTSUPP)

    def query_pkey(self, port_num: int, index: int) -> int:
        if port_num != 1 or index != 0:
            raise PyverbsRDMAError(f"Failed to query pkey {index} of port {port_num}")
        return 0xFFFF


DM = unsupported("DM", __name__)


# -- printing helpers of pyverbs.device (same tables as pyverbs) ---------------------------------


def _fmt(table: dict[int, str], val: int, invalid: str) -> str:
    return f"{table[val]} ({val})" if val in table else invalid


def translate_gid_type(gid_type: int) -> str:
    names = {0: "IB", 1: "RoCEv1", 2: "RoCEv2"}
    return names.get(gid_type, f"Unknown gid_type ({gid_type})")


def translate_transport_type(transport_type: int) -> str:
    return {0: "IB", 1: "IWARP", 2: "USNIC", 3: "USNIC UDP"}.get(transport_type, "Unknown")


def translate_node_type(node_type: int) -> str:
    names = {1: "CA", 2: "Switch", 3: "Router", 4: "RNIC", 5: "USNIC", 6: "USNIC UDP"}
    return names.get(node_type, "Unknown")


def guid_to_hex(node_guid: int) -> str:
    return f"{node_guid:x}"


def port_state_to_str(port_state: int) -> str:
    names = {0: "NOP", 1: "Down", 2: "Init", 3: "Armed", 4: "Active", 5: "Defer"}
    return _fmt(names, port_state, f"Invalid state ({port_state})")


def translate_mtu(mtu: int) -> str:
    names = {1: "256", 2: "512", 3: "1024", 4: "2048", 5: "4096"}
    return _fmt(names, mtu, f"Invalid MTU ({mtu})")


def translate_link_layer(ll: int) -> str:
    return {0: "Unspecified", 1: "InfiniBand", 2: "Ethernet"}.get(ll, f"Invalid link layer ({ll})")


def phys_state_to_str(phys: int) -> str:
    names = {1: "Sleep", 2: "Polling", 3: "Disabled", 4: "Port configuration training",
             5: "Link up", 6: "Link error recovery", 7: "Phy test"}
    return _fmt(names, phys, "Invalid physical state")


def width_to_str(width: int) -> str:
    return _fmt({1: "1X", 2: "4X", 4: "8X", 16: "2X"}, width, "Invalid width")


def speed_to_str(speed: int) -> str:
    names = {0: "0.0 Gbps", 1: "2.5 Gbps", 2: "5.0 Gbps", 4: "5.0 Gbps", 8: "10.0 Gbps",
             16: "14.0 Gbps", 32: "25.0 Gbps", 64: "50.0 Gbps", 128: "100.0 Gbps"}
    return _fmt(names, speed, "Invalid speed")

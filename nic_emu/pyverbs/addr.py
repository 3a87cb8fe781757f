"""pyverbs.addr: GIDs, global routes, address handle attributes and address handles."""

from __future__ import annotations

import errno
import ipaddress
from typing import TYPE_CHECKING

from nic_emu.pyverbs.base import PyverbsCM, PyverbsObject, check_alive
from nic_emu.pyverbs.pyverbs_error import PyverbsRDMAError, PyverbsUserError

if TYPE_CHECKING:
    from nic_emu.pyverbs.pd import PD


def _gid_bytes(val: str) -> bytes:
    # pyverbs accepts only the 8-words form 'xxxx:xxxx:...'; so does this.
    words = val.split(":")
    if len(words) != 8 or any(len(w) != 4 for w in words):
        raise PyverbsUserError(f"Invalid GID value ({words})")
    try:
        return b"".join(int(w, 16).to_bytes(2, "big") for w in words)
    except ValueError:
        raise PyverbsUserError(f"Invalid GID value ({words})") from None


class GID(PyverbsObject):
    """A 16-byte GID; ``gid`` is its 8-words string, as pyverbs prints it."""

    __slots__ = ("raw",)

    def __init__(self, val: str | None = None) -> None:
        self.raw = bytes(16) if val is None else _gid_bytes(val)

    @classmethod
    def from_raw(cls, raw: bytes) -> GID:
        g = cls()
        g.raw = bytes(raw)
        return g

    @property
    def gid(self) -> str:
        return str(self)

    @gid.setter
    def gid(self, val: str) -> None:
        self.raw = _gid_bytes(val)

    def __str__(self) -> str:
        h = self.raw.hex()
        return ":".join(h[i : i + 4] for i in range(0, 32, 4))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, GID) and other.raw == self.raw

    def __hash__(self) -> int:
        return hash(self.raw)

    def ipv4(self) -> str | None:
        """The IPv4 address of an IPv4-mapped (RoCE v2) GID; emulator-only helper."""
        v6 = ipaddress.IPv6Address(self.raw)
        return None if v6.ipv4_mapped is None else str(v6.ipv4_mapped)


class GlobalRoute(PyverbsObject):
    """ibv_global_route: what goes in the GRH (RoCE needs it on every address)."""

    __slots__ = ("dgid", "flow_label", "hop_limit", "sgid_index", "traffic_class")

    def __init__(
        self,
        dgid: GID | None = None,
        flow_label: int = 0,
        sgid_index: int = 0,
        hop_limit: int = 1,
        traffic_class: int = 0,
    ) -> None:
        self.dgid = GID.from_raw(dgid.raw) if dgid is not None else GID()
        self.flow_label = flow_label
        self.sgid_index = sgid_index
        self.hop_limit = hop_limit
        self.traffic_class = traffic_class


class AHAttr(PyverbsObject):
    """ibv_ah_attr; the GRH fields are flattened onto it, as pyverbs does."""

    __slots__ = (
        "dgid",
        "dlid",
        "flow_label",
        "hop_limit",
        "is_global",
        "port_num",
        "sgid_index",
        "sl",
        "src_path_bits",
        "static_rate",
        "traffic_class",
    )

    def __init__(
        self,
        dlid: int = 0,
        sl: int = 0,
        src_path_bits: int = 0,
        static_rate: int = 0,
        is_global: int = 0,
        port_num: int = 1,
        gr: GlobalRoute | None = None,
    ) -> None:
        self.port_num = port_num
        self.sl = sl
        self.src_path_bits = src_path_bits
        self.dlid = dlid
        self.static_rate = static_rate
        self.is_global = is_global
        self.dgid = GID()
        self.flow_label = 0
        self.sgid_index = 0
        self.hop_limit = 0
        self.traffic_class = 0
        if is_global:
            if gr is None:
                raise PyverbsUserError("Global AH Attr is created but gr parameter is None")
            self.dgid = GID.from_raw(gr.dgid.raw)
            self.flow_label = gr.flow_label
            self.sgid_index = gr.sgid_index
            self.hop_limit = gr.hop_limit
            self.traffic_class = gr.traffic_class

    def copy(self) -> AHAttr:
        c = AHAttr()
        for name in AHAttr.__slots__:
            setattr(c, name, getattr(self, name))
        c.dgid = GID.from_raw(self.dgid.raw)
        return c


class AH(PyverbsCM):
    """An address handle for UD sends: ``AH(pd, attr=AHAttr(...))``."""

    __slots__ = ("_attr", "pd")

    def __init__(self, pd: PD, **kwargs: object) -> None:
        attr = kwargs.get("attr")
        if not isinstance(attr, AHAttr):
            # AH from a WC (ibv_create_ah_from_wc) is not modelled.
            raise PyverbsUserError("nic_emu supports AH(pd, attr=AHAttr) only")
        check_alive(pd.context.machine, "create AH")
        # RoCE: every address handle needs a GRH (the GID is the IP address).
        if not attr.is_global or attr.port_num != 1:
            raise PyverbsRDMAError("Failed to create AH", errno.EINVAL)
        if not 0 <= attr.sgid_index < len(pd.context.machine.gids):
            raise PyverbsRDMAError("Failed to create AH", errno.EINVAL)
        self.pd = pd
        self._attr = attr.copy()

    @property
    def ah_attr(self) -> AHAttr:
        return self._attr.copy()

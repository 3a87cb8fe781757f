"""pyverbs.pd: protection domains."""

from __future__ import annotations

from nic_emu.pyverbs._unsupported import AttrHolder, unsupported
from nic_emu.pyverbs.base import PyverbsCM, check_alive
from nic_emu.pyverbs.device import Context


class PD(PyverbsCM):
    """A protection domain: MRs and QPs only work together inside the same PD."""

    __slots__ = ("_closed", "context", "handle")

    def __init__(self, creator: Context, **kwargs: object) -> None:
        check_alive(creator.machine, "alloc PD")
        self.context = creator
        self.handle = creator.machine.next_handle()
        self._closed = False

    def close(self) -> None:
        self._closed = True


#: Parent domains (ibv_alloc_parent_domain) are not modelled; rxe has none either.
ParentDomainInitAttr = unsupported("ParentDomainInitAttr", __name__)
ParentDomain = unsupported("ParentDomain", __name__)


class ParentDomainContext(AttrHolder):
    """The allocator callbacks of a parent domain (kept; ParentDomain itself fails)."""

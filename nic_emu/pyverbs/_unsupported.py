"""Classes for verbs the emulated device does not have.

An emulated device is a RoCE NIC without XRC (nor XRC SRQs), WQs/RSS, flow steering, device memory,
dmabuf, parent domains, or any vendor's direct-verbs provider.  pyverbs code that uses those
must still import; constructing one of these objects then fails the way it fails on a device
without the feature: ``PyverbsRDMAError`` with ``EOPNOTSUPP`` (which rdma-core's tests turn
into a skip), or, for a provider context, ``PyverbsUserError`` (pyverbs' "This is not an MLX5
device").
"""

from __future__ import annotations

import errno
import re
from typing import Any

from nic_emu.pyverbs.base import PyverbsCM, PyverbsObject
from nic_emu.pyverbs.pyverbs_error import PyverbsRDMAError, PyverbsUserError


class Unsupported(PyverbsCM):
    """Base of every class of a feature nic_emu does not model."""

    __slots__ = ()
    _user_error: str | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        name = type(self).__name__
        if self._user_error is not None:
            raise PyverbsUserError(self._user_error)
        raise PyverbsRDMAError(f"{name} is not supported by nic_emu", errno.EOPNOTSUPP)


class AttrHolder(PyverbsObject):
    """An attribute struct of an unmodelled feature: it builds (the failure comes from the verb
    that uses it) and keeps whatever it is given."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        for key, val in kwargs.items():
            setattr(self, key, val)


_ATTR = re.compile(r"Attr|Param$|Info$|Conf$|^OpsWr$")


def unsupported(
    name: str, module: str, user_error: str | None = None
) -> type[Unsupported] | type[AttrHolder]:
    """A class named ``name`` (in ``module``): an attribute holder when the name says it is one
    (``...Attr``, ``...InitAttrEx``, ``...Param``, ``...Info``), otherwise one whose constructor
    fails as described above."""
    if user_error is None and _ATTR.search(name):
        return type(name, (AttrHolder,), {"__module__": module})
    ns: dict[str, Any] = {"__slots__": (), "__module__": module, "_user_error": user_error}
    return type(name, (Unsupported,), ns)


def not_supported(*args: Any, **kwargs: Any) -> Any:
    """A module-level function of an unmodelled feature."""
    raise PyverbsRDMAError("not supported by nic_emu", errno.EOPNOTSUPP)

"""pyverbs.spec: flow specs (not modelled: EOPNOTSUPP)."""

from __future__ import annotations

from nic_emu.pyverbs._unsupported import unsupported

Spec = unsupported("Spec", __name__)
EthSpec = unsupported("EthSpec", __name__)
Ipv4Spec = unsupported("Ipv4Spec", __name__)
Ipv4ExtSpec = unsupported("Ipv4ExtSpec", __name__)
Ipv6Spec = unsupported("Ipv6Spec", __name__)
TcpUdpSpec = unsupported("TcpUdpSpec", __name__)

"""What a hostile peer sends: items and images built to hurt a receiver ([SEC-1] .. [SEC-6])."""

from __future__ import annotations


def _head(major: int, arg: int) -> bytes:
    """A CBOR head in preferred (core deterministic) encoding."""
    if arg < 24:
        return bytes([major << 5 | arg])
    for info, width in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if arg < 1 << (8 * width):
            return bytes([major << 5 | info]) + arg.to_bytes(width, "big")
    raise ValueError(arg)


def exponential_cbor(n: int) -> bytes:
    """An array of `n` shared values (tag 28), each `[ref(i-1), ref(i-1)]` (tag 29): about 8 n bytes,
    2^(n-1) leaves when the references are resolved. Core deterministic encoding, so an echo of it
    is these very bytes ([SER-1], [SER-4])."""
    out = bytearray(_head(4, n))
    out += b"\xd8\x1c\x82\x00\x00"  # 28([0, 0]): shared value 0
    for i in range(1, n):
        ref = b"\xd8\x1d" + _head(0, i - 1)  # 29(i - 1)
        out += b"\xd8\x1c\x82" + ref + ref
    return bytes(out)

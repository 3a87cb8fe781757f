"""The closure lookup table of a request batch: the thesis's "vtable" (SPEC.md section 3).

A batch image carries, after its header, `table_len <= K` closure ids ([VT-2]); an entry names its
closure by its index in that table, or by `INLINE_REF` followed by the id inline when the table is
full ([VT-3]); a ref past the table is BAD_HEADER ([VT-4]), an id the trustee does not know is
UNKNOWN_CLOSURE ([VT-5]). Encoding (`assign_ref`, `write_table`) and decoding (`check_table_len`,
`read_table`) live here; batch.py calls them around its per-entry loops.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping

from .buffer import U64
from .closures import ClosureShape
from .errors import ErrorCode, RemoteProtocolError
from .slot import INLINE_REF

#: bytes of one table entry (a u64 closure id), and of an inline id after an INLINE_REF entry
ENTRY_SIZE = 8
_TABLE_STRUCTS = [struct.Struct(f"<{n}Q") for n in range(256)]


def assign_ref(table: Mapping[int, int], table_k: int) -> int:
    """The ref of a closure not yet in `table`: the next index while fewer than K closures are
    listed, else `INLINE_REF` (the id then travels inline) ([VT-3])."""
    n = len(table)
    return n if n < table_k else INLINE_REF


def write_table(image: bytearray, off: int, table: Mapping[int, int]) -> int:
    """Write the table's closure ids (in ref order) at `off`; returns the offset after them."""
    for cid in table:
        U64.pack_into(image, off, cid)
        off += ENTRY_SIZE
    return off


def check_table_len(table_len: int, table_k: int) -> None:
    """[VT-2]: a header announcing more than K table entries is BAD_HEADER."""
    if table_len > table_k:
        raise RemoteProtocolError(ErrorCode.BAD_HEADER, "VT-2", f"table_len {table_len} exceeds K={table_k}")


def read_table(
    mv: memoryview, table_len: int, end: int, shapes: Mapping[int, ClosureShape]
) -> tuple[tuple[int, ...], list[ClosureShape], int]:
    """The table after the 8-byte header of an image whose trailer starts at `end`: its ids, the
    shape of each ([VT-5]: every id must be registered) and the offset of the first entry."""
    off = 8 + ENTRY_SIZE * table_len
    if off > end:
        raise RemoteProtocolError(ErrorCode.TRUNCATED, "SLOT-8", f"table of {table_len} ids runs past the trailer")
    table: tuple[int, ...] = _TABLE_STRUCTS[table_len].unpack_from(mv, 8)
    table_shapes = []
    for cid in table:
        shape = shapes.get(cid)
        if shape is None:
            raise RemoteProtocolError(
                ErrorCode.UNKNOWN_CLOSURE, "VT-5", f"table names unregistered closure {cid:#018x}"
            )
        table_shapes.append(shape)
    return table, table_shapes, off

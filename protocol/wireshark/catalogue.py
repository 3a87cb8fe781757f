"""The dissector's table of catalogue closures (SPEC.md appendix A), from conformance/catalogue_closures.py.

``python protocol/wireshark/catalogue.py`` rewrites the block between ``-- catalogue:begin`` and
``-- catalogue:end`` of gossamer.lua; ``--check`` exits 1 when the block is out of date (a test
runs it).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

LUA = Path(__file__).with_name("gossamer.lua")
_SIZES = {"u8": 1, "u16": 2, "u32": 4, "u64": 8, "i8": 1, "i16": 2, "i32": 4, "i64": 8,
          "f32": 4, "f64": 8, "bool": 1}


def layout_size(layout: str) -> int:
    """The byte size of a capture or fixed result layout ([LAYOUT-1], [DEC-7])."""
    n = 0
    for tok in layout.split():
        n += int(tok[5:]) if tok.startswith("bytes") else _SIZES[tok]
    return n


def block() -> str:
    from conformance.catalogue_closures import STANDARD, K

    lines = ["local CATALOGUE = {"]
    for d in (*STANDARD, *K):
        param = ("none" if not d.param else '"cbor"' if d.param == "cbor"
                 else str(int(d.param.split(":")[1])))
        param = '"none"' if param == "none" else param
        result = '"cbor"' if d.result == "cbor" else str(layout_size(d.result))
        lines.append(f'  ["{d.id:016x}"] = {{ name = "{d.name}", C = {layout_size(d.capture)}, '
                     f"param = {param}, result = {result} }},")
    lines.append("}")
    return "\n".join(lines)


_BLOCK = re.compile(r"(-- catalogue:begin\n).*?(\n-- catalogue:end)", re.S)


def rendered() -> str:
    return _BLOCK.sub(lambda m: m.group(1) + block() + m.group(2), LUA.read_text())


def main(argv: list[str]) -> int:
    text = rendered()
    if "--check" in argv:
        if text != LUA.read_text():
            print(f"{LUA}: the catalogue block is out of date; run python {__file__}")
            return 1
        return 0
    LUA.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""SPEC.md's generated appendices: the catalogue closures (A) and the CDDL schemas (B).

Both are normative ([ADPT-10], [ADPT-12], [ADPT-14], [ADPT-18]) and live in code and in
`protocol/schemas/`; SPEC.md carries a copy between markers so that a reader of the document alone
has them. `python -m conformance.appendix` rewrites the copies; tests/conformance/test_appendix.py
fails when SPEC.md and their sources drift apart.
"""

from __future__ import annotations

import sys
from pathlib import Path

from .catalogue_closures import SEMANTICS, STANDARD, Desc, K
from .spec import spec_path

SCHEMAS = ("common.cddl", "bootstrap.cddl", "adapter.cddl")
MARKERS = {"closures": ("<!-- closures:begin -->", "<!-- closures:end -->"),
           "cddl": ("<!-- cddl:begin -->", "<!-- cddl:end -->")}


def _layout(s: str | None, empty: str) -> str:
    return f"`{s}`" if s else empty


def closures_table() -> str:
    """Appendix A's table, one row per catalogue closure (the `k` family in one row)."""
    rows = ["| name | id | capture | parameter | result | behaviour | errors |", "|---|---|---|---|---|---|---|"]
    descs: list[Desc] = [*STANDARD, K[0]]
    for d in descs:
        name = f"`{d.name}` .. `{K[-1].name}`" if d is K[0] else f"`{d.name}`"
        ident = "SHA-256 of each name ([CID-1])" if d is K[0] else f"`{d.id:#018x}`"
        behaviour, own = SEMANTICS[d.name]
        errors = [own] if own else []
        if d.name != "gossamer.builtin:entrust":
            errors.append("BAD_PROPERTY when the pointer names no live property")
        if "bool" in d.capture.split():
            errors.append("BAD_CAPTURE for a bool byte other than 0 or 1")
        if d.param:
            errors.append("MALFORMED_CBOR for a parameter that is not one well-formed item")
        rows.append(f"| {name} | {ident} | {_layout(d.capture, 'empty')} | {_layout(d.param, 'none')} | "
                    f"{_layout(d.result, 'empty')} | {behaviour} | {'; '.join(errors)} |")
    return "\n".join(rows)


def cddl_text(schemas: Path) -> str:
    """Appendix B: the text of each schema file, in a fenced block under its file name."""
    parts = []
    for name in SCHEMAS:
        text = (schemas / name).read_text(encoding="utf-8").rstrip("\n")
        parts.append(f"`protocol/schemas/{name}`:\n\n```cddl\n{text}\n```")
    return "\n\n".join(parts)


def blocks(spec: Path) -> dict[str, str]:
    """The generated text of each marked block."""
    return {"closures": closures_table(), "cddl": cddl_text(spec.parent / "schemas")}


def current(text: str, key: str) -> str:
    begin, end = MARKERS[key]
    return text.split(begin, 1)[1].split(end, 1)[0].strip("\n")


def render(text: str, spec: Path) -> str:
    """`text` (SPEC.md) with every marked block replaced by its generated content."""
    for key, body in blocks(spec).items():
        begin, end = MARKERS[key]
        head, rest = text.split(begin, 1)
        _, tail = rest.split(end, 1)
        text = f"{head}{begin}\n{body}\n{end}{tail}"
    return text


def main() -> int:
    spec = spec_path()
    text = spec.read_text(encoding="utf-8")
    new = render(text, spec)
    if new != text:
        spec.write_text(new, encoding="utf-8")
        print(f"{spec}: appendices regenerated")
    return 0


if __name__ == "__main__":
    sys.exit(main())

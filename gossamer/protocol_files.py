"""Where protocol/SPEC.md and protocol/vectors/ are: the source tree when running from a checkout,
else the copy installed with the package as `gossamer._protocol` (setup.py)."""

from __future__ import annotations

from pathlib import Path

from .errors import ErrorCode, LocalProtocolError


def protocol_dir() -> Path:
    """The directory that holds SPEC.md and vectors/."""
    source = Path(__file__).resolve().parent.parent / "protocol"
    if (source / "SPEC.md").is_file():
        return source
    installed = Path(__file__).resolve().parent / "_protocol"  # the data package of setup.py
    if not (installed / "SPEC.md").is_file():
        raise LocalProtocolError(
            ErrorCode.BAD_ARGUMENT, "GEN-1",
            f"protocol/SPEC.md not found (looked in {source} and the installed gossamer._protocol); "
            "reinstall the package or run from a checkout",
        )
    return installed


def spec_path() -> Path:
    return protocol_dir() / "SPEC.md"


def vector_dir() -> Path:
    return protocol_dir() / "vectors"

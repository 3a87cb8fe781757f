"""Where SPEC.md and the golden vectors are, found without importing `gossamer`'s code.

In a checkout they sit in `protocol/` next to this package; in an installed distribution they are
the data package `gossamer._protocol` (setup.py). The installed copy is located with
`importlib.util.find_spec("gossamer")`, which finds a top-level package without running it, so the
oracle reads a data file and imports no codec module.
"""

from __future__ import annotations

import functools
import importlib.util
import json
from pathlib import Path
from typing import Any


class ProtocolFilesMissing(RuntimeError):
    """SPEC.md cannot be found: an empty spec is not a pass."""


@functools.cache
def protocol_dir() -> Path:
    """The directory holding SPEC.md and vectors/."""
    source = Path(__file__).resolve().parents[2] / "protocol"
    if (source / "SPEC.md").is_file():
        return source
    looked = [str(source)]
    spec = importlib.util.find_spec("gossamer")
    for loc in (spec.submodule_search_locations or []) if spec is not None else []:
        installed = Path(loc) / "_protocol"
        if (installed / "SPEC.md").is_file():
            return installed
        looked.append(str(installed))
    raise ProtocolFilesMissing(f"protocol/SPEC.md not found (looked in {', '.join(looked)}); "
                               "reinstall the package or run from a checkout")


def spec_path() -> Path:
    return protocol_dir() / "SPEC.md"


def vector_dir() -> Path:
    return protocol_dir() / "vectors"


def load_vectors(directory: Path | None = None) -> dict[str, dict[str, Any]]:
    """Every checked-in vector file, by stem, read as plain JSON; no files at all is an error."""
    d = vector_dir() if directory is None else directory
    files = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(d.glob("*.json"))}
    if not files:
        raise ProtocolFilesMissing(f"no golden vectors in {d}")
    return files

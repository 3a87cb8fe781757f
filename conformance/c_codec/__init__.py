"""The bundled C codec: an independent implementation checked through the adapter ([ADPT-1]).

`build()` compiles `gossamer_codec.c` with the machine's C compiler (`$CC`, else `cc`/`gcc`) into a
cache directory keyed by the source's hash, and returns the executable's path.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

SOURCE = Path(__file__).with_name("gossamer_codec.c")


def compiler() -> str | None:
    for cc in (os.environ.get("CC"), "cc", "gcc", "clang"):
        if cc and shutil.which(cc):
            return cc
    return None


def build(out_dir: str | Path | None = None) -> Path:
    cc = compiler()
    if cc is None:
        raise RuntimeError("no C compiler found (set CC)")
    src = SOURCE.read_bytes()
    tag = hashlib.sha256(src + cc.encode()).hexdigest()[:16]
    d = Path(out_dir) if out_dir is not None else Path(tempfile.gettempdir()) / f"gossamer-c-codec-{os.getuid()}"
    d.mkdir(parents=True, exist_ok=True)
    exe = d / f"gossamer_codec-{tag}"
    if not exe.exists():
        tmp = d / f".{exe.name}.{os.getpid()}"
        subprocess.run([cc, "-O2", "-std=c99", "-Wall", "-Wextra", "-Werror", "-o", str(tmp), str(SOURCE), "-lm"],
                       check=True, capture_output=True)
        tmp.replace(exe)
    return exe

"""The guest's busybox initramfs: a static busybox, the 9p module chain, and an /init script.

/init loads virtio + 9p, mounts the host root read-only over 9p, puts tmpfs on /tmp and /run,
mounts the run's io share on /run/gossamer-io, chroots into the host root and runs the stage-2
script the host wrote into the io share (see :mod:`.guest`), then powers off. The archive is
written here in the cpio "newc" format (no cpio binary needed) and named by the hash of its
inputs, so a changed init script or kernel makes a new one.
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
from collections.abc import Iterable, Mapping
from pathlib import Path

BUSYBOX = Path("/bin/busybox")
#: Modules that must be in the initramfs (their dependencies are added from modules.dep).
BOOT_MODULES: tuple[str, ...] = ("virtio_pci", "9pnet_virtio", "9p")
IO_MOUNT = "/run/gossamer-io"
STAGE2 = f"{IO_MOUNT}/stage2.sh"
NINEP_OPTS = "trans=virtio,version=9p2000.L,msize=512000"


def parse_modules_dep(text: str) -> dict[str, list[str]]:
    """modules.dep -> {relative .ko path: [relative .ko paths it depends on]}."""
    deps: dict[str, list[str]] = {}
    for line in text.splitlines():
        if ":" not in line:
            continue
        mod, _, rest = line.partition(":")
        deps[mod.strip()] = rest.split()
    return deps


def module_name(path: str) -> str:
    base = path.rsplit("/", 1)[-1]
    for suffix in (".ko.xz", ".ko.zst", ".ko.gz", ".ko"):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
            break
    return base.replace("-", "_")


def load_order(deps: Mapping[str, list[str]], wanted: Iterable[str]) -> list[str]:
    """Module files to insmod, dependencies first (depth-first over modules.dep).

    A wanted module that is not in modules.dep is assumed built in and skipped.
    """
    by_name = {module_name(p): p for p in deps}
    order: list[str] = []
    seen: set[str] = set()

    def visit(path: str) -> None:
        if path in seen:
            return
        seen.add(path)
        for dep in deps.get(path, []):
            visit(dep)
        order.append(path)

    for name in wanted:
        path = by_name.get(name.replace("-", "_"))
        if path is not None:
            visit(path)
    return order


def init_script(modules: Iterable[str]) -> str:
    """The busybox /init. ``modules`` are file names under /lib/modules in the initramfs."""
    insmods = "\n".join(f'insmod /lib/modules/{m} || fail "insmod {m}"' for m in modules)
    return f"""#!/bin/busybox sh
/bin/busybox mkdir -p /bin /proc /sys /dev /newroot
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
say() {{ echo "gossamer-init: $*" > /dev/console; }}
fail() {{ say "FAILED: $*"; sync; poweroff -f; sleep 5; }}
{insmods}
mount -t 9p -o {NINEP_OPTS},ro,cache=loose hostroot /newroot || fail "mount hostroot"
mount -t tmpfs -o mode=1777 tmpfs /newroot/tmp || fail "tmpfs /tmp"
mount -t tmpfs -o mode=755 tmpfs /newroot/run || fail "tmpfs /run"
mkdir -p /newroot{IO_MOUNT}
mount -t 9p -o {NINEP_OPTS} io /newroot{IO_MOUNT} || fail "mount io"
mount -t proc proc /newroot/proc
mount -t sysfs sysfs /newroot/sys
mount -t devtmpfs devtmpfs /newroot/dev
mkdir -p /newroot/dev/pts /newroot/dev/shm
mount -t devpts devpts /newroot/dev/pts
mount -t tmpfs -o mode=1777 tmpfs /newroot/dev/shm
say "root mounted"
chroot /newroot /bin/sh {STAGE2}
say "stage2 exited $?"
sync
poweroff -f
sleep 5
"""


def _cpio_entry(name: str, mode: int, data: bytes, ino: int, rdev: tuple[int, int]) -> bytes:
    namez = name.encode() + b"\0"
    fields = (ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1], len(namez), 0)
    head = b"070701" + b"".join(b"%08X" % f for f in fields)
    out = head + namez
    out += b"\0" * (-len(out) % 4)
    out += data
    out += b"\0" * (-len(out) % 4)
    return out


def build_cpio(entries: list[tuple[str, int, bytes]]) -> bytes:
    """A newc cpio archive of (name, mode, data); "dev/console" gets device number 5:1."""
    buf = io.BytesIO()
    for ino, (name, mode, data) in enumerate(entries, start=1):
        rdev = (5, 1) if name == "dev/console" else (0, 0)
        buf.write(_cpio_entry(name, mode, data, ino, rdev))
    buf.write(_cpio_entry("TRAILER!!!", 0, b"", 0, (0, 0)))
    return buf.getvalue()


def build(moddir: Path, kver: str, busybox: Path = BUSYBOX) -> bytes:
    """The initramfs image for the kernel whose modules are under moddir/lib/modules/kver."""
    kmods = moddir / "lib" / "modules" / kver
    deps = parse_modules_dep((kmods / "modules.dep").read_text())
    order = load_order(deps, BOOT_MODULES)
    names = [f"{i:02d}-{module_name(p)}.ko" for i, p in enumerate(order)]
    d = stat.S_IFDIR | 0o755
    f = stat.S_IFREG
    entries: list[tuple[str, int, bytes]] = [
        ("bin", d, b""),
        ("lib", d, b""),
        ("lib/modules", d, b""),
        ("dev", d, b""),
        ("dev/console", stat.S_IFCHR | 0o600, b""),
        ("init", f | 0o755, init_script(names).encode()),
        ("bin/busybox", f | 0o755, busybox.read_bytes()),
    ]
    for name, rel in zip(names, order, strict=True):
        entries.append((f"lib/modules/{name}", f | 0o644, (kmods / rel).read_bytes()))
    return build_cpio(entries)


def _input_key(moddir: Path, kver: str, busybox: Path) -> str:
    h = hashlib.sha256()
    h.update(init_script(["x"]).encode())
    h.update(kver.encode())
    h.update(str(moddir).encode())
    st = busybox.stat()
    h.update(f"{st.st_size}:{st.st_mtime_ns}".encode())
    h.update(Path(__file__).read_bytes())
    return h.hexdigest()[:16]


def ensure(cache: Path, moddir: Path, kver: str, busybox: Path = BUSYBOX) -> Path:
    """Build the initramfs into the cache unless an identical one is there."""
    path = cache / f"initramfs-{kver}-{_input_key(moddir, kver, busybox)}.cpio"
    if path.exists():
        return path
    data = build(moddir, kver, busybox)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    for old in cache.glob("initramfs-*.cpio"):
        if old != path:
            old.unlink(missing_ok=True)
    return path

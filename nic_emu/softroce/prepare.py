"""Host-side preparation for the Soft-RoCE guest: packages, guest kernel, vmlinux, Python overlay.

Everything is cached under :func:`cache_dir` (``/var/cache/gossamer-softroce`` by default, never
under /tmp because the guest mounts a tmpfs over /tmp and would not see it). The work is guarded
by an exclusive lock file, every artifact is written to a temporary name and renamed into place,
and a finished step leaves a stamp, so :func:`prepare` is idempotent and a warm call costs a few
stat calls.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import lzma
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from . import initramfs

#: Debian packages the host needs (the guest runs the host's own userland through 9p).
HOST_PACKAGES: tuple[str, ...] = (
    "qemu-system-x86",
    "busybox-static",
    "rdma-core",
    "ibverbs-providers",
    "ibverbs-utils",
    "python3-pyverbs",
    "perftest",
    "iproute2",
    "kmod",
    "cpio",
)
#: Debian's test tooling for /usr/bin/python3 (older than the project's pins; the pip overlay
#: built by :func:`ensure_pylib` shadows them with the versions pyproject.toml asks for).
DEBIAN_PY_PACKAGES: tuple[str, ...] = (
    "python3-pytest",
    "python3-hypothesis",
    "python3-attr",
    "python3-cbor2",
)
#: Used when pyproject.toml cannot be read.
FALLBACK_REQUIREMENTS: tuple[str, ...] = (
    "attrs>=23.1",
    "cbor2>=5.6",
    "pytest>=8",
    "hypothesis>=6.100",
)
DEBIAN_PYTHON = "/usr/bin/python3"
KERNEL_PKG_RE = re.compile(r"^linux-image-(6\.1\.0-(\d+)-amd64)$")
XZ_MAGIC = b"\xfd7zXZ\x00"
#: Bump when the layout of the cache changes.
CACHE_FORMAT = 2
#: Bump when the way the pip overlay is built changes.
PYLIB_RECIPE = 2


class PrepareError(RuntimeError):
    """The host could not be prepared (missing package, no kernel, ...)."""


@dataclass(frozen=True)
class Prepared:
    """Paths of everything a guest boot needs."""

    cache: Path
    kernel_version: str
    kernel_root: Path  # the dpkg -x tree of linux-image (lib/modules/<kver>/ inside)
    module_dir: Path  # what `modprobe -d` wants: the folder holding lib/modules
    vmlinux: Path
    initramfs: Path
    pylib: Path | None  # PYTHONPATH overlay for /usr/bin/python3, None if it could not be built
    seconds: float


def cache_dir() -> Path:
    return Path(os.environ.get("GOSSAMER_SOFTROCE_CACHE", "/var/cache/gossamer-softroce"))


def repo_root() -> Path:
    """The checkout holding this package (its parent of ``nic_emu``)."""
    return Path(__file__).resolve().parents[2]


def log(msg: str) -> None:
    print(f"softroce: {msg}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _run(cmd: list[str], *, quiet: bool = True, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False, stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        tail = (proc.stdout + proc.stderr)[-3000:]
        raise PrepareError(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{tail}")
    if not quiet:
        sys.stderr.write(proc.stdout)
    return proc.stdout


def missing_packages(names: tuple[str, ...]) -> list[str]:
    proc = subprocess.run(
        ["dpkg-query", "-W", "-f=${Package} ${Status}\n", *names],
        capture_output=True,
        text=True,
        check=False,
    )
    installed = {
        line.split()[0].split(":")[0] for line in proc.stdout.splitlines() if line.endswith(" install ok installed")
    }
    return [n for n in names if n not in installed]


def _apt_env() -> dict[str, str]:
    return {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}


_apt_updated = False


def apt_update() -> None:
    global _apt_updated
    if not _apt_updated:
        log("apt-get update")
        _run(["apt-get", "update", "-qq"], env=_apt_env())
        _apt_updated = True


def apt_available(name: str) -> bool:
    proc = subprocess.run(["apt-cache", "policy", name], capture_output=True, text=True, check=False)
    m = re.search(r"Candidate:\s*(\S+)", proc.stdout)
    return bool(m and m.group(1) != "(none)")


def ensure_packages() -> None:
    """apt-get install the host packages (and Debian's python test tools when available)."""
    missing = missing_packages(HOST_PACKAGES + DEBIAN_PY_PACKAGES)
    if not missing:
        return
    if os.geteuid() != 0:
        raise PrepareError(f"not root, cannot apt-get install: {' '.join(missing)}")
    apt_update()
    wanted = [n for n in missing if n in HOST_PACKAGES or apt_available(n)]
    if skipped := sorted(set(missing) - set(wanted)):
        log(f"not in this Debian, skipped: {' '.join(skipped)} (the pip overlay covers them)")
    log(f"apt-get install {' '.join(wanted)}")
    _run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *wanted],
        env=_apt_env(),
    )
    if still := missing_packages(HOST_PACKAGES):
        raise PrepareError(f"packages still missing after apt-get install: {' '.join(still)}")


def newest_kernel_package() -> tuple[str, str]:
    """(package, kernel version) of the newest linux-image-6.1.0-N-amd64 in the archive."""
    out = _run(["apt-cache", "search", "--names-only", r"^linux-image-6\.1\.0-[0-9]+-amd64$"])
    best: tuple[int, str, str] | None = None
    for line in out.splitlines():
        pkg = line.split(" ", 1)[0]
        m = KERNEL_PKG_RE.match(pkg)
        if m and (best is None or int(m.group(2)) > best[0]):
            best = (int(m.group(2)), pkg, m.group(1))
    if best is None:
        apt_update()
        out = _run(["apt-cache", "search", "--names-only", r"^linux-image-6\.1\.0-[0-9]+-amd64$"])
        for line in out.splitlines():
            pkg = line.split(" ", 1)[0]
            m = KERNEL_PKG_RE.match(pkg)
            if m and (best is None or int(m.group(2)) > best[0]):
                best = (int(m.group(2)), pkg, m.group(1))
    if best is None:
        raise PrepareError("no linux-image-6.1.0-*-amd64 package found by apt-cache search")
    return best[1], best[2]


def extract_vmlinux(bzimage: bytes) -> bytes:
    """The uncompressed ELF kernel inside a bzImage (like the kernel's scripts/extract-vmlinux)."""
    start = 0
    while (pos := bzimage.find(XZ_MAGIC, start)) >= 0:
        start = pos + 1
        dec = lzma.LZMADecompressor(format=lzma.FORMAT_XZ)
        try:
            data = dec.decompress(bzimage[pos:])
        except lzma.LZMAError:
            continue
        if data[:4] == b"\x7fELF":
            return data
    raise PrepareError("no xz-compressed ELF found in the bzImage")


def ensure_kernel(cache: Path, refresh: bool) -> str:
    """Download, unpack, depmod the guest kernel; extract vmlinux. Returns the kernel version."""
    current = cache / "kernel" / "current"
    if current.is_symlink() and not refresh:
        kver = os.readlink(current)
        if (cache / "kernel" / kver / ".done").exists():
            return kver
    pkg, kver = newest_kernel_package()
    kdir = cache / "kernel" / kver
    if not (kdir / ".done").exists():
        log(f"fetching {pkg}")
        dl = cache / "download"
        shutil.rmtree(dl, ignore_errors=True)
        dl.mkdir(parents=True)
        subprocess.run(["apt-get", "download", "-qq", pkg], cwd=dl, check=False, capture_output=True)
        debs = list(dl.glob("*.deb"))
        if not debs:
            apt_update()
            _run(["sh", "-c", f"cd '{dl}' && apt-get download -qq {pkg}"])
            debs = list(dl.glob("*.deb"))
        if not debs:
            raise PrepareError(f"apt-get download {pkg} produced no .deb")
        tmp = cache / "kernel" / f".{kver}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        _run(["dpkg-deb", "-x", str(debs[0]), str(tmp)])
        moddir = _module_dir(tmp, kver)
        _run(["depmod", "-b", str(moddir), kver])
        vmlinuz = tmp / "boot" / f"vmlinuz-{kver}"
        (tmp / "vmlinux").write_bytes(extract_vmlinux(vmlinuz.read_bytes()))
        (tmp / ".done").write_text(pkg + "\n")
        shutil.rmtree(kdir, ignore_errors=True)
        tmp.rename(kdir)
        shutil.rmtree(dl, ignore_errors=True)
    tmp_link = cache / "kernel" / ".current.tmp"
    with contextlib.suppress(FileNotFoundError):
        tmp_link.unlink()
    tmp_link.symlink_to(kver)
    tmp_link.replace(current)
    return kver


def _module_dir(root: Path, kver: str) -> Path:
    """The base folder for `modprobe -d`/`depmod -b` (holds lib/modules/<kver>)."""
    for base in (root, root / "usr"):
        if (base / "lib" / "modules" / kver).is_dir():
            return base
    raise PrepareError(f"no lib/modules/{kver} under {root}")


def project_requirements() -> list[str]:
    """Runtime and test requirements from the repo's pyproject.toml."""
    try:
        data = tomllib.loads((repo_root() / "pyproject.toml").read_text())
        proj = data["project"]
        reqs = list(proj.get("dependencies", [])) + list(proj.get("optional-dependencies", {}).get("test", []))
        return reqs or list(FALLBACK_REQUIREMENTS)
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return list(FALLBACK_REQUIREMENTS)


def _pip_command() -> list[str]:
    """An interpreter with pip; installing python3-pip for Debian's one as the last resort."""
    for exe in (sys.executable, shutil.which("python3") or "", DEBIAN_PYTHON):
        if exe and subprocess.run([exe, "-m", "pip", "--version"], capture_output=True, check=False).returncode == 0:
            return [exe, "-m", "pip"]
    if os.geteuid() == 0:
        apt_update()
        _run(
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "python3-pip"],
            env=_apt_env(),
        )
        return [DEBIAN_PYTHON, "-m", "pip"]
    raise PrepareError("no pip found to build the python overlay")


def _debian_python_version() -> str:
    out = _run([DEBIAN_PYTHON, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"])
    return out.strip()


def ensure_pylib(cache: Path) -> Path | None:
    """pip --target overlay with the project's pinned test tools, for /usr/bin/python3."""
    reqs = sorted(project_requirements())
    dpy = _debian_python_version()
    key = hashlib.sha256(json.dumps([reqs, dpy, PYLIB_RECIPE]).encode()).hexdigest()[:16]
    target = cache / f"pylib-{key}"
    if (target / ".done").exists():
        return target
    pip = _pip_command()
    tmp = cache / f".pylib-{key}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    cmd = [*pip, "install", "--quiet", "--disable-pip-version-check", "--no-compile"]
    cmd += ["--target", str(tmp), "--only-binary=:all:"]
    pip_py = subprocess.run(
        [pip[0], "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    if pip_py != dpy:
        nodot = dpy.replace(".", "")
        cmd += ["--python-version", dpy, "--implementation", "cp", "--abi", f"cp{nodot}"]
        cmd += ["--platform", "manylinux2014_x86_64", "--platform", "manylinux_2_17_x86_64"]
    log(f"pip install --target {target.name}: {' '.join(reqs)}")
    try:
        _run(
            [*cmd, *reqs],
            env={**os.environ, "PIP_BREAK_SYSTEM_PACKAGES": "1", "PIP_ROOT_USER_ACTION": "ignore"},
        )
    except PrepareError as exc:
        log(f"python overlay not built, the guest falls back to Debian's packages: {exc}")
        shutil.rmtree(tmp, ignore_errors=True)
        return None
    # the guest runs with PYTHONDONTWRITEBYTECODE on a read-only root: compile once here, with
    # the guest's interpreter, or every import compiles from source under TCG (import pytest:
    # 25 s instead of 4 s)
    _run([DEBIAN_PYTHON, "-m", "compileall", "-q", "-j", "0", str(tmp)])
    (tmp / ".done").write_text("\n".join(reqs) + "\n")
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    return target


def find_pylib(cache: Path) -> Path | None:
    reqs = sorted(project_requirements())
    try:
        dpy = _debian_python_version()
    except PrepareError:
        return None
    key = hashlib.sha256(json.dumps([reqs, dpy, PYLIB_RECIPE]).encode()).hexdigest()[:16]
    target = cache / f"pylib-{key}"
    return target if (target / ".done").exists() else None


def prepare(*, refresh: bool = False, pylib: bool = True) -> Prepared:
    """Make everything a guest boot needs; cheap when already done (a warm call is ~0.1 s)."""
    t0 = time.monotonic()
    cache = cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    with locked(cache / ".lock"):
        stamp = cache / "ready.json"
        if not refresh and stamp.exists():
            with contextlib.suppress(ValueError, KeyError, OSError):
                ready = _from_stamp(cache, json.loads(stamp.read_text()), pylib, t0)
                if ready is not None:
                    return ready
        ensure_packages()
        kver = ensure_kernel(cache, refresh)
        kroot = cache / "kernel" / kver
        moddir = _module_dir(kroot, kver)
        image = initramfs.ensure(cache, moddir, kver)
        overlay = ensure_pylib(cache) if pylib else find_pylib(cache)
        stamp_data = {
            "format": CACHE_FORMAT,
            "kernel_version": kver,
            "initramfs": image.name,
            "pylib": overlay.name if overlay else None,
        }
        tmp = cache / ".ready.json.tmp"
        tmp.write_text(json.dumps(stamp_data, indent=1) + "\n")
        tmp.replace(stamp)
        return Prepared(
            cache=cache,
            kernel_version=kver,
            kernel_root=kroot,
            module_dir=moddir,
            vmlinux=kroot / "vmlinux",
            initramfs=image,
            pylib=overlay,
            seconds=time.monotonic() - t0,
        )


def _from_stamp(cache: Path, data: dict[str, object], pylib: bool, t0: float) -> Prepared | None:
    if data.get("format") != CACHE_FORMAT:
        return None
    kver = str(data["kernel_version"])
    kroot = cache / "kernel" / kver
    if not (kroot / ".done").exists() or missing_packages(HOST_PACKAGES):
        return None
    moddir = _module_dir(kroot, kver)
    # the initramfs name carries the hash of its inputs: a changed init script rebuilds it
    image = initramfs.ensure(cache, moddir, kver)
    overlay_name = data.get("pylib")
    overlay = cache / str(overlay_name) if overlay_name else None
    if overlay is None or not (overlay / ".done").exists():
        if pylib:
            return None
        overlay = None
    elif overlay != find_pylib(cache):
        return None  # pyproject.toml's requirements changed
    return Prepared(
        cache=cache,
        kernel_version=kver,
        kernel_root=kroot,
        module_dir=moddir,
        vmlinux=kroot / "vmlinux",
        initramfs=image,
        pylib=overlay,
        seconds=time.monotonic() - t0,
    )

"""Guest side: the stage-2 scripts (run inside the chroot) and the QEMU command line.

Stage 2 runs under the host's own /bin/sh inside the guest, chrooted into the read-only host
root. It loads the RDMA modules in the measured order, builds the veth pair and the rxe
devices (``setup.sh``, run with ``sh -e``), mounts the extra writable shares, then runs the
command with a clean environment, its stdout/stderr going to files on the io share that the
host tails, and its exit code written to ``rc``.

Marker files in the io share tell the host how far the guest got: ``booted`` (stage 2
started), ``setup_failed`` (with ``setup.log``), ``ready`` (devices up, command starting),
``rc`` (command finished).
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .initramfs import IO_MOUNT, NINEP_OPTS

GUEST_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#: Measured: crc32_generic first, or `rdma link add` fails ("failed to init crc32 algorithm");
#: rdma_ucm for rdma_cm (else creating a CM id fails with ENOMEM).
RDMA_MODULES: tuple[str, ...] = ("crc32_generic", "veth", "rdma_rxe", "rdma_ucm")
ADDR0 = "198.18.0.1"
ADDR1 = "198.18.0.2"
#: Two rxe devices in one namespace only talk with these (else the kernel delivers locally).
POLICY_ROUTING: tuple[str, ...] = (
    "ip rule add pref 100 lookup local",
    "ip rule del pref 0 lookup local",
    f"ip route add {ADDR1} dev veth0 src {ADDR0} table 101",
    f"ip route add {ADDR0} dev veth1 src {ADDR1} table 102",
    f"ip rule add pref 10 iif lo to {ADDR1} lookup 101",
    f"ip rule add pref 10 iif lo to {ADDR0} lookup 102",
)


@dataclass(frozen=True)
class GuestSpec:
    """What one guest run does."""

    argv: Sequence[str]
    cwd: str
    env: Mapping[str, str]
    devices: int = 2
    module_dir: str = ""
    kernel_version: str = ""
    writable: Sequence[str] = field(default_factory=tuple)  # host paths shared rw, same path
    #: those of ``writable`` mounted with cache=loose (guest-private caches such as pycache)
    loose: Sequence[str] = field(default_factory=tuple)


def base_env(pylib: str | None, repo: str, pycache_prefix: str | None = None) -> dict[str, str]:
    """The environment every guest command gets (the repo is read-only in the guest).

    With ``pycache_prefix`` (a writable share kept on the host) Python and pytest's assertion
    rewriter write their bytecode there instead of beside the sources, so the next guest
    starts warm; without it, ``PYTHONDONTWRITEBYTECODE=1``. pytest runs with
    ``-p no:cacheprovider`` (it cannot write .pytest_cache into the read-only repo).
    """
    pythonpath = ":".join(p for p in (pylib, repo) if p)
    env = {
        "PATH": GUEST_PATH,
        "HOME": "/tmp/home",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "TMPDIR": "/tmp",
        "PYTHONUNBUFFERED": "1",
        "PYTHONPATH": pythonpath,
        "PYTEST_ADDOPTS": "-p no:cacheprovider",
        "HYPOTHESIS_STORAGE_DIRECTORY": "/tmp/hypothesis",
        "XDG_CACHE_HOME": "/tmp/cache",
        "MYPY_CACHE_DIR": "/tmp/cache/mypy",
        "RUFF_CACHE_DIR": "/tmp/cache/ruff",
        "GOSSAMER_SOFTROCE_GUEST": "1",
        "GOSSAMER_SOFTROCE_IO": IO_MOUNT,
    }
    if pycache_prefix:
        env["PYTHONPYCACHEPREFIX"] = pycache_prefix
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def setup_script(devices: int, module_dir: str, kernel_version: str) -> str:
    """Commands (for ``sh -e``) that bring up veth0/veth1 and rxe0 (and rxe1)."""
    if devices not in (1, 2):
        raise ValueError("devices must be 1 or 2")
    modprobe = ["modprobe", "-a"]
    if module_dir:
        modprobe += ["-d", module_dir]
    if kernel_version:
        modprobe += ["-S", kernel_version]
    # one `ip -batch` process: every exec over 9p under TCG costs ~0.2 s
    ip_lines = [
        "link set lo up",
        "link add veth0 type veth peer name veth1",
        f"addr add {ADDR0}/24 dev veth0",
        f"addr add {ADDR1}/24 dev veth1",
        "link set veth0 up",
        "link set veth1 up",
    ]
    rdma = ["rdma link add rxe0 type rxe netdev veth0"]
    if devices == 2:
        ip_lines += [line.removeprefix("ip ") for line in POLICY_ROUTING]
        rdma.append("rdma link add rxe1 type rxe netdev veth1")
    lines = [
        "set -e",
        shlex.join([*modprobe, *RDMA_MODULES]),
        "ip -batch - <<'EOF'",
        *ip_lines,
        "EOF",
        *rdma,
    ]
    return "\n".join(lines) + "\n"


def stage2_script(spec: GuestSpec) -> str:
    """The script the initramfs' /init runs in the chroot (host /bin/sh)."""
    io = IO_MOUNT
    mounts = []
    for i, path in enumerate(spec.writable):
        q = shlex.quote(path)
        opts = NINEP_OPTS + (",cache=loose" if path in spec.loose else "")
        mounts.append(
            f"mkdir -p {q} 2>/dev/null; mount -t 9p -o {opts} rw{i} {q} "
            f'|| {{ echo "cannot mount writable share {path}" >> {io}/setup.log; '
            f": > {io}/setup_failed; exit 0; }}"
        )
    env_args = " ".join(shlex.quote(f"{k}={v}") for k, v in sorted(spec.env.items()))
    cmd = shlex.join(spec.argv)
    cwd = shlex.quote(spec.cwd)
    return f"""#!/bin/sh
io={io}
PATH={GUEST_PATH}; export PATH
: > $io/booted
sh -e $io/setup.sh > $io/setup.log 2>&1 || {{ : > $io/setup_failed; exit 0; }}
{chr(10).join(mounts)}
mkdir -p /tmp/home /tmp/cache
cd {cwd} 2>> $io/setup.log || {{ echo "cannot cd to {spec.cwd}" >> $io/setup.log; \
: > $io/setup_failed; exit 0; }}
: > $io/ready
env -i {env_args} {cmd} > $io/stdout 2> $io/stderr < /dev/null
echo $? > $io/rc.tmp
mv $io/rc.tmp $io/rc
sync
"""


def _virtfs_path(path: str) -> str:
    return path.replace(",", ",,")


def qemu_command(
    *,
    vmlinux: Path,
    initramfs: Path,
    io_dir: Path,
    console: Path,
    mem_mb: int,
    writable: Sequence[str] = (),
    smp: int = 2,
) -> list[str]:
    """qemu-system-x86_64 under TCG, PVH boot of vmlinux, no NIC, host root read-only over 9p."""
    cmd = [
        "qemu-system-x86_64",
        "-accel", "tcg",
        "-cpu", "max",
        "-m", str(mem_mb),
        "-smp", str(smp),
        "-nodefaults",
        "-display", "none",
        "-no-reboot",
        "-nic", "none",
        "-monitor", "none",
        "-serial", f"file:{console}",
        "-kernel", str(vmlinux),
        "-initrd", str(initramfs),
        "-append", "console=ttyS0 panic=-1 quiet mitigations=off tsc=reliable no_timer_check",
        "-virtfs",
        "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap",
        "-virtfs",
        f"local,path={_virtfs_path(str(io_dir))},mount_tag=io,security_model=none,"
        "multidevs=remap",
    ]  # fmt: skip
    for i, path in enumerate(writable):
        cmd += [
            "-virtfs",
            f"local,path={_virtfs_path(path)},mount_tag=rw{i},security_model=none,multidevs=remap",
        ]
    return cmd

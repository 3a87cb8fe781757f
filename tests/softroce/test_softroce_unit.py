"""Fast tests of the Soft-RoCE guest runner: nothing here boots a guest or touches the cache."""

from __future__ import annotations

import lzma
import shlex
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from nic_emu.softroce import guest, initramfs
from nic_emu.softroce.__main__ import build_parser, command_argv
from nic_emu.softroce.prepare import PrepareError, extract_vmlinux
from nic_emu.softroce.run import (
    EXIT_BOOT_FAILED,
    EXIT_PANIC,
    EXIT_SETUP_FAILED,
    EXIT_TIMEOUT,
    select_env,
)

MODULES_DEP = """\
kernel/fs/9p/9p.ko: kernel/net/9p/9pnet.ko kernel/fs/netfs/netfs.ko kernel/fs/fscache/fscache.ko
kernel/net/9p/9pnet.ko:
kernel/net/9p/9pnet_virtio.ko: kernel/net/9p/9pnet.ko kernel/drivers/virtio/virtio_ring.ko \
kernel/drivers/virtio/virtio.ko
kernel/fs/netfs/netfs.ko:
kernel/fs/fscache/fscache.ko: kernel/fs/netfs/netfs.ko
kernel/drivers/virtio/virtio.ko:
kernel/drivers/virtio/virtio_ring.ko:
kernel/drivers/virtio/virtio_pci.ko: kernel/drivers/virtio/virtio_pci_legacy_dev.ko \
kernel/drivers/virtio/virtio_pci_modern_dev.ko kernel/drivers/virtio/virtio_ring.ko \
kernel/drivers/virtio/virtio.ko
kernel/drivers/virtio/virtio_pci_legacy_dev.ko:
kernel/drivers/virtio/virtio_pci_modern_dev.ko:
"""


def test_load_order_puts_dependencies_first() -> None:
    deps = initramfs.parse_modules_dep(MODULES_DEP)
    order = [initramfs.module_name(p) for p in initramfs.load_order(deps, initramfs.BOOT_MODULES)]
    assert sorted(order) == sorted(
        [
            "virtio_pci", "virtio_pci_legacy_dev", "virtio_pci_modern_dev", "virtio_ring",
            "virtio", "9pnet_virtio", "9pnet", "9p", "netfs", "fscache",
        ]
    )  # fmt: skip
    for mod, dl in deps.items():
        name = initramfs.module_name(mod)
        for dep in dl:
            assert order.index(initramfs.module_name(dep)) < order.index(name)
    assert len(order) == len(set(order))


def test_load_order_skips_builtin_modules() -> None:
    deps = initramfs.parse_modules_dep("kernel/fs/9p/9p.ko:\n")
    assert initramfs.load_order(deps, ["virtio_pci", "9p"]) == ["kernel/fs/9p/9p.ko"]


def test_module_name() -> None:
    assert initramfs.module_name("kernel/a/rdma-rxe.ko.xz") == "rdma_rxe"
    assert initramfs.module_name("kernel/a/9p.ko") == "9p"


def test_init_script_mounts_and_chroots() -> None:
    text = initramfs.init_script(["00-virtio.ko", "01-9p.ko"])
    assert text.startswith("#!/bin/busybox sh\n")
    assert text.index("insmod /lib/modules/00-virtio.ko") < text.index("01-9p.ko")
    assert text.index("01-9p.ko") < text.index("hostroot /newroot")
    assert "ro,cache=loose hostroot /newroot" in text
    assert "tmpfs /newroot/tmp" in text and "tmpfs /newroot/run" in text
    assert f"chroot /newroot /bin/sh {initramfs.STAGE2}" in text
    assert text.rstrip().endswith("sleep 5") and "poweroff -f" in text


def test_init_script_is_valid_sh() -> None:
    text = initramfs.init_script(["00-a.ko"])
    subprocess.run(["sh", "-n"], input=text, text=True, check=True)


def test_cpio_newc_roundtrip(tmp_path: Path) -> None:
    data = initramfs.build_cpio(
        [
            ("bin", stat.S_IFDIR | 0o755, b""),
            ("dev/console", stat.S_IFCHR | 0o600, b""),
            ("init", stat.S_IFREG | 0o755, b"#!/bin/sh\necho hi\n"),
            ("bin/x", stat.S_IFREG | 0o644, b"abc"),
        ]
    )
    assert data.startswith(b"070701")
    assert len(data) % 4 == 0
    assert b"TRAILER!!!" in data
    cpio = subprocess.run(["which", "cpio"], capture_output=True, check=False)
    if cpio.returncode != 0:
        pytest.skip("cpio not installed")
    listing = subprocess.run(["cpio", "-itv"], input=data, capture_output=True, check=True).stdout.decode()
    assert "init" in listing and "bin/x" in listing and "dev/console" in listing
    assert "5,   1" in listing or "5, 1" in listing


def test_setup_script_two_devices() -> None:
    text = guest.setup_script(2, "/cache/k", "6.1.0-56-amd64")
    assert text.startswith("set -e\n")
    assert "modprobe -a -d /cache/k -S 6.1.0-56-amd64 crc32_generic veth rdma_rxe rdma_ucm" in text
    assert "rdma link add rxe0 type rxe netdev veth0" in text
    assert "rdma link add rxe1 type rxe netdev veth1" in text
    for line in guest.POLICY_ROUTING:
        assert line.removeprefix("ip ") in text
    # only the benchmarking range
    assert "198.18.0.1/24" in text and "198.18.0.2/24" in text
    subprocess.run(["sh", "-n"], input=text, text=True, check=True)


def test_setup_script_one_device() -> None:
    text = guest.setup_script(1, "", "")
    assert "rxe0" in text and "rxe1" not in text and "rule" not in text
    assert "modprobe -a crc32_generic" in text
    with pytest.raises(ValueError):
        guest.setup_script(3, "", "")


def test_stage2_script_quotes_command_and_env() -> None:
    spec = guest.GuestSpec(
        argv=["python3", "-c", "print('a b'); import sys", "$HOME"],
        cwd="/work/my repo",
        env={"A": "x y", "B": "$(rm -rf /)"},
        writable=["/out dir", "/var/cache/pyc"],
        loose=["/var/cache/pyc"],
    )
    text = guest.stage2_script(spec)
    assert "msize=512000 rw0 '/out dir'" in text
    assert "msize=512000,cache=loose rw1 /var/cache/pyc" in text
    subprocess.run(["sh", "-n"], input=text, text=True, check=True)
    assert shlex.join(spec.argv) in text
    assert "cd '/work/my repo'" in text
    assert "'B=$(rm -rf /)'" in text
    assert "rw0 '/out dir'" in text
    assert text.index(": > $io/ready") < text.index("env -i")


def test_stage2_runs_command_and_records_rc(tmp_path: Path) -> None:
    """Run the stage-2 script on the host with the io path redirected (no guest)."""
    io_dir = tmp_path / "io"
    io_dir.mkdir()
    (io_dir / "setup.sh").write_text("true\n")
    spec = guest.GuestSpec(
        argv=["sh", "-c", 'echo "out $A"; echo err >&2; pwd; exit 7'],
        cwd=str(tmp_path),
        env={"A": "v w", "PATH": "/usr/bin:/bin"},
    )
    text = guest.stage2_script(spec).replace(initramfs.IO_MOUNT, str(io_dir))
    text = text.replace("mkdir -p /tmp/home /tmp/cache", ":")
    subprocess.run(["sh", "-c", text], check=True)
    assert (io_dir / "stdout").read_text() == f"out v w\n{tmp_path}\n"
    assert (io_dir / "stderr").read_text() == "err\n"
    assert (io_dir / "rc").read_text().strip() == "7"
    assert (io_dir / "booted").exists() and (io_dir / "ready").exists()


def test_stage2_setup_failure_is_marked(tmp_path: Path) -> None:
    io_dir = tmp_path / "io"
    io_dir.mkdir()
    (io_dir / "setup.sh").write_text("echo boom; false; echo not reached\n")
    spec = guest.GuestSpec(argv=["true"], cwd="/", env={})
    text = guest.stage2_script(spec).replace(initramfs.IO_MOUNT, str(io_dir))
    subprocess.run(["sh", "-c", text], check=True)
    assert (io_dir / "setup_failed").exists()
    assert not (io_dir / "ready").exists()
    assert (io_dir / "setup.log").read_text() == "boom\n"


def test_base_env_for_read_only_repo() -> None:
    env = guest.base_env("/var/cache/x/pylib", "/work/main")
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert "PYTHONPYCACHEPREFIX" not in env
    env2 = guest.base_env(None, "/r", "/var/cache/x/pycache")
    assert env2["PYTHONPYCACHEPREFIX"] == "/var/cache/x/pycache"
    assert "PYTHONDONTWRITEBYTECODE" not in env2
    assert env["PYTEST_ADDOPTS"] == "-p no:cacheprovider"
    assert env["PYTHONPATH"] == "/var/cache/x/pylib:/work/main"
    assert env["HOME"].startswith("/tmp/")
    assert guest.base_env(None, "/r")["PYTHONPATH"] == "/r"


def test_qemu_command() -> None:
    cmd = guest.qemu_command(
        vmlinux=Path("/c/vmlinux"),
        initramfs=Path("/c/i.cpio"),
        io_dir=Path("/tmp/io,x"),
        console=Path("/tmp/io,x/console.log"),
        mem_mb=2048,
        writable=["/out"],
    )
    joined = " ".join(cmd)
    assert cmd[0] == "qemu-system-x86_64"
    assert "-nic none" in joined and "-accel tcg" in joined and "-m 2048" in joined
    assert "path=/,mount_tag=hostroot" in joined and "readonly=on" in joined
    assert "path=/tmp/io,,x,mount_tag=io" in joined
    assert "path=/out,mount_tag=rw0" in joined


def test_select_env() -> None:
    host = {"CI": "1", "GOSSAMER_X": "y", "HOME": "/root", "FOO": "bar"}
    assert select_env(host) == {"CI": "1", "GOSSAMER_X": "y"}
    assert select_env(host, extra=["FOO", "NEW=a=b", "MISSING"]) == {
        "CI": "1", "GOSSAMER_X": "y", "FOO": "bar", "NEW": "a=b",
    }  # fmt: skip
    with pytest.raises(ValueError):
        select_env(host, extra=["=x"])
    with pytest.raises(ValueError):
        select_env(host, extra=["A B=1"])


def test_cli_parsing() -> None:
    ns = build_parser().parse_args(
        ["run", "--devices", "1", "--timeout", "30", "--mem", "512", "--env", "A=1", "--",
         "pytest", "-k", "x", "--devices", "9"]
    )  # fmt: skip
    assert ns.devices == 1 and ns.timeout == 30 and ns.mem == 512 and ns.env == ["A=1"]
    assert command_argv(ns.argv) == ["pytest", "-k", "x", "--devices", "9"]
    ns = build_parser().parse_args(["run", "ls", "-l"])
    assert command_argv(ns.argv) == ["ls", "-l"]
    with pytest.raises(SystemExit):
        build_parser().parse_args(["run", "--devices", "3", "--", "true"])


def test_exit_codes_are_distinct() -> None:
    codes = {EXIT_SETUP_FAILED, EXIT_PANIC, EXIT_TIMEOUT, EXIT_BOOT_FAILED}
    assert len(codes) == 4 and all(100 < c < 126 for c in codes)


def test_extract_vmlinux_finds_the_elf() -> None:
    elf = b"\x7fELF" + bytes(range(256)) * 8
    blob = b"MZ-setup" + b"\0" * 100 + lzma.compress(b"not an elf", format=lzma.FORMAT_XZ)
    blob += b"junk" + lzma.compress(elf, format=lzma.FORMAT_XZ) + b"\0" * 64
    assert extract_vmlinux(blob) == elf
    with pytest.raises(PrepareError):
        extract_vmlinux(b"no xz here")


def test_standalone_entry_works_without_the_emulators_dependencies(tmp_path: Path) -> None:
    blocker = tmp_path / "noattrs.py"
    blocker.write_text(
        "import runpy, sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('attrs', 'attr', 'cbor2'):\n"
        "            raise ModuleNotFoundError(name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "sys.argv = sys.argv[1:]\n"
        "runpy.run_path(sys.argv[0], run_name='__main__')\n"
    )
    script = Path(__file__).resolve().parents[2] / "nic_emu" / "softroce" / "standalone.py"
    proc = subprocess.run(
        [sys.executable, str(blocker), str(script), "run", "--help"],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "--devices" in proc.stdout

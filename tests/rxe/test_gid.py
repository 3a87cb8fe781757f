"""`roce_v2_gid_index`: the RoCE v2 GID is read from the device's GID table in sysfs."""

from __future__ import annotations

from pathlib import Path

from nic_emu.provider import roce_v2_gid_index


def _table(root: Path, dev: str, entries: dict[int, tuple[str, str]]) -> None:
    port = root / dev / "ports" / "1"
    (port / "gids").mkdir(parents=True)
    (port / "gid_attrs" / "types").mkdir(parents=True)
    for i, (kind, gid) in entries.items():
        (port / "gid_attrs" / "types" / str(i)).write_text(kind + "\n")
        (port / "gids" / str(i)).write_text(gid + "\n")


FE80 = "fe80:0000:0000:0000:5054:00ff:fe12:3456"
V4 = "0000:0000:0000:0000:0000:ffff:c612:0001"  # ::ffff:198.18.0.1
V6 = "2001:0db8:0000:0000:0000:0000:0000:0001"


def test_rxe_layout_gives_index_1(tmp_path: Path) -> None:
    _table(tmp_path, "rxe0", {0: ("IB/RoCE v1", FE80), 1: ("RoCE v2", FE80), 2: ("IB/RoCE v1", V4),
                              3: ("RoCE v2", V4)})
    assert roce_v2_gid_index("rxe0", sysfs=str(tmp_path)) == 3
    _table(tmp_path, "rxe1", {0: ("IB/RoCE v1", FE80), 1: ("RoCE v2", V4)})
    assert roce_v2_gid_index("rxe1", sysfs=str(tmp_path)) == 1


def test_ipv4_mapped_preferred_then_any_v2(tmp_path: Path) -> None:
    _table(tmp_path, "a", {0: ("IB/RoCE v1", FE80), 1: ("RoCE v2", V6), 2: ("RoCE v2", V4)})
    assert roce_v2_gid_index("a", sysfs=str(tmp_path)) == 2
    _table(tmp_path, "b", {0: ("IB/RoCE v1", FE80), 4: ("RoCE v2", V6)})
    assert roce_v2_gid_index("b", sysfs=str(tmp_path)) == 4


def test_emulator_and_unknown_devices_use_1(tmp_path: Path) -> None:
    assert roce_v2_gid_index("emu0") == 1
    assert roce_v2_gid_index("nosuch", sysfs=str(tmp_path)) == 1

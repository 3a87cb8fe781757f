"""The Wireshark dissector (protocol/wireshark/gossamer.lua), run by tshark on captures: one the
emulator writes in the test (``gossamer-conformance run --pcap``), the checked-in fixture, and
synthetic packets built here (segmented WRITEs, malformed images, fallback frames, bootstrap).

tshark is Debian's package; tox's ``tests`` environment installs it when it can
(protocol/wireshark/ensure_tshark.py); without it these tests skip and say so.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import cbor2
import pytest

from conformance.catalogue_closures import ADD, ECHO, GET
from conformance.cli import main as conformance_main
from conformance.oracle import frames, request, response
from nic_emu import capture

ROOT = Path(__file__).resolve().parents[2]
LUA = ROOT / "protocol" / "wireshark" / "gossamer.lua"
FIXTURE = ROOT / "protocol" / "wireshark" / "fixtures" / "emulator-exec.pcap"
#: recorded on Soft-RoCE (rxe0 -> rxe1 over veth0 in the nic_emu.softroce guest) by
#: tests/wireshark/record_rxe.py: the same six exec.* cases on the live target, AF_PACKET capture
RXE_FIXTURE = ROOT / "protocol" / "wireshark" / "fixtures" / "rxe-live.pcap"
TSHARK = shutil.which("tshark")
needs_tshark = pytest.mark.skipif(
    TSHARK is None, reason="tshark is not installed (Debian package tshark; tox's tests env installs it "
                           "as root: protocol/wireshark/ensure_tshark.py)")
A, B = bytes((198, 18, 0, 1)), bytes((198, 18, 0, 2))


def tshark(pcap: Path, tmp: Path, *args: str) -> str:
    """tshark with only our dissector (a private HOME and config dir: no personal plugins)."""
    env = {"HOME": str(tmp), "WIRESHARK_CONFIG_DIR": str(tmp / "ws"), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([TSHARK or "tshark", "-n", "-2", "-X", f"lua_script:{LUA}", "-r", str(pcap), *args],
                          capture_output=True, text=True, env=env, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "Lua: Error" not in proc.stderr and "lua_script" not in proc.stderr, proc.stderr
    return proc.stdout


def fields(pcap: Path, tmp: Path, names: list[str], display: str = "gossamer",
           options: tuple[str, ...] = ()) -> list[list[str]]:
    out = tshark(pcap, tmp, *options, "-Y", display, "-T", "fields", "-E", "separator=|", "-E", "aggregator=,",
                 *[a for n in names for a in ("-e", n)])
    return [line.split("|") for line in out.splitlines()]


def write_pcap(path: Path, frames_: list[bytes]) -> Path:
    w = capture.PcapWriter(path)
    for i, f in enumerate(frames_):
        w.write(f, 1_700_000_000 + i / 1000)
    w.close()
    return path


def write_imm(src: bytes, dst: bytes, image: bytes, *, slot: int, seq16: int, mtu: int = 1024,
              psn: int = 100) -> list[bytes]:
    return capture.roce_packets(src, dst, src_qpn=0x11, dest_qp=0x12, psn=psn, write=True, data=image,
                                raddr=0x7F0000001000, rkey=0x144, imm=(slot << 16) | seq16, mtu=mtu)


# -- capture framing (no tshark needed) ------------------------------------------------------------


def test_roce_framing_and_icrc() -> None:
    """Ethernet/IPv4/UDP 4791/BTH/RETH/ImmDt/payload/pad/ICRC, cut by the MTU; the ICRC covers
    the invariant fields only (IBA annex A17, rxe_icrc.c)."""
    data = bytes(range(256)) * 2 + b"\x01\x02"  # 514 bytes: 3 packets at MTU 256, last padded
    pkts = write_imm(A, B, data, slot=3, seq16=7, mtu=256)
    assert len(pkts) == 3
    opcodes = [p[14 + 28] for p in pkts]
    assert opcodes == [capture.WRITE_FIRST, capture.WRITE_MIDDLE, capture.WRITE_LAST_IMM]
    first, last = pkts[0], pkts[-1]
    assert struct.unpack(">H", first[14 + 22 : 14 + 24])[0] == capture.ROCE_PORT
    assert struct.unpack(">QII", first[14 + 40 : 14 + 56]) == (0x7F0000001000, 0x144, 514)
    assert (last[14 + 28 + 1] >> 4) & 3 == 2  # pad count: 2 bytes of payload, 2 of padding
    assert last[14 + 40 : 14 + 44] == struct.pack("<I", (3 << 16) | 7)  # ImmDt LSB first ([GEN-1])
    psns = [int.from_bytes(p[14 + 37 : 14 + 40], "big") for p in pkts]
    assert psns == [100, 101, 102]
    # the ICRC: recompute by the rule, and check that it ignores exactly the variant fields
    ip_udp, ib, crc = last[14:42], last[42:-4], last[-4:]
    assert crc == capture.icrc(ip_udp, ib)
    masked = bytearray(ip_udp)
    masked[1], masked[8] = 0x2E, 3  # another TOS and TTL: the same ICRC
    assert capture.icrc(bytes(masked), ib) == crc
    flipped = bytearray(ib)
    flipped[-3] ^= 1  # a payload bit: another ICRC
    assert capture.icrc(ip_udp, bytes(flipped)) != crc
    # and by the definition: CRC-32 of 8 bytes of ones and the masked headers
    p = bytearray(ip_udp)
    p[1] = p[8] = 0xFF
    p[10:12] = p[26:28] = b"\xff\xff"
    b = bytearray(ib)
    b[4] = 0xFF
    assert crc == struct.pack("<I", zlib.crc32(b"\xff" * 8 + bytes(p) + bytes(b)))


def test_fabric_capture_off_by_default() -> None:
    import nic_emu

    assert nic_emu.Fabric().pcap is None


# -- the dissector -----------------------------------------------------------------------------------


@needs_tshark
def test_catalogue_block_current() -> None:
    proc = subprocess.run(["python", str(LUA.with_name("catalogue.py")), "--check"], capture_output=True,
                          text=True, check=False, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout


@needs_tshark
def test_emulator_capture_of_a_run(tmp_path: Path) -> None:
    """`gossamer-conformance run --pcap`: every request is answered by a response with its seq;
    the immediate's seq16 is the header's seq; catalogue closures are named."""
    pcap = tmp_path / "run.pcap"
    assert conformance_main(["run", "-q", "--pcap", str(pcap), "exec.in-order", "exec.entrust",
                             "exec.big-result"]) == 0
    rows = fields(pcap, tmp_path, ["gossamer.kind", "gossamer.header.seq", "gossamer.imm.seq16",
                                   "gossamer.imm.slot", "gossamer.closure", "gossamer.error.code"])
    kinds = [r[0] for r in rows]
    assert kinds.count("request") == kinds.count("response") >= 6
    for _kind, seq, seq16, _slot, _names, err in rows:
        assert int(seq) & 0xFFFF == int(seq16)
        assert err == "", rows  # a conforming run: no expert error
    names = ",".join(r[4] for r in rows)
    for name in ("conformance:add", "conformance:get", "gossamer.builtin:entrust", "conformance:big"):
        assert name in names


@needs_tshark
def test_fixture(tmp_path: Path) -> None:
    """The checked-in emulator capture (exec.in-order, exec.batch-error-runs-nothing,
    exec.torn-answered, ...): exact field values of chosen frames."""
    rows = {int(r[0]): r[1:] for r in fields(
        FIXTURE, tmp_path, ["frame.number", "gossamer.kind", "gossamer.header.seq", "gossamer.header.count",
                            "gossamer.header.table_len", "gossamer.header.status", "gossamer.imm.slot",
                            "gossamer.entry.pointer", "gossamer.entry.result", "gossamer.cbor",
                            "gossamer.error.code", "gossamer.error.clause", "gossamer.closure"])}
    assert len(rows) == 38
    # frame 3: exec.in-order's batch, add 5, add 7, get, in slot 4
    assert rows[3][:6] == ["request", "1", "3", "2", "", "4"]
    assert rows[3][6] == "0x0000000000001000,0x0000000000001000,0x0000000000001000"
    assert rows[3][11] == ("conformance:add,conformance:get,conformance:add,conformance:add,"
                           "conformance:get")
    # frame 4: its response: 10 + 5, + 7, and the get's CBOR 22
    assert rows[4][:5] == ["response", "1", "3", "", "0x00"]
    assert rows[4][7] == "0f00000000000000,1600000000000000"
    assert rows[4][8] == "22"
    # frame 9/10: an unknown inline closure is UNKNOWN_CLOSURE, answered by an error response
    assert rows[9][9:11] == ["0x10", "VT-5"]
    assert rows[10][:5] == ["response", "1", "0", "", "0x10"]
    # frame 17/18: a torn batch ([SLOT-7]) and its TORN answer
    assert rows[17][9:11] == ["0x17", "SLOT-7"]
    assert rows[18][4] == "0x17"


@needs_tshark
def test_segmented_write_reassembled(tmp_path: Path) -> None:
    """A 1024-byte image at path MTU 256 is 4 packets; the last (WRITE LAST WITH IMMEDIATE)
    carries the reassembled image: 25 entries of 40 bytes ([SLOT-10]'s arithmetic)."""
    from conformance.catalogue_closures import PAIR

    ents = [request.entry(0x1000 + i, 0, bytes(32)) for i in range(25)]
    img = request.image(1, [PAIR.id], ents)
    assert len(img) == 1024
    pcap = write_pcap(tmp_path / "seg.pcap", write_imm(A, B, img, slot=9, seq16=1, mtu=256))
    rows = fields(pcap, tmp_path, ["frame.number", "gossamer.kind", "gossamer.header.count",
                                   "gossamer.length", "gossamer.reassembled_in", "gossamer.error.code"])
    assert [r[0] for r in rows] == ["1", "2", "3", "4"]
    assert [r[4] for r in rows[:3]] == ["4", "4", "4"]
    assert rows[3][1:4] == ["request", "25", "1024"]
    assert rows[3][5] == ""


@pytest.mark.parametrize(("image", "code", "clause", "step"), [
    (request.image(1, [ADD.id], [request.entry(1, 0, bytes(8))], trailer=bytes(8)), "0x17", "SLOT-7",
     "DEC-1 step 9"),
    (request.image(1, [ADD.id], [request.entry(1, 0, bytes(8))], count=0), "0x18", "SLOT-6", "DEC-1 step 7"),
    (request.image(1, [ADD.id], [request.entry(1, 0, bytes(8))], words=200), "0x18", "SLOT-4",
     "DEC-1 step 4"),
    (request.image(1, [ADD.id], [request.entry(1, 0, bytes(8), flags=2)]), "0x18", "REQ-2",
     "DEC-1 step 12.3"),
    (request.image(1, [ECHO.id], [request.entry(1, 0, b"", b"\x18")], table_len=9), "0x18", "VT-2",
     "DEC-1 step 8"),
    (request.image(2, [ADD.id], [request.entry(1, 0, bytes(8))]), "0x13", "LAND-5", "DEC-1 step 3"),
    (request.image(1, [ADD.id], [request.stub(1, 0, 65 << 20)]), "0x15", "FB-2", "DEC-1 step 12.3"),
    (b"\x01\x00\x00", "0x12", "DEC-1", "DEC-1 step 1"),
])
@needs_tshark
def test_malformed_request(tmp_path: Path, image: bytes, code: str, clause: str, step: str) -> None:
    """[DEC-1]'s first failing step: the expert error names the code, the clause and the step."""
    pcap = write_pcap(tmp_path / "bad.pcap", write_imm(B, A, image, slot=4, seq16=1))
    rows = fields(pcap, tmp_path, ["gossamer.kind", "gossamer.error.code", "gossamer.error.clause",
                                   "gossamer.error.step", "_ws.expert.severity"])
    assert rows == [["request", code, clause, step, rows[0][4]]]
    assert "error" in rows[0][4].lower() or rows[0][4] == "8388608"  # PI_ERROR


@needs_tshark
def test_response_uses_its_request(tmp_path: Path) -> None:
    """A response is decoded with the result layouts of the request it answers (same seq, the
    other way); an error response ([RSP-5]) shows its code and detail; a response whose entry
    status is no entry code is BAD_HEADER ([ERR-4], [DEC-2] step 5.4)."""
    req = request.image(5, [ADD.id, GET.id], [request.entry(1, 0, bytes(8)), request.entry(1, 1)])
    ok = response.image(5, [response.entry(0, (42).to_bytes(8, "little")), response.entry(0, b"", b"\x18\x2a")])
    req2 = request.image(6, [ADD.id], [request.entry(1, 0, bytes(8))])
    err = response.error_image(6, 0x17, "torn")
    req3 = request.image(7, [ADD.id], [request.entry(1, 0, bytes(8))])
    bad = response.image(7, [response.entry(0x7E)])
    pkts = (write_imm(B, A, req, slot=4, seq16=5) + write_imm(A, B, ok, slot=0, seq16=5)
            + write_imm(B, A, req2, slot=4, seq16=6) + write_imm(A, B, err, slot=0, seq16=6)
            + write_imm(B, A, req3, slot=4, seq16=7) + write_imm(A, B, bad, slot=0, seq16=7))
    pcap = write_pcap(tmp_path / "rsp.pcap", pkts)
    rows = fields(pcap, tmp_path, ["gossamer.kind", "gossamer.header.status", "gossamer.entry.status",
                                   "gossamer.entry.result", "gossamer.cbor", "gossamer.closure",
                                   "gossamer.error.code", "gossamer.error.step"])
    assert [r[0] for r in rows] == ["request", "response"] * 3
    assert rows[1][2:6] == ["0x00,0x00", "2a00000000000000", "42", "conformance:add,conformance:get"]
    assert rows[3][1] == "0x17" and rows[3][4] == '"torn"' and rows[3][6] == ""
    assert rows[5][6:8] == ["0x18", "DEC-2 step 5.4"]


@needs_tshark
def test_fallback_frames_and_bootstrap_on_tcp(tmp_path: Path) -> None:
    """Side channels: fallback frames by the GSFB heuristic (the [FB-8] client id, then frames,
    one split across two segments), and on the fallback port of the preferences, where a bad
    magic is BAD_FRAME ([DEC-3]); bootstrap messages on
    the port set in the preferences (6000, which is X11's otherwise): a hello, and one whose
    slot_size breaks [SLOT-3] (BAD_HEADER, [DEC-5] step 9)."""
    fr1 = frames.forge(1, 4, 9, 2, b"payload!")
    fr2 = frames.forge(2, 0, 9, 2, bytes(30))
    hello = {"versions": [1, 1], "machine": 1, "threads": 2, "slot_size": 1024, "table_k": 4,
             "fallback_timeout_ms": 5000, "fallback_limit": 1 << 26}
    msg = cbor2.dumps(hello)
    bad = cbor2.dumps(dict(hello, slot_size=100))
    boot = struct.pack("<I", len(msg)) + msg
    boot_bad = struct.pack("<I", len(bad)) + bad
    pkts = [
        capture.tcp_frame(B, A, 40000, 47000, 1, struct.pack("<HH", 1, 0) + fr1),
        capture.tcp_frame(A, B, 47000, 40000, 1, fr2[:25]),
        capture.tcp_frame(A, B, 47000, 40000, 26, fr2[25:]),
        capture.tcp_frame(B, A, 40001, 47000, 1,
                          struct.pack("<HH", 1, 1) + frames.forge(1, 4, 9, 0, b"x", magic=0x1234)),
        capture.tcp_frame(A, B, 6000, 41000, 1, boot),
        capture.tcp_frame(B, A, 41000, 6000, 1, boot_bad),
    ]
    pcap = write_pcap(tmp_path / "tcp.pcap", pkts)
    rows = fields(pcap, tmp_path, ["frame.number", "gossamer_fb.client.machine", "gossamer_fb.kind",
                                   "gossamer_fb.seq", "gossamer_fb.index", "gossamer_fb.payload_len",
                                   "gossamer_fb.error.code"], display="gossamer_fb")
    assert rows[0] == ["1", "1", "1", "9", "2", "8", ""]
    assert rows[1] == ["3", "", "2", "9", "2", "30", ""]  # reassembled in its second segment
    assert len(rows) == 2  # frame 4's bad magic: no GSFB to recognise, unless on a fallback port
    rows = fields(pcap, tmp_path, ["frame.number", "gossamer_fb.error.code", "gossamer_fb.error.clause"],
                  display="gossamer_fb.error.code", options=("-o", "gossamer_fb.ports:47000"))
    assert rows == [["4", "0x1b", "FB-6"]]
    rows = fields(pcap, tmp_path, ["frame.number", "gossamer_boot.length", "gossamer_boot.key",
                                   "gossamer_boot.error.code", "gossamer_boot.error.clause"],
                  display="gossamer_boot", options=("-o", "gossamer_boot.ports:6000"))
    assert rows[0][:2] == ["5", str(len(msg))]
    assert "slot_size" in rows[0][2] and rows[0][3] == ""
    assert rows[1][3:] == ["0x18", "SLOT-3"]


@needs_tshark
def test_sniffer_records_an_interface(tmp_path: Path) -> None:
    """Live captures (`run --target live:... --pcap`): an AF_PACKET sniffer on an interface; here
    loopback, carrying a fallback connection's client id and one frame over real TCP."""
    import os
    import socket

    if os.geteuid() != 0:
        pytest.skip("AF_PACKET needs root")
    pcap = tmp_path / "lo.pcap"
    srv = socket.create_server(("127.0.0.1", 0))
    port = srv.getsockname()[1]
    with capture.sniff("lo", pcap):
        cli = socket.create_connection(("127.0.0.1", port))
        conn, _ = srv.accept()
        cli.sendall(struct.pack("<HH", 0, 1) + frames.forge(1, 7, 3, 0, b"hello"))
        got = b""
        while len(got) < 29:
            got += conn.recv(64)
        cli.close()
        conn.close()
    srv.close()
    rows = fields(pcap, tmp_path, ["gossamer_fb.client.thread", "gossamer_fb.slot", "gossamer_fb.payload"],
                  display="gossamer_fb", options=("-o", f"gossamer_fb.ports:{port}"))
    assert ["1", "7", "68656c6c6f"] in rows, rows


@needs_tshark
def test_rxe_fixture(tmp_path: Path) -> None:
    """The capture recorded on rxe: bootstrap hellos (their fallback_port makes the dissector
    take that port's connections as fallback streams), the [FB-8] client id, batches with
    their closures and results, the UNKNOWN_CLOSURE and TORN rejections, a request frame."""
    rows = {int(r[0]): r[1:] for r in fields(
        RXE_FIXTURE, tmp_path, ["frame.number", "gossamer.kind", "gossamer.header.seq", "gossamer.header.count",
                                "gossamer.imm.slot", "gossamer.entry.result", "gossamer.cbor", "gossamer.error.code",
                                "gossamer.closure", "gossamer_fb.client.machine", "gossamer_fb.kind",
                                "gossamer_fb.payload_len", "gossamer_boot.key"],
        display="gossamer || gossamer_fb || gossamer_boot")}
    assert "fallback_port" in rows[6][11] and "request_slots" in rows[6][11]
    assert rows[16][8] == "1"  # client machine 1 on its fallback connection
    assert rows[63][:4] == ["request", "1", "3", "4"]
    assert rows[63][7] == ("conformance:add,conformance:get,conformance:add,conformance:add,"
                           "conformance:get")
    assert rows[65][:6] == ["response", "1", "3", "0", "0f00000000000000,1600000000000000", "22"]
    assert rows[105][6] == "0x10"
    assert rows[108][5] == '"entry 1 names unregistered closure 0x0000000000000bad"'
    assert rows[152][6] == "0x17"
    assert rows[236][9:11] == ["1", "989"]


@pytest.mark.parametrize("pcap", [FIXTURE, RXE_FIXTURE], ids=["emulator", "rxe"])
@needs_tshark
def test_check_capture(pcap: Path) -> None:
    """tests/wireshark/check_capture.py (what `tox -e rxe` runs on its fresh capture) passes on
    both fixtures, and fails when asked for more batches than there are."""
    script = str(ROOT / "tests" / "wireshark" / "check_capture.py")
    ok = subprocess.run(["python", script, str(pcap), "--min-batches", "19"], capture_output=True, text=True,
                        check=False)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "19 requests" in ok.stdout or "20 requests" in ok.stdout
    too_many = subprocess.run(["python", script, str(pcap), "--min-batches", "100"], capture_output=True,
                              text=True, check=False)
    assert too_many.returncode == 1 and "fewer than 100" in too_many.stdout


@pytest.mark.parametrize("args", [("-2",), ()], ids=["two-pass", "one-pass"])
@needs_tshark
def test_responses_decoded_in_every_mode(tmp_path: Path, args: tuple[str, ...]) -> None:
    """With taps and no filter (tshark -z expert), one pass or two, every response of the
    fixtures finds its request's layouts: no 'result layout unknown' note, no Lua error."""
    for pcap in (FIXTURE, RXE_FIXTURE):
        env = {"HOME": str(tmp_path), "WIRESHARK_CONFIG_DIR": str(tmp_path / "ws"), "PATH": "/usr/bin:/bin"}
        out = subprocess.run([TSHARK or "tshark", "-n", *args, "-X", f"lua_script:{LUA}", "-r", str(pcap), "-q",
                              "-z", "expert"], capture_output=True, text=True, env=env, timeout=120, check=True).stdout
        assert "TORN (0x17) [SLOT-7]" in out
        assert "result layout" not in out and "Lua Error" not in out, out


def test_icrc_matches_rxe() -> None:
    """capture.icrc reproduces the ICRC of every RoCE v2 packet rxe sent in the recorded fixture
    (WRITEs with immediate and ACKs, both directions)."""
    data = RXE_FIXTURE.read_bytes()
    off, checked = 24, 0
    while off < len(data):
        incl = struct.unpack_from("<IIII", data, off)[2]
        f = data[off + 16 : off + 16 + incl]
        off += 16 + incl
        if f[12:14] == b"\x08\x00" and f[23] == 17 and struct.unpack_from(">H", f, 36)[0] == capture.ROCE_PORT:
            ihl = (f[14] & 15) * 4
            assert capture.icrc(f[14 : 14 + ihl + 8], f[14 + ihl + 8 : -4]) == f[-4:]
            checked += 1
    assert checked >= 40

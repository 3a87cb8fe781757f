"""Packet captures of emulated traffic: RoCE v2 frames as they would be on the wire, in a pcap.

A capture is off unless asked for; then every RC message that carries data (RDMA WRITE, WRITE
WITH IMMEDIATE, SEND, SEND WITH IMMEDIATE) that the responder accepted is written as the packets
a RoCE v2 NIC sends for it: Ethernet, IPv4, UDP to port 4791, BTH, RETH on the first packet of a
WRITE, ImmDt on the last packet of a message with an immediate, the payload cut by the QP's
path MTU, padding to 4 bytes and the ICRC (CRC-32 over the masked pseudo-header, IBA vol 1
annex A16/A17, as Linux rxe computes it).  ACKs, READs and atomics are not written.

Three ways to ask for one:

* ``fabric.capture("run.pcap")``: this fabric's traffic from now on;
* ``with nic_emu.capture.record("run.pcap"): ...``: every fabric created inside the block
  (what ``gossamer-conformance run --pcap`` uses: one file for the whole suite);
* ``NIC_EMU_PCAP=run.pcap``: every fabric of the process.

Live runs on real RoCE are recorded with ``sniff(netdev_of("rxe0"), "live.pcap")`` (AF_PACKET,
root): ``gossamer-conformance run --target live:... --pcap FILE`` does it.

Open the file with Wireshark and the Gossamer dissector (``protocol/wireshark/``).  The
no-capture path costs one attribute test per RC work request.
"""

from __future__ import annotations

import contextlib
import os
import struct
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

ROCE_PORT = 4791
#: RC opcodes (IBA vol 1, table 38)
SEND_FIRST, SEND_MIDDLE, SEND_LAST, SEND_LAST_IMM, SEND_ONLY, SEND_ONLY_IMM = 0, 1, 2, 3, 4, 5
WRITE_FIRST, WRITE_MIDDLE, WRITE_LAST, WRITE_LAST_IMM, WRITE_ONLY, WRITE_ONLY_IMM = (
    6, 7, 8, 9, 10, 11)
_PCAP_HEADER = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 0x40000, 1)  # LINKTYPE_ETHERNET
_REC = struct.Struct("<IIII")
_BTH = struct.Struct(">BBHI I")
_RETH = struct.Struct(">QII")
_ETH_IP = 0x0800


def mac_of(ipv4: bytes) -> bytes:
    """A locally administered MAC for an emulated NIC, from its IPv4 address."""
    return b"\x02\x00" + ipv4


def icrc(ip_udp: bytes, ib: bytes) -> bytes:
    """The 4 ICRC bytes of a RoCE v2 packet over IPv4: ``ip_udp`` the IPv4 and UDP headers,
    ``ib`` everything from the BTH to the end of the padding.  The CRC-32 covers 8 bytes of
    0xFF (the masked LRH), then IPv4 with TOS, TTL and checksum set to all ones, UDP with its
    checksum all ones, the BTH with its reserved byte 4 all ones, the other headers and the
    payload; the complement is sent least significant byte first (rxe_icrc.c)."""
    p = bytearray(ip_udp)
    p[1] = 0xFF  # TOS (DSCP, ECN)
    p[8] = 0xFF  # TTL
    p[10:12] = b"\xff\xff"  # IPv4 header checksum
    p[26:28] = b"\xff\xff"  # UDP checksum
    b = bytearray(ib[:12])
    b[4] = 0xFF  # BTH resv8a
    crc = zlib.crc32(b"\xff" * 8)
    crc = zlib.crc32(p, crc)
    crc = zlib.crc32(b, crc)
    crc = zlib.crc32(ib[12:], crc)
    return struct.pack("<I", crc)


def _ip_checksum(h: bytes) -> int:
    s: int = sum(struct.unpack(f">{len(h) // 2}H", h))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4_udp(src: bytes, dst: bytes, sport: int, dport: int, payload_len: int, ident: int) -> bytes:
    """IPv4 (no options, DF, TTL 64) and UDP headers (checksum 0, as rxe sends over IPv4)."""
    total = 20 + 8 + payload_len
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, total, ident & 0xFFFF, 0x4000, 64, 17, 0, src, dst)
    ip = ip[:10] + struct.pack(">H", _ip_checksum(ip)) + ip[12:]
    return ip + struct.pack(">HHHH", sport, dport, 8 + payload_len, 0)


def roce_packets(
    src: bytes, dst: bytes, *, src_qpn: int, dest_qp: int, psn: int, write: bool, data: bytes,
    raddr: int = 0, rkey: int = 0, imm: int | None = None, mtu: int = 1024, ident: int = 0,
) -> list[bytes]:
    """The Ethernet frames of one RC message from IPv4 ``src`` to ``dst``: an RDMA WRITE
    (``write``; with ``imm`` a WRITE WITH IMMEDIATE) or a SEND, cut at the path ``mtu``.  The
    ImmDt bytes are the immediate least significant byte first, as pyverbs puts a host-order
    ``imm_data`` on the wire (SPEC.md [GEN-1])."""
    chunks = [data[i : i + mtu] for i in range(0, len(data), mtu)] or [b""]
    last = len(chunks) - 1
    sport = 0xC000 | (src_qpn & 0x3FFF)  # rxe: a source port from the QP number
    eth = mac_of(dst) + mac_of(src) + struct.pack(">H", _ETH_IP)
    frames = []
    for i, chunk in enumerate(chunks):
        only, first, final = last == 0, i == 0, i == last
        if write:
            base = (WRITE_ONLY if only else WRITE_FIRST if first else
                    WRITE_LAST if final else WRITE_MIDDLE)
        else:
            base = SEND_ONLY if only else SEND_FIRST if first else SEND_LAST if final else SEND_MIDDLE
        with_imm = imm is not None and final
        opcode = base + 1 if with_imm else base
        pad = -len(chunk) % 4
        flags = (0x80 if with_imm else 0) | (pad << 4)  # SE with an immediate, as rxe; TVer 0
        bth = _BTH.pack(opcode, flags, 0xFFFF, dest_qp & 0xFFFFFF,
                        ((0x80 if final else 0) << 24) | ((psn + i) & 0xFFFFFF))
        ext = b""
        if write and first:
            ext += _RETH.pack(raddr, rkey, len(data))
        if with_imm:
            ext += struct.pack("<I", imm & 0xFFFFFFFF)  # type: ignore[operator]  # not None here
        ib = bth + ext + bytes(chunk) + bytes(pad)
        hdr = ipv4_udp(src, dst, sport, ROCE_PORT, len(ib) + 4, ident + i)
        frames.append(eth + hdr + ib + icrc(hdr, ib))
    return frames


def tcp_frame(
    src: bytes, dst: bytes, sport: int, dport: int, seq: int, payload: bytes, *,
    ack: int = 0, flags: int = 0x18, ident: int = 0,
) -> bytes:
    """One Ethernet/IPv4/TCP frame (PSH|ACK by default) with a correct TCP checksum: for the
    side channels (bootstrap, fallback frames) in synthetic captures."""
    tcp = struct.pack(">HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 5 << 4,
                      flags, 65535, 0, 0) + payload
    pseudo = src + dst + struct.pack(">BBH", 0, 6, len(tcp))
    body = pseudo + tcp + (b"\x00" if len(tcp) % 2 else b"")
    tcp = tcp[:16] + struct.pack(">H", _ip_checksum(body)) + tcp[18:]
    total = 20 + len(tcp)
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, total, ident & 0xFFFF, 0x4000, 64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack(">H", _ip_checksum(ip)) + ip[12:]
    return mac_of(dst) + mac_of(src) + struct.pack(">H", _ETH_IP) + ip + tcp


class PcapWriter:
    """A pcap file (microsecond timestamps, Ethernet link type) that frames are appended to."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._f: BinaryIO = open(self.path, "wb")  # noqa: SIM115 (closed by close())
        self._f.write(_PCAP_HEADER)
        self._lock = threading.Lock()
        self.frames = 0
        self._ident = 0

    def write(self, frame: bytes, ts: float | None = None) -> None:
        t = time.time() if ts is None else ts
        sec = int(t)
        usec = int((t - sec) * 1e6)
        with self._lock:
            if self._f.closed:  # a fabric that outlived its ``record`` block
                return
            self._f.write(_REC.pack(sec, usec, len(frame), len(frame)))
            self._f.write(frame)
            self.frames += 1

    def message(
        self, src: bytes, dst: bytes, *, src_qpn: int, dest_qp: int, psn: int, write: bool,
        data: bytes, raddr: int = 0, rkey: int = 0, imm: int | None = None, mtu: int = 1024,
    ) -> None:
        """Append the packets of one RC message (see ``roce_packets``)."""
        with self._lock:
            ident = self._ident
            self._ident += 64
        ts = time.time()
        for frame in roce_packets(src, dst, src_qpn=src_qpn, dest_qp=dest_qp, psn=psn,
                                  write=write, data=data, raddr=raddr, rkey=rkey, imm=imm,
                                  mtu=mtu, ident=ident):
            self.write(frame, ts)

    def flush(self) -> None:
        with self._lock:
            self._f.flush()

    def close(self) -> None:
        with self._lock:
            if not self._f.closed:
                self._f.close()


def netdev_of(device: str | None, gid_index: int = 1) -> str:
    """The network interface under an RDMA device's GID (RoCE: rxe0 on veth0), from sysfs;
    ``device`` None: the first device."""
    root = Path("/sys/class/infiniband")
    if device is None:
        devices = sorted(p.name for p in root.iterdir()) if root.is_dir() else []
        if not devices:
            raise OSError("no RDMA device in /sys/class/infiniband")
        device = devices[0]
    return (root / device / "ports" / "1" / "gid_attrs" / "ndevs" / str(gid_index)).read_text().strip()


class Sniffer:
    """Every Ethernet frame sent or received on a network interface, written to a pcap by a
    child process (``python -m nic_emu.capture sniff IFACE FILE``: an AF_PACKET socket, Linux,
    root), so that recording takes nothing from the run's own process.  For live runs on real
    RoCE: RDMA packets (UDP 4791) and the TCP side channels of the interface together."""

    def __init__(self, ifname: str, path: str | os.PathLike[str]) -> None:
        import subprocess
        import sys

        self.path = Path(path)
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "nic_emu.capture", "sniff", ifname, str(path)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()  # "ready" once the socket is bound
        if line.strip() != "ready":
            self._proc.wait(5)
            err = self._proc.stderr.read() if self._proc.stderr else ""
            last = err.strip().splitlines()[-1] if err.strip() else line.strip()
            raise OSError(f"cannot capture {ifname}: {last}")

    def close(self) -> None:
        import signal
        import subprocess

        time.sleep(0.2)  # the last packets of the run
        self._proc.send_signal(signal.SIGTERM)
        try:
            self._proc.wait(10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()


def _sniff_main(ifname: str, path: str) -> int:
    """The child of ``Sniffer``: record ``ifname`` into ``path`` until SIGTERM."""
    import signal
    import socket

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))  # ETH_P_ALL
    sock.bind((ifname, 0))
    sock.settimeout(0.1)
    skip_outgoing = ifname == "lo"  # loopback shows each frame twice: keep the received copy
    writer = PcapWriter(path)
    print("ready", flush=True)
    try:
        while not stop.is_set():
            try:
                frame, addr = sock.recvfrom(65536)
            except TimeoutError:
                continue
            if skip_outgoing and addr[2] == 4:  # PACKET_OUTGOING
                continue
            writer.write(frame)
    finally:
        writer.close()
        sock.close()
    return 0


@contextlib.contextmanager
def sniff(ifname: str, path: str | os.PathLike[str]) -> Iterator[Sniffer]:
    """Capture ``ifname`` to ``path`` while the block runs."""
    s = Sniffer(ifname, path)
    try:
        yield s
    finally:
        s.close()


_default: PcapWriter | None = None


def default_sink() -> PcapWriter | None:
    """The capture every new fabric writes to: ``record``'s, else ``$NIC_EMU_PCAP``'s, else
    none."""
    global _default
    if _default is None:
        path = os.environ.get("NIC_EMU_PCAP")
        if path:
            _default = PcapWriter(path)
    return _default


@contextlib.contextmanager
def record(path: str | os.PathLike[str]) -> Iterator[PcapWriter]:
    """Every fabric created inside the block writes its traffic to one pcap at ``path``."""
    global _default
    prev, writer = _default, PcapWriter(path)
    _default = writer
    try:
        yield writer
    finally:
        _default = prev
        writer.close()


if __name__ == "__main__":
    import sys

    if len(sys.argv) == 4 and sys.argv[1] == "sniff":
        sys.exit(_sniff_main(sys.argv[2], sys.argv[3]))
    sys.exit("usage: python -m nic_emu.capture sniff IFACE FILE")

"""The adapter protocol (SPEC.md section 11) and the independent C codec behind it."""

from __future__ import annotations

import shutil
import sys
import textwrap
from pathlib import Path

import pytest

from conformance.adapter import encode_frame
from conformance.c_codec import build
from conformance.cases import catalogue, select
from conformance.model import Verdict
from conformance.runner import run
from conformance.targets.adapter_process import AdapterTarget

#: the ops of racks of processes: a codec that does not run racks offers neither ([ADPT-8])
RACK_OPS = {"rack_message", "launch_env"}
CODEC_OPS_SKIPPED = {"execute", "nic_roundtrip", "nic_placement", "nic_credits", "nic_fallback", "client_run",
                     "nic_live", "nic_bootstrap", *RACK_OPS}


@pytest.mark.clause("ADPT-1", "ADPT-2", "ADPT-3", "ADPT-4")
def test_python_reference_adapter_passes() -> None:
    t = AdapterTarget([sys.executable, "-m", "conformance.adapter"])
    try:
        result = run(t, catalogue())
    finally:
        t.close()
    assert result.passed, [(r.case.id, r.message) for r in result.results if r.verdict is not Verdict.PASS][:5]


@pytest.fixture(scope="module")
def c_codec(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("gcc") is None and shutil.which("cc") is None:
        pytest.skip("no C compiler")
    return build(tmp_path_factory.mktemp("c_codec"))


@pytest.mark.clause("ADPT-1", "ADPT-4", "ADPT-5", "ADPT-6", "ADPT-7", "ADPT-8", "ADPT-9", "ADPT-11")
def test_c_codec_passes_the_codec_suite(c_codec: Path) -> None:
    t = AdapterTarget([str(c_codec)], name="c-codec")
    try:
        result = run(t, catalogue())
    finally:
        t.close()
    bad = [(r.case.id, r.message) for r in result.results if r.verdict in (Verdict.FAIL, Verdict.ERROR)]
    assert not bad
    skipped = {r.case.op for r in result.results if r.verdict is Verdict.SKIP}
    assert skipped <= CODEC_OPS_SKIPPED
    codec = [r for r in result.results if "codec" in r.case.tags and r.case.op not in RACK_OPS]
    assert codec and all(r.verdict is Verdict.PASS for r in codec)


def test_frame_is_length_prefixed_cbor() -> None:
    f = encode_frame({"op": "hello"})
    assert int.from_bytes(f[:4], "little") == len(f) - 4
    assert f[4:] == b"\xa1\x62op\x65hello"


CRASHER = textwrap.dedent("""
    import sys, struct, cbor2
    def send(m):
        b = cbor2.dumps(m); sys.stdout.buffer.write(struct.pack('<I', len(b)) + b); sys.stdout.buffer.flush()
    while True:
        h = sys.stdin.buffer.read(4)
        if len(h) < 4: break
        msg = cbor2.loads(sys.stdin.buffer.read(struct.unpack('<I', h)[0]))
        if msg['op'] == 'hello':
            send({'ok': {'name': 'crasher', 'versions': [1, 1], 'ops': ['hello', 'next_seq', 'make_imm']}})
        elif msg['op'] == 'next_seq':
            sys.exit(7)
        else:
            send({'bogus': 1})
""")


@pytest.mark.clause("ADPT-4", "ERR-1")
def test_crash_and_garbage_are_errors_not_passes(tmp_path: Path) -> None:
    script = tmp_path / "crasher.py"
    script.write_text(CRASHER)
    t = AdapterTarget([sys.executable, str(script)])
    try:
        result = run(t, select(catalogue(), ["land.next-seq", "land.seq-wrap", "land.imm", "req.encode.single"]))
    finally:
        t.close()
    v = {r.case.id: r.verdict for r in result.results}
    assert v["land.next-seq"] is Verdict.ERROR and v["land.seq-wrap"] is Verdict.ERROR  # restarted after the crash
    assert v["land.imm"] is Verdict.ERROR  # a malformed answer
    assert v["req.encode.single"] is Verdict.SKIP
    assert not result.passed

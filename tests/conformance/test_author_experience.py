"""An adapter author's experience (issue 12, item 8): `python -m conformance`, reports that carry
every request and answer, whole differences, the adapter's stderr with each failing case,
`--expect` files, and the generated page of op examples."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conformance.cli import main
from conformance.expect import Expectations, ExpectationsError
from conformance.report.diff import bytes_diff, diff_lines

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), out), out.getvalue()


def test_python_dash_m_conformance_is_the_command() -> None:
    """The Soft-RoCE guest has no console script: `python -m conformance` must do the same."""
    proc = subprocess.run([sys.executable, "-m", "conformance", "run", "-q", "land.imm", "cbor.valid"],
                          capture_output=True, text=True, check=False, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "PASSED: 2 passed" in proc.stdout
    proc = subprocess.run([sys.executable, "-m", "conformance", "list", "LAND-2"], capture_output=True, text=True,
                          check=False, cwd=ROOT)
    assert proc.returncode == 0 and "land.imm" in proc.stdout
    assert "python -m conformance" in (ROOT / "conformance" / "README.md").read_text()


@pytest.mark.clause("ADPT-11")
def test_json_records_request_expected_and_received_for_every_case(tmp_path: Path) -> None:
    j = tmp_path / "r.json"
    code, _ = run_cli("run", "-q", "--target", "reference-sansio", "--json", str(j), "req.*", "land.imm")
    assert code == 0
    data = json.loads(j.read_text())
    assert data["cases"] and all(c["verdict"] == "pass" for c in data["cases"])
    for c in data["cases"]:
        assert c["request"]["op"] == c["op"]
        assert "expected" in c and c["received"] is not None
    imm = next(c for c in data["cases"] if c["id"] == "land.imm")
    assert imm["request"] == {"op": "make_imm", "slot_id": imm["request"]["slot_id"], "seq": imm["request"]["seq"]}
    assert imm["received"] == imm["expected"]


def test_diff_lists_every_difference_whole() -> None:
    exp = bytes(range(256)) * 4
    rec = bytearray(exp)
    for i in (3, 500, 1000):  # three runs far apart, and one byte more
        rec[i] ^= 0xFF
    rec += b"\x99"
    lines = diff_lines({"ok": {"image": exp, "frames": []}}, {"ok": {"image": bytes(rec), "frames": [b"x"]}})
    assert lines[0] == "ok.image: 1024 bytes expected, 1025 received (+1)"
    assert "[0x0003..0x0004) expected 03 received fc" in lines[1]
    assert "[0x01f4..0x01f5)" in lines[2] and "[0x03e8..0x03e9)" in lines[3]
    assert "not expected, received 99" in lines[4]
    assert lines[5:] == ["ok.frames: expected 0 elements, received 1", "ok.frames[0]: not expected, received h'78'"]
    assert diff_lines({"error": "TORN"}, {"ok": {}}) == [
        'error: expected "TORN", missing from the answer', "ok: not expected, received {}"]
    assert diff_lines({"ok": {"v": True}}, {"ok": {"v": 1}}) == ["ok.v: expected true, received 1"]
    long = bytes(5000)
    assert bytes_diff(long, long[:-1] + b"\x01", "x")[1] == "  [0x1387..0x1388) expected 00 received 01"


@pytest.mark.clause("ADPT-11")
def test_failures_show_the_whole_difference_everywhere(tmp_path: Path) -> None:
    j, h, x = tmp_path / "r.json", tmp_path / "r.html", tmp_path / "r.xml"
    code, out = run_cli("run", "-v", "--target", "mutant:big-endian-header", "req.encode.exactly-full",
                        "--json", str(j), "--html", str(h), "--junit", str(x))
    assert code == 1
    data = json.loads(j.read_text())
    (case,) = data["cases"]
    diff = case["diff"]
    assert diff[0].startswith("ok.image: 1024 bytes expected, 1024 received")
    received = bytes.fromhex(case["received"]["ok"]["image"]["hex"])
    expected = bytes.fromhex(case["expected"]["ok"]["image"]["hex"])
    differing = sum(a != b for a, b in zip(expected, received, strict=True))
    # every differing byte is in one of the runs listed, on both sides
    listed = sum(len(line.split(" expected ")[1].split(" received ")[0]) // 2 for line in diff[1:])
    assert listed >= differing > 0
    for line in diff[1:]:  # console -v shows the same lines, none cut short
        assert line.strip() in out
    page = h.read_text()
    assert all(line.strip() in page for line in diff[1:])
    assert "..." not in page.split("received answer")[1].split("</pre>")[0]  # the whole answer
    junit = ET.parse(x).getroot()
    text = "".join(e.text or "" for e in junit.iter("failure"))
    assert diff[1].strip() in text


CHATTY = """
import sys
sys.path.insert(0, {root!r})
from conformance.adapter import encode_frame, read_frame
from conformance.targets.reference import ReferenceTarget
t = ReferenceTarget()
while True:
    m = read_frame(sys.stdin.buffer)
    if m is None:
        break
    op = m.pop("op")
    print(f"adapter: got {{op}}", file=sys.stderr, flush=True)
    if op == "make_imm":
        print("adapter: make_imm is broken here", file=sys.stderr, flush=True)
        got = {{"ok": {{"imm": 0, "parsed": [0, 0]}}}}
    elif op == "next_seq" and m.get("seq") == 0xFFFFFFFF:
        raise SystemExit("adapter: crashed on the wrap")
    else:
        got = t.call(op, m)
    sys.stdout.buffer.write(encode_frame(got))
    sys.stdout.buffer.flush()
"""


@pytest.mark.clause("ADPT-4", "ERR-1")
def test_adapter_stderr_is_shown_with_each_failing_case(tmp_path: Path) -> None:
    script = tmp_path / "chatty.py"
    script.write_text(CHATTY.format(root=str(ROOT)))
    j, h = tmp_path / "r.json", tmp_path / "r.html"
    code, out = run_cli("run", "--target", f"adapter:{sys.executable} {script}", "land.next-seq", "land.imm",
                        "land.seq-wrap", "--json", str(j), "--html", str(h))
    assert code == 1
    data = {c["id"]: c for c in json.loads(j.read_text())["cases"]}
    assert data["land.next-seq"]["verdict"] == "pass" and data["land.next-seq"]["stderr"] == "adapter: got next_seq\n"
    assert data["land.imm"]["verdict"] == "fail"
    # (the adapter crashed on land.seq-wrap before: the restart's hello belongs to this case)
    assert data["land.imm"]["stderr"].endswith("adapter: got make_imm\nadapter: make_imm is broken here\n")
    assert data["land.seq-wrap"]["verdict"] == "error"
    assert "adapter: crashed on the wrap" in data["land.seq-wrap"]["stderr"]
    assert "| adapter: make_imm is broken here" in out and "| adapter: crashed on the wrap" in out
    assert "adapter: make_imm is broken here" in h.read_text()


def test_expectations_file_format() -> None:
    e = Expectations.parse("# known\n\nrsp.decode.mixed: we return an empty body, issue #12\nhostile.torn:  todo \n")
    assert e.reasons == {"rsp.decode.mixed": "we return an empty body, issue #12", "hostile.torn": "todo"}
    for bad in ("just-an-id", "a b: two words", "x:", "x: one\nx: twice"):
        with pytest.raises(ExpectationsError):
            Expectations.parse(bad)


def test_expect_known_failures_unexpected_passes(tmp_path: Path) -> None:
    mutant = ("--target", "mutant:big-endian-header")
    code, out = run_cli("run", "-q", *mutant)
    failing = sorted({line.split()[1] for line in out.splitlines() if line.startswith(("FAIL ", "ERROR "))})
    assert code == 1 and failing
    expect = tmp_path / "known.txt"
    lines = "".join(f"{cid}: writes the header big-endian\n" for cid in failing)
    expect.write_text("# the big-endian mutant\n" + lines)
    j, x = tmp_path / "r.json", tmp_path / "r.xml"
    code, out = run_cli("run", "-q", *mutant, "--expect", str(expect), "--json", str(j), "--junit", str(x))
    assert code == 0, out
    assert f"{len(failing)} known failures, 0 unexpected passes" in out and out.strip().splitlines()[-1].startswith(
        "PASSED")
    data = json.loads(j.read_text())
    assert data["expectations"]["ok"] and sorted(data["expectations"]["expected_failures"]) == failing
    suite = ET.parse(x).getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "0" and suite.get("errors") == "0"
    # one more listed case that passes: an UNEXPECTED PASS, reported, exit 1
    expect.write_text(expect.read_text() + "land.imm: thought broken\nno.such.case: renamed\n")
    h = tmp_path / "r.html"
    code, out = run_cli("run", "-q", *mutant, "--expect", str(expect), "--html", str(h))
    assert code == 1
    assert "UNEXPECTED PASS land.imm" in out and "thought broken" in out
    page = h.read_text()
    assert "UNEXPECTED PASS</span>" in page and "KNOWN</span>" in page
    assert "no.such.case, which is no case of the catalogue" in out
    # one listed failure fewer: that failure is unexpected, exit 1
    expect.write_text("".join(f"{cid}: x\n" for cid in failing[1:]))
    code, out = run_cli("run", "-q", *mutant, "--expect", str(expect))
    assert code == 1 and f"FAIL {failing[0]}" in out
    assert run_cli("run", "--expect", str(tmp_path / "missing.txt"), "land.imm")[0] == 2


def test_readme_names_what_an_adapter_skips() -> None:
    """conformance/README.md names every op an adapter always skips (the suite's own drivers)."""
    from conformance.cases import catalogue

    text = (ROOT / "conformance" / "README.md").read_text()
    skipped = sorted({c.op for c in catalogue() if c.op.startswith("nic_") or c.op == "client_run"})
    for op in skipped:
        assert f"`{op}`" in text, op


@pytest.mark.clause("ADPT-18")
def test_ops_page_is_current() -> None:
    """docs/adapter-ops.md is generated from the reference; regenerate it when this fails:
    `python -m conformance.opsdoc`."""
    from conformance import opsdoc

    assert opsdoc.PAGE.read_text(encoding="utf-8") == opsdoc.render(), \
        "docs/adapter-ops.md has drifted: run python -m conformance.opsdoc and commit it"
    page = opsdoc.PAGE.read_text(encoding="utf-8")
    for op in opsdoc.ops():
        assert f"## `{op}`" in page

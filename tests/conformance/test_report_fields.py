"""Field-level differences in reports (conformance/report/fields.py): the console, JSON and HTML
reports name each differing field next to the bytes."""

from __future__ import annotations

import io
import json
import struct
from pathlib import Path

from conformance.catalogue_closures import ADD, ECHO, standard
from conformance.cli import main
from conformance.model import Case, CaseResult, Verdict
from conformance.oracle import frames, request, response
from conformance.oracle.layout import shapes
from conformance.report.fields import field_diff, field_lines, frame_fields, request_fields, response_fields

SHAPES = shapes(standard())
NAMES = {d["id"]: d["name"] for d in standard()}


def _swap_seq(img: bytes) -> bytes:
    b = bytearray(img)
    b[0:4] = struct.pack(">I", struct.unpack_from("<I", img)[0])
    b[-8:] = b[:8]
    return bytes(b)


def test_request_fields_by_name() -> None:
    img = request.image(1, [ADD.id], [request.entry(0x1000, 0, (7).to_bytes(8, "little")),
                                      request.entry(0x2000, 0, b"", b"\x18\x2a", inline_id=ECHO.id)])
    f = request_fields(img, SHAPES, NAMES)
    assert f["header.count"] == 2 and f["header.table_len"] == 1
    assert repr(f["table[0]"]) == f"{ADD.id:#018x} (conformance:add)"
    assert f["entries[1].ref"] == 0xFF and f["entries[1].closure_id"] == ECHO.id
    assert f["entries[1].param_len"] == 2 and f["entries[1].param"] == b"\x18\x2a"
    assert f["entries[1].padding"] == bytes(2)
    assert f["trailer.seq"] == 1
    assert field_diff(f, request_fields(_swap_seq(img), SHAPES, NAMES)) == [
        "header.seq: expected 1, received 16777216", "trailer.seq: expected 1, received 16777216"]


def test_request_fields_lenient() -> None:
    """A short or forged image still shows what it holds; an unknown closure ends the split."""
    img = request.image(1, [0x0BAD], [request.entry(1, 0, bytes(8))])
    f = request_fields(img, SHAPES)
    assert f["entries[0].rest"] == bytes(8) and "trailer.seq" in f
    assert request_fields(img[:5], SHAPES) == {"header.bytes": img[:5]}
    assert request_fields(b"", SHAPES) == {}


def test_response_and_frame_fields() -> None:
    a = response.image(3, [response.entry(0, (5).to_bytes(8, "little")), response.entry(0x11, b"", b"\x60")])
    b = response.image(3, [response.entry(0, (6).to_bytes(8, "little")), response.entry(0x19, b"", b"\x60")])
    assert field_diff(response_fields(a, [8, None]), response_fields(b, [8, None])) == [
        "entries[0].result: expected h'0500000000000000', received h'0600000000000000'",
        "entries[1].status: expected 0x11 (BAD_PROPERTY), received 0x19 (CLOSURE_RAISED)"]
    err = response_fields(response.error_image(4, 0x17, "torn"), [])
    assert err["header.status"] == 0x17 and err["detail"] == b"\x64torn"
    assert field_diff(frame_fields(frames.forge(1, 2, 3, 4, b"ab")), frame_fields(frames.forge(1, 2, 3, 5, b"ab"))) == [
        "index: expected 4, received 5"]


def test_field_lines_of_a_result() -> None:
    img = request.image(1, [ADD.id], [request.entry(0x1000, 0, bytes(8))])
    case = Case(id="x", title="t", clauses=("GEN-1",), op="encode_request_batch",
                args={"closures": standard()}, expect={"ok": {"image": img, "frames": []}})
    r = CaseResult(case=case, verdict=Verdict.FAIL, received={"ok": {"image": _swap_seq(img), "frames": []}})
    assert field_lines(r)[0] == "ok.image: header.seq: expected 1, received 16777216"
    same = CaseResult(case=case, verdict=Verdict.PASS, received=case.expect)
    assert field_lines(same) == []
    other = CaseResult(case=case, verdict=Verdict.FAIL, received={"error": "BAD_ARGUMENT"})
    assert field_lines(other) == []


def test_every_report_shows_fields(tmp_path: Path) -> None:
    """A mutant that writes the header big-endian: console, JSON and HTML name header.seq."""
    out = io.StringIO()
    js, page = tmp_path / "r.json", tmp_path / "r.html"
    code = main(["run", "--target", "mutant:big-endian-header", "--json", str(js), "--html", str(page),
                 "req.encode.single"], out)
    assert code == 1
    line = "header.seq: expected 1, received 16777216"
    assert f"ok.image: {line}" in out.getvalue()
    case = next(c for c in json.loads(js.read_text())["cases"] if c["id"] == "req.encode.single")
    assert f"ok.image: {line}" in case["fields"]
    assert line in page.read_text()

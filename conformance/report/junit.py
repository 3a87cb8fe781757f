"""JUnit XML: one testsuite per target, one testcase per case (classname: the case's area).

With expectations (`--expect`), a known failure is reported as skipped (with its reason) and an
unexpected pass as a failure, so a CI dashboard shows what the exit status means.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from ..expect import Expectations
from ..model import Verdict
from ..runner import Run
from .diff import diff_lines


def to_junit(run: Run, expectations: Expectations | None = None) -> ET.Element:
    suites = ET.Element("testsuites", name="gossamer-conformance")
    j = expectations.judge(run.results) if expectations is not None else None
    known = {r.case.id for r in j.expected_failures} if j else set()
    xpass = {r.case.id for r in j.unexpected_passes} if j else set()
    suite = ET.SubElement(
        suites, "testsuite", name=f"gossamer-conformance[{run.target}]", tests=str(len(run.results)),
        failures=str(sum(r.verdict is Verdict.FAIL and r.case.id not in known for r in run.results) + len(xpass)),
        errors=str(sum(r.verdict is Verdict.ERROR and r.case.id not in known for r in run.results)),
        skipped=str(run.count(Verdict.SKIP) + len(known)), time=f"{run.seconds:.3f}",
    )
    for r in run.results:
        c = r.case
        tc = ET.SubElement(suite, "testcase", classname=f"conformance.{c.id.split('.')[0]}", name=c.id,
                           time=f"{r.seconds:.6f}")
        ET.SubElement(ET.SubElement(tc, "properties"), "property", name="clauses", value=" ".join(c.clauses))
        if r.verdict is Verdict.SKIP:
            ET.SubElement(tc, "skipped", message=r.message)
        elif c.id in known:
            assert expectations is not None
            ET.SubElement(tc, "skipped", message=f"known failure: {expectations.reason(c.id)} ({r.message})")
        elif c.id in xpass:
            assert expectations is not None
            ET.SubElement(tc, "failure", message=f"unexpected pass: the expectations list it "
                                                 f"({expectations.reason(c.id)}); remove the entry")
        elif r.verdict in (Verdict.FAIL, Verdict.ERROR):
            el = ET.SubElement(tc, "failure" if r.verdict is Verdict.FAIL else "error",
                               message=f"[{' '.join(c.clauses)}] {r.message}")
            lines = [c.title, f"clauses: {', '.join(c.clauses)}"]
            if c.sent is not None:
                lines.append(f"sent:     {c.sent.hex()}")
            if r.expected_bytes is not None:
                lines.append(f"expected: {r.expected_bytes.hex()}")
            if r.received_bytes is not None:
                lines.append(f"received: {r.received_bytes.hex()}")
            if r.received is not None:
                lines += ["difference:", *diff_lines(c.expect, r.received)]
            el.text = "\n".join(lines)
            if r.stderr:
                ET.SubElement(tc, "system-err").text = r.stderr
    return suites


def write_junit(run: Run, path: str | Path, expectations: Expectations | None = None) -> None:
    tree = ET.ElementTree(to_junit(run, expectations))
    ET.indent(tree)
    tree.write(path, encoding="utf-8", xml_declaration=True)

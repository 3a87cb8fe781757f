"""JUnit XML: one testsuite per target, one testcase per case (classname: the case's area)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from ..model import Verdict
from ..runner import Run


def to_junit(run: Run) -> ET.Element:
    suites = ET.Element("testsuites", name="gossamer-conformance")
    suite = ET.SubElement(
        suites, "testsuite", name=f"gossamer-conformance[{run.target}]", tests=str(len(run.results)),
        failures=str(run.count(Verdict.FAIL)), errors=str(run.count(Verdict.ERROR)),
        skipped=str(run.count(Verdict.SKIP)), time=f"{run.seconds:.3f}",
    )
    for r in run.results:
        c = r.case
        tc = ET.SubElement(suite, "testcase", classname=f"conformance.{c.id.split('.')[0]}", name=c.id,
                           time=f"{r.seconds:.6f}")
        ET.SubElement(ET.SubElement(tc, "properties"), "property", name="clauses", value=" ".join(c.clauses))
        if r.verdict is Verdict.SKIP:
            ET.SubElement(tc, "skipped", message=r.message)
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
            el.text = "\n".join(lines)
    return suites


def write_junit(run: Run, path: str | Path) -> None:
    tree = ET.ElementTree(to_junit(run))
    ET.indent(tree)
    tree.write(path, encoding="utf-8", xml_declaration=True)

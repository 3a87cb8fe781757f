"""Reports of a run: JUnit XML (CI), JSON (machines), a self-contained HTML page (people)."""

from __future__ import annotations

from .html_report import write_html
from .json_report import to_json, write_json
from .junit import write_junit

__all__ = ["to_json", "write_html", "write_json", "write_junit"]

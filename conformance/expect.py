"""Known failures (`--expect FILE`), as BoGo's config and WPT's expectation files do it.

An implementation that tracks what it does not do yet lists those cases with a reason; its CI then
stays green while only listed cases fail, and turns red when a listed case passes (an UNEXPECTED
PASS: the entry is stale, delete it) or an unlisted case fails. The file is plain text, one case a
line; a line starting with `#` is a comment:

    # my-codec: known failures
    rsp.decode.fallback-stub: we return an empty body, issue #12
    hostile.torn: not implemented yet

Exact case ids only (no globs): an entry names one case, so a new case never hides behind an old
reason. A listed case that errors (crash, hang) is an expected failure too; one that is skipped is
neither. A listed id the catalogue does not have is reported (a typo, or a case that was renamed).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import attrs

from .model import CaseResult, Verdict


class ExpectationsError(ValueError):
    """The file is not `case-id: reason` lines."""


@attrs.frozen
class Expectations:
    #: case id -> reason
    reasons: dict[str, str]
    source: str = ""

    @classmethod
    def parse(cls, text: str, source: str = "") -> Expectations:
        reasons: dict[str, str] = {}
        for n, raw in enumerate(text.splitlines(), 1):
            line = raw.strip()
            if line.startswith("#"):  # comments are whole lines: a reason may say "issue #12"
                continue
            if not line:
                continue
            cid, sep, reason = line.partition(":")
            cid, reason = cid.strip(), reason.strip()
            if not sep or not cid or " " in cid or not reason:
                raise ExpectationsError(f"{source or 'expectations'}:{n}: expected `case-id: reason`, got {raw!r}")
            if cid in reasons:
                raise ExpectationsError(f"{source or 'expectations'}:{n}: {cid} is listed twice")
            reasons[cid] = reason
        return cls(reasons, source)

    @classmethod
    def load(cls, path: str | Path) -> Expectations:
        return cls.parse(Path(path).read_text(encoding="utf-8"), str(path))

    def reason(self, case_id: str) -> str | None:
        return self.reasons.get(case_id)

    def judge(self, results: Iterable[CaseResult], known_ids: Iterable[str] = ()) -> Judged:
        expected, unexpected_pass, unexpected_fail = [], [], []
        for r in results:
            listed = r.case.id in self.reasons
            bad = r.verdict in (Verdict.FAIL, Verdict.ERROR)
            if bad and listed:
                expected.append(r)
            elif bad:
                unexpected_fail.append(r)
            elif listed and r.verdict is Verdict.PASS:
                unexpected_pass.append(r)
        known = set(known_ids)
        unknown = sorted(cid for cid in self.reasons if known and cid not in known)
        return Judged(tuple(expected), tuple(unexpected_pass), tuple(unexpected_fail), tuple(unknown))


@attrs.frozen
class Judged:
    """A run seen through the expectations."""

    expected_failures: tuple[CaseResult, ...]
    unexpected_passes: tuple[CaseResult, ...]
    unexpected_failures: tuple[CaseResult, ...]
    #: listed ids that are no case of the catalogue
    unknown_ids: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """Exit status 0: nothing failed that was not listed, nothing listed passed."""
        return not self.unexpected_failures and not self.unexpected_passes

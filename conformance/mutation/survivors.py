"""The checked-in classification of surviving mutants (`survivors.toml`), and the score.

A survivor the suite cannot kill is either `equivalent` (no input tells it from the reference:
the change is unobservable, e.g. a bound that a previous check already enforces) or a
`free-choice` (it changes only something SPEC.md leaves to the implementation: the row of the
free-choice table is named in `choice`). A third class, `open`, records a real survivor that no
case kills yet, with what the missing case must do (an expectation, as WPT's and BoGo's files
are): it still counts against the score, but it is no longer *new*. Each entry is keyed by the
mutant's stable key (`module:function:operator:hash`, see `operators.py`) and carries a one-line
reason; `change` repeats the mutation for the reader and is not used for matching.

score = killed / (total - equivalent - free-choice), counted over the mutants that ran; `open`
survivors stay in the denominator.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from .engine import Outcome

DEFAULT_FILE = Path(__file__).with_name("survivors.toml")
CLASSES = ("equivalent", "free-choice", "open")


@attrs.frozen(kw_only=True)
class Classification:
    key: str
    kind: str  #: "equivalent", "free-choice" or "open"
    reason: str
    choice: str = ""  #: for a free choice: the row of SPEC.md's free-choice table
    change: str = ""


def load(path: Path = DEFAULT_FILE) -> dict[str, Classification]:
    """The classifications by key; a malformed entry is an error (the file is checked in)."""
    if not path.exists():
        return {}
    data = tomllib.loads(path.read_text())
    out: dict[str, Classification] = {}
    for key, d in data.get("mutant", {}).items():
        kind = d.get("class")
        if kind not in CLASSES:
            raise ValueError(f"{path}: {key}: class must be one of {CLASSES}, not {kind!r}")
        if not str(d.get("reason", "")).strip():
            raise ValueError(f"{path}: {key}: a reason is required")
        if kind == "free-choice" and not str(d.get("choice", "")).strip():
            raise ValueError(f"{path}: {key}: a free choice names its row of the free-choice table")
        out[key] = Classification(key=key, kind=kind, reason=d["reason"], choice=d.get("choice", ""),
                                  change=d.get("change", ""))
    return out


def toml_entry(o: Outcome, kind: str = "equivalent", reason: str = "TODO") -> str:
    """A new entry for `survivors.toml` (what `run --template` prints for unclassified survivors)."""
    p = o.point
    change = p.describe().replace("\\", "\\\\").replace('"', '\\"')
    return f'[mutant."{p.key}"]\nclass = "{kind}"\nreason = "{reason}"\nchange = "{change}"\n'


@attrs.frozen(kw_only=True)
class Tally:
    """Counts for one module (or all of them)."""

    total: int = 0
    killed: int = 0  #: timeouts and crashes included
    timeouts: int = 0
    crashes: int = 0
    survived: int = 0  #: every survivor, classified or not
    equivalent: int = 0
    free_choice: int = 0
    open: int = 0  #: known real survivors (`open` entries): counted as survivors
    unclassified: int = 0
    stale: int = 0  #: classified, yet killed: the classification is out of date

    @property
    def score(self) -> float:
        denominator = self.total - self.equivalent - self.free_choice
        return self.killed / denominator if denominator else 1.0

    def add(self, o: Outcome, c: Classification | None) -> Tally:
        d: dict[str, int] = attrs.asdict(self)
        d["total"] += 1
        if o.killed:
            d["killed"] += 1
            d["timeouts"] += o.status == "timeout"
            d["crashes"] += o.status == "crash"
            d["stale"] += c is not None
        else:
            d["survived"] += 1
            if c is None:
                d["unclassified"] += 1
            elif c.kind == "equivalent":
                d["equivalent"] += 1
            elif c.kind == "open":
                d["open"] += 1
            else:
                d["free_choice"] += 1
        return Tally(**d)

    def as_json(self) -> dict[str, Any]:
        return {**attrs.asdict(self), "score": round(self.score, 4)}


def tally(outcomes: Iterable[Outcome], classes: Mapping[str, Classification]) -> dict[str, Tally]:
    """Per module, plus "overall"."""
    out: dict[str, Tally] = {}
    for o in outcomes:
        c = classes.get(o.point.key)
        out[o.point.module] = out.get(o.point.module, Tally()).add(o, c)
        out["overall"] = out.get("overall", Tally()).add(o, c)
    if "overall" in out:
        out["overall"] = out.pop("overall")
    return out


def unclassified(outcomes: Sequence[Outcome], classes: Mapping[str, Classification]) -> list[Outcome]:
    return [o for o in outcomes if not o.killed and o.point.key not in classes]


def stale(outcomes: Sequence[Outcome], classes: Mapping[str, Classification]) -> list[Outcome]:
    return [o for o in outcomes if o.killed and o.point.key in classes]

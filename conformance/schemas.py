"""The CDDL schemas of `protocol/schemas/` ([ADPT-18]), checked with pycddl.

    from conformance.schemas import validate, SchemaError
    validate("hello", hello_bytes_or_map)          # raises SchemaError("hello.slots.rkey: expected ...")
    check_answer("decode_response_batch", answer)  # None, or "answer.ok.responses[2].body: ..."

The verdict is always pycddl's (a maintained RFC 8610 validator); this module only picks the rule,
encodes Python values to CBOR, and turns pycddl's error text (`error validating at cbor location
/"ok"/"responses"/2/"body": expected type bytes, got ...`) into a path a person can read
(`answer.ok.responses[2].body: expected bytes or null, got 5`).

pycddl validates a document against the first rule of a schema, so each rule gets its own compiled
schema: `__root = RULE` followed by the rules it reaches (pycddl's validation time grows with the
size of the schema), compiled on first use and cached; verdicts are cached per (rule, CBOR bytes).
What pycddl 0.6 gets wrong, and the schemas work around: maps are not always closed (an unknown
key may pass); `.size` on `uint` lets negative numbers through, so the integer rules are ranges
(`u32 = 0..4294967295`); a named type choice as an array's element type is tried on its first
alternative only, so such choices are written inline (`[* (int / float / bool / bytes)]`).

This module imports neither `gossamer` nor the reference target: the schemas are the suite's own.
"""

from __future__ import annotations

import functools
import importlib.util
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import cbor2

try:
    import pycddl
except ImportError:  # pragma: no cover - a bare interpreter without the project's dependencies
    pycddl = None

FILES = ("common.cddl", "bootstrap.cddl", "adapter.cddl")


class SchemaError(Exception):
    """A value does not match its CDDL rule. `path` names where (`answer.ok.responses[2].body`)."""

    def __init__(self, path: str, problem: str, raw: str = "") -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem
        self.raw = raw  #: pycddl's own text


class SchemasUnavailable(RuntimeError):
    """pycddl is not installed (it is a dependency of the package: `pip install .` brings it)."""


def schema_dir() -> Path:
    """`protocol/schemas/` in a checkout, else the copy installed as `gossamer._protocol.schemas`.

    Found without importing `gossamer` (the suite's own code shares nothing with the codec).
    """
    source = Path(__file__).resolve().parent.parent / "protocol" / "schemas"
    if (source / FILES[0]).is_file():
        return source
    spec = importlib.util.find_spec("gossamer")  # finds the package without importing it
    for base in (spec.submodule_search_locations or []) if spec else []:
        installed = Path(base) / "_protocol" / "schemas"
        if (installed / FILES[0]).is_file():
            return installed
    raise FileNotFoundError(f"protocol/schemas/ not found (looked in {source} and the installed gossamer._protocol)")


@functools.cache
def source() -> str:
    """The three schema files, concatenated in dependency order."""
    d = schema_dir()
    return "\n".join((d / name).read_text(encoding="utf-8") for name in FILES)


_RULE = re.compile(r"^([A-Za-z_@$][A-Za-z0-9_@$.-]*)\s*=", re.MULTILINE)
_NAME = re.compile(r"[A-Za-z_@$][A-Za-z0-9_@$.-]*")
_NOISE = re.compile(r'"[^"]*"|;[^\n]*')  # text strings and comments name no rule


@functools.cache
def _blocks() -> dict[str, str]:
    """Rule name -> its definition (from its line up to the next rule's), in file order."""
    text = source()
    starts = [(m.start(), m.group(1)) for m in _RULE.finditer(text)]
    out: dict[str, str] = {}
    for i, (pos, name) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else len(text)
        out[name] = out.get(name, "") + text[pos:end]
    return out


@functools.cache
def rules() -> tuple[str, ...]:
    """Every rule name the schemas define, in file order."""
    return tuple(_blocks())


def _closure(rule: str) -> list[str]:
    """`rule` and every rule it names, directly or not, in file order."""
    blocks = _blocks()
    seen, todo = {rule}, [rule]
    while todo:
        body = _NOISE.sub(" ", blocks[todo.pop()].split("=", 1)[1])
        for name in _NAME.findall(body):
            if name in blocks and name not in seen:
                seen.add(name)
                todo.append(name)
    return [r for r in blocks if r in seen]


def available() -> bool:
    return pycddl is not None


@functools.cache
def _compiled(rule: str) -> Any:
    """One pycddl schema whose first rule is `rule`, holding only the rules it reaches: pycddl's
    validation time grows with the size of the whole schema (13 ms instead of 0.9 ms for one
    20-request answer when every rule is in it)."""
    if pycddl is None:
        raise SchemasUnavailable("pycddl is not installed: pip install pycddl (a dependency of gossamer-spec)")
    if rule not in _blocks():
        raise KeyError(f"no CDDL rule {rule!r} in protocol/schemas/")
    blocks = _blocks()
    return pycddl.Schema(f"__root = {rule}\n" + "".join(blocks[r] for r in _closure(rule)))


def has_rule(rule: str) -> bool:
    return rule in rules()


def validate(rule: str, value: Any, *, root: str | None = None) -> None:
    """Check `value` (a Python value, or the CBOR bytes of one) against CDDL rule `rule`.

    Raises SchemaError naming the path from `root` (default: the rule's name). A bootstrap message
    with its u32 length prefix is accepted too when `rule` is a bootstrap rule and the prefix matches.
    """
    root = root or rule
    if isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
        if len(data) >= 4 and int.from_bytes(data[:4], "little") == len(data) - 4:
            data = data[4:]  # a length-prefixed bootstrap message ([BOOT-4])
        try:
            decoded = cbor2.loads(data)
        except Exception as e:
            raise SchemaError(root, f"not one well-formed CBOR item ({e})") from None
    else:
        decoded = value
        try:
            data = cbor2.dumps(value)
        except Exception as e:
            raise SchemaError(root, f"cannot be encoded as CBOR ({type(e).__name__}: {e})") from None
    raw = _pycddl_verdict(rule, data)
    if raw is not None:
        raise _explain(raw, decoded, root)


@functools.lru_cache(maxsize=8192)
def _pycddl_verdict(rule: str, data: bytes) -> str | None:
    """pycddl's error text for `data` against `rule`, None when it matches. Cached: a mutation
    run sends the same cases to hundreds of mutants, most of which answer the same bytes."""
    schema = _compiled(rule)  # KeyError for an unknown rule, SchemasUnavailable without pycddl
    try:
        schema.validate_cbor(data)
    except Exception as e:  # pycddl.ValidationError
        return str(e) or "does not match"
    return None


def check(rule: str, value: Any, *, root: str | None = None) -> str | None:
    """`validate` as a message: None when the value matches."""
    try:
        validate(rule, value, root=root)
    except SchemaError as e:
        return str(e)
    return None


def answer_rule(op: str, answer: Mapping[str, Any]) -> str | None:
    """The rule an op's answer must match: `OP-answer` for `{"ok"}`, `error-answer` for `{"error"}`.

    None when the schemas do not describe the op (the suite's internal `nic_*` and `client_run`
    drivers, or an op no adapter knows).
    """
    if "error" in answer:
        return "error-answer"
    rule = f"{op}-answer"
    return rule if has_rule(rule) else None


def check_answer(op: str, answer: Mapping[str, Any]) -> str | None:
    """None when `answer` matches its op's schema, else `answer.<path>: <problem>`."""
    rule = answer_rule(op, answer)
    return None if rule is None else check(rule, answer, root="answer")


def check_request(op: str, request: Mapping[str, Any]) -> str | None:
    """None when `{"op": op, **args}` matches `OP-request` (or the op has no schema)."""
    rule = f"{op}-request"
    return check(rule, {**request, "op": op}, root="request") if has_rule(rule) else None


# -- pycddl's error text to a path ------------------------------------------------------------

_LINE = re.compile(r"error validating.*? at cbor location (?P<loc>.*?): (?P<msg>.*)$")
_SEG = re.compile(r'/(?:"(?P<key>[^"]*)"|(?P<idx>\d+)|(?P<other>[^/]*))')
_EXPECT = (
    (re.compile(r"^expected type (\w+)"), lambda m: m.group(1)),
    (re.compile(r'^expected value (".*?"|\S+) got'), lambda m: m.group(1)),
    (re.compile(r"^expected integer to be in range (-?\d+) <= value <= (-?\d+)"),
     lambda m: f"an integer in {m.group(1)}..{m.group(2)}"),
    (re.compile(r"^expected uint to be in range (\d+) <= value <= (\d+)"),
     lambda m: f"a size in {m.group(1)}..{m.group(2)}"),
    (re.compile(r"^expected map object"), lambda m: "a map"),
    (re.compile(r"^expected array type"), lambda m: "an array"),
    (re.compile(r"^expected array with length (\d+)"), lambda m: f"an array of {m.group(1)}"),
    (re.compile(r"^expected .* \.size (\d+)"), lambda m: f"size {m.group(1)}"),
)
_MISSING = re.compile(r'^object missing key: "*(?P<key>[^"]*)"*')


def _segments(loc: str) -> list[str | int]:
    out: list[str | int] = []
    for m in _SEG.finditer(loc):
        if m.group("key") is not None:
            out.append(m.group("key"))
        elif m.group("idx") is not None:
            out.append(int(m.group("idx")))
        elif m.group("other"):
            out.append(m.group("other"))
    return out


def _path(root: str, segs: list[str | int]) -> str:
    return root + "".join(f"[{s}]" if isinstance(s, int) else f".{s}" for s in segs)


def _at(value: Any, segs: list[str | int]) -> tuple[bool, Any]:
    for s in segs:
        try:
            value = value[s]
        except (KeyError, IndexError, TypeError):
            return False, None
    return True, value


def _show(v: Any) -> str:
    if isinstance(v, (bytes, bytearray)):
        return f"{len(v)} bytes" if len(v) > 16 else f"h'{bytes(v).hex()}'"
    if isinstance(v, dict):
        return "a map"
    if isinstance(v, (list, tuple)):
        return f"an array of {len(v)}"
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        text = v if len(v) <= 40 else v[:37] + "..."
        return '"' + text.replace('"', '\\"') + '"'
    s = repr(v)
    return s if len(s) <= 40 else s[:37] + "..."


def _order(value: Any, segs: list[str | int]) -> list[int]:
    """Where a path lies in the document: array indexes, and map keys by their place in the map."""
    out = []
    for s in segs:
        if isinstance(s, int):
            out.append(s)
        elif isinstance(value, Mapping):
            keys = list(value)
            out.append(keys.index(s) if s in keys else len(keys))
        else:
            out.append(0)
        ok, value = _at(value, [s])
        if not ok:
            value = None
    return out


def _explain(text: str, value: Any, root: str) -> SchemaError:
    """The first mismatch in document order (pycddl lists them all, in no fixed order), the
    alternatives it names merged into one sentence; the others are counted."""
    found: dict[tuple[str | int, ...], list[str]] = {}
    for line in text.splitlines():
        m = _LINE.search(line.strip())
        if m:
            found.setdefault(tuple(_segments(m.group("loc"))), []).append(m.group("msg").strip())
    if not found:
        return SchemaError(root, text.strip() or "does not match", text)
    # a choice is reported at its own location and at the deeper ones of its alternatives: keep
    # the deepest (the location no other one extends)
    leaves = [loc for loc in found if not any(len(o) > len(loc) and o[: len(loc)] == loc for o in found)]
    leaves.sort(key=lambda loc: _order(value, list(loc)))
    segs = list(leaves[0])
    more = f" (and {len(leaves) - 1} more)" if len(leaves) > 1 else ""
    msgs = found[leaves[0]]
    missing = list(dict.fromkeys(m.group("key") for msg in msgs if (m := _MISSING.match(msg))))
    if len(missing) == 1:
        return SchemaError(_path(root, [*segs, missing[0]]), "missing" + more, text)
    if missing:
        return SchemaError(_path(root, segs), f"missing keys {', '.join(missing)}{more}", text)
    wanted: list[str] = []
    other: list[str] = []
    for msg in msgs:
        for pat, say in _EXPECT:
            m = pat.match(msg)
            if m:
                if (w := say(m)) not in wanted:
                    wanted.append(w)
                break
        else:
            if msg not in other:
                other.append(msg)
    if len(wanted) > 4:
        wanted = [f"one of {', '.join(wanted[:3])}, ... ({len(wanted)} choices)"]
    problem = "; ".join((["expected " + " or ".join(wanted)] if wanted else []) + other)
    ok, got = _at(value, segs)
    if ok:
        problem += f", got {_show(got)}"
    return SchemaError(_path(root, segs), problem + more, text)

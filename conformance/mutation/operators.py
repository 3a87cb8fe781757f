"""Mutation points: every place an AST operator can make one small change, enumerated in order.

A module's source is parsed and walked in source order (`_walk`); each node an operator applies
to becomes one or more `Point`s (one per variant). The walk is a pure function of the source, so
`apply(source, point)` parses again, walks again, and changes the node at the same position.

A point's stable identity (`Point.key`) is `module:function:operator:hash`, the hash over the
original line and the mutated line (stripped): it survives edits elsewhere in the file, unlike a
line number. Two identical mutations in one function get `~2`, `~3` in walk order.

Not mutated (they change nothing a peer or the adapter protocol can see, by construction):
docstrings, annotations, decorators (`attrs.frozen(slots=True)`), `if TYPE_CHECKING:` blocks,
f-strings, the clause-id and detail strings given to error constructors and `Response.error`
([ERR-3]), and `__repr__` / `__str__`.
"""

from __future__ import annotations

import ast
import hashlib
from collections.abc import Callable, Iterator
from typing import Any

import attrs

#: every operator, with what it does (the `--list-operators` text and the README table)
OPERATORS: dict[str, str] = {
    "cmp-boundary": "a comparison moved across its boundary: < <=, > >=, is/in kept",
    "cmp-negate": "a comparison negated: < >=, == !=, is / is not, in / not in",
    "bool-swap": "`and` and `or` swapped",
    "cond-negate": "an if / while / conditional-expression / comprehension condition negated",
    "cond-true": "such a condition forced True",
    "cond-false": "such a condition forced False",
    "const": "an integer constant +1, -1 or 0; True and False swapped",
    "const-str": "a string or bytes constant emptied (or a one-char one given when empty)",
    "code-swap": "an ErrorCode member replaced by the next one in SPEC.md section 9's order",
    "arith": "an arithmetic or bitwise operator swapped (+ -, * //, << >>, & |, ^ |, %  //)",
    "unary-drop": "`not`, unary minus or `~` removed",
    "raise-del": "a raise statement deleted",
    "return-none": "a returned value replaced by None",
    "call-del": "a call statement (its value unused) deleted",
    "slice-bound": "a slice bound moved by one (+1 or -1)",
    "index-shift": "a computed subscript index moved by +1",
}

_CMP_BOUNDARY: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt,
}
_CMP_NEGATE: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.GtE, ast.LtE: ast.Gt, ast.Gt: ast.LtE, ast.GtE: ast.Lt, ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq, ast.Is: ast.IsNot, ast.IsNot: ast.Is, ast.In: ast.NotIn, ast.NotIn: ast.In,
}
_ARITH: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.FloorDiv, ast.FloorDiv: ast.Mult, ast.Div: ast.Mult,
    ast.Mod: ast.FloorDiv, ast.LShift: ast.RShift, ast.RShift: ast.LShift, ast.BitAnd: ast.BitOr,
    ast.BitOr: ast.BitAnd, ast.BitXor: ast.BitOr, ast.Pow: ast.Mult,
}
#: calls whose string arguments are detail or clause texts ([ERR-3]): never mutated
_TEXT_CALLS = ("Error", "Exception", "Warning", "_malformed", "error", "print", "warn", "bad", "_fail")
_SKIP_FUNCTIONS = frozenset({"__repr__", "__str__"})

#: SPEC.md section 9's codes in table order (`code-swap` moves each to the next one, cyclically)
ERROR_CODES = (
    "OK", "FALLBACK", "UNKNOWN_CLOSURE", "BAD_PROPERTY", "TRUNCATED", "STALE_SEQUENCE", "MALFORMED_CBOR",
    "OVERSIZE", "FALLBACK_TIMEOUT", "TORN", "BAD_HEADER", "CLOSURE_RAISED", "VERSION_MISMATCH", "BAD_FRAME",
    "PEER_FAILED", "NESTED_APPLY", "NOREF", "BAD_ARGUMENT", "SLOT_BUSY", "BAD_CAPTURE", "BAD_RESULT",
)


@attrs.frozen(kw_only=True)
class Point:
    """One mutant: where (module, function, line), which operator, and the change it makes."""

    module: str  #: dotted module name, e.g. `gossamer.batch`
    function: str  #: qualified name of the enclosing function or class, `<module>` at top level
    operator: str
    line: int  #: 1-based, for the report only (the key does not use it)
    site: int  #: position of the node in the walk
    variant: int  #: which of the operator's variants at that node
    original: str  #: the original line, stripped
    mutated: str  #: the same line after the change, stripped
    key: str = ""  #: stable identity, see the module docstring
    #: the lines a case must execute to meet the mutant (the innermost statement, or a compound
    #: statement's header); (0, 0) when the mutant acts at import (module and class level, defaults)
    span: tuple[int, int] = (0, 0)

    def describe(self) -> str:
        return f"{self.original}  ->  {self.mutated}"


@attrs.frozen
class _Site:
    node: ast.AST
    parent: ast.AST
    field: str
    index: int | None  #: position in the parent's list field, None for a single-node field
    function: str
    span: tuple[int, int]  #: lines of the innermost statement (its header, for a compound one)
    in_body: bool  #: inside a function body (else it runs at import: default values, class bodies)


def _is_docstring(stmt: ast.stmt, body: list[ast.stmt]) -> bool:
    return bool(body and body[0] is stmt and isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)
            and isinstance(stmt.value.value, str))


def _call_name(call: ast.Call) -> str:
    f = call.func
    if isinstance(f, ast.Name):
        return f.id
    if isinstance(f, ast.Attribute):
        return f.attr
    return ""


def _walk(tree: ast.Module) -> list[_Site]:
    """Every mutable node with its parent, in source order (depth first, fields in order)."""
    out: list[_Site] = []

    def visit(node: ast.AST, function: str, text_args: bool, span: tuple[int, int], in_body: bool) -> None:
        for field, value in ast.iter_fields(node):
            if field in ("annotation", "returns", "type_comment", "decorator_list"):
                continue
            if isinstance(value, list):
                items = list(enumerate(value))
            elif isinstance(value, ast.AST):
                items = [(-1, value)]
            else:
                continue
            for i, child in items:
                if not isinstance(child, ast.AST):
                    continue
                if isinstance(child, ast.stmt) and isinstance(value, list) and _is_docstring(child, value):
                    continue
                if isinstance(child, ast.JoinedStr):
                    continue
                if (isinstance(child, ast.If) and isinstance(child.test, ast.Name)
                        and child.test.id == "TYPE_CHECKING"):
                    continue
                if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) and child.name in _SKIP_FUNCTIONS:
                    continue
                # string arguments of error constructors are detail / clause texts ([ERR-3])
                child_text = text_args or (isinstance(node, ast.Call) and field in ("args", "keywords")
                                           and _call_name(node).endswith(_TEXT_CALLS))
                if child_text and isinstance(child, ast.Constant) and isinstance(child.value, str):
                    continue
                child_span = span
                if isinstance(child, (ast.stmt, ast.excepthandler)):
                    body = getattr(child, "body", None)
                    first = child.lineno
                    child_span = ((first, max(first, body[0].lineno - 1)) if isinstance(body, list) and body
                                  else (first, child.end_lineno or first))
                child_in_body = in_body or (isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                                            and field == "body")
                out.append(_Site(child, node, field, None if i < 0 else i, function, child_span, child_in_body))
                inner = function
                if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    inner = child.name if function == "<module>" else f"{function}.{child.name}"
                visit(child, inner, child_text and isinstance(child, ast.keyword), child_span, child_in_body)

    visit(tree, "<module>", False, (0, 0), False)
    return out


def _loc(new: ast.AST, old: ast.AST) -> ast.AST:
    return ast.fix_missing_locations(ast.copy_location(new, old))


def _plus(e: ast.expr, k: int) -> ast.expr:
    if isinstance(e, ast.Constant) and type(e.value) is int:
        return ast.Constant(e.value + k)
    return ast.BinOp(e, ast.Add() if k > 0 else ast.Sub(), ast.Constant(abs(k)))


def _is_condition(site: _Site) -> bool:
    p = site.parent
    return ((isinstance(p, (ast.If, ast.While, ast.IfExp)) and site.field == "test")
            or (isinstance(p, ast.comprehension) and site.field == "ifs"))


Variant = tuple[str, Callable[[], Any]]  #: (operator, a function building the replacement; None deletes)


def _variants(site: _Site) -> list[Variant]:
    n = site.node
    out: list[Variant] = []
    if isinstance(n, ast.expr) and _is_condition(site) and not isinstance(n, ast.Constant):
        out.append(("cond-negate", lambda: ast.UnaryOp(ast.Not(), n)))
        out.append(("cond-true", _const(True)))
        out.append(("cond-false", _const(False)))
    if isinstance(n, ast.Compare):
        for i, op in enumerate(n.ops):
            for name, table in (("cmp-boundary", _CMP_BOUNDARY), ("cmp-negate", _CMP_NEGATE)):
                if type(op) in table:
                    new_op = table[type(op)]

                    def make(i: int = i, new_op: type[ast.cmpop] = new_op) -> ast.expr:
                        ops = list(n.ops)
                        ops[i] = new_op()
                        return ast.Compare(n.left, ops, n.comparators)

                    out.append((name, make))
    elif isinstance(n, ast.BoolOp):
        out.append(("bool-swap", lambda: ast.BoolOp(ast.Or() if isinstance(n.op, ast.And) else ast.And(), n.values)))
    elif isinstance(n, ast.BinOp) and type(n.op) in _ARITH:
        out.append(("arith", lambda: ast.BinOp(n.left, _ARITH[type(n.op)](), n.right)))
    elif isinstance(n, ast.AugAssign) and type(n.op) in _ARITH:
        out.append(("arith", lambda: ast.AugAssign(n.target, _ARITH[type(n.op)](), n.value)))
    elif isinstance(n, ast.UnaryOp) and isinstance(n.op, (ast.Not, ast.USub, ast.Invert)):
        if not (isinstance(n.op, ast.USub) and isinstance(n.operand, ast.Constant)):
            out.append(("unary-drop", lambda: n.operand))
        else:  # -1 as a constant: the const operator's job
            v = n.operand.value
            if type(v) is int:
                out += [("const", _const(k)) for k in _int_variants(-v)]
    elif isinstance(n, ast.Constant) and not (isinstance(site.parent, ast.UnaryOp)
                                              and isinstance(site.parent.op, ast.USub)):
        v = n.value
        if isinstance(v, bool):
            out.append(("const", _const(not v)))
        elif isinstance(v, int):
            out += [("const", _const(k)) for k in _int_variants(v)]
        elif isinstance(v, str):
            out.append(("const-str", _const("" if v else "x")))
        elif isinstance(v, bytes):
            out.append(("const-str", _const(b"" if v else b"x")))
    elif (isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == "ErrorCode"
          and n.attr in ERROR_CODES and isinstance(n.ctx, ast.Load)):
        nxt = ERROR_CODES[(ERROR_CODES.index(n.attr) + 1) % len(ERROR_CODES)]
        out.append(("code-swap", lambda: ast.Attribute(ast.Name("ErrorCode", ast.Load()), nxt, ast.Load())))
    elif isinstance(n, ast.Raise):
        out.append(("raise-del", ast.Pass))
    elif isinstance(n, ast.Return) and n.value is not None and not (
            isinstance(n.value, ast.Constant) and n.value.value is None):
        out.append(("return-none", lambda: ast.Return(ast.Constant(None))))
    elif isinstance(n, ast.Expr) and isinstance(n.value, (ast.Call, ast.Await)):
        out.append(("call-del", ast.Pass))
    elif isinstance(n, ast.Slice):
        for field in ("lower", "upper"):
            b = getattr(n, field)
            if b is not None:
                for k in (1, -1):
                    def make_slice(field: str = field, b: ast.expr = b, k: int = k) -> ast.expr:
                        s = ast.Slice(n.lower, n.upper, n.step)
                        setattr(s, field, _plus(b, k))
                        return s

                    out.append(("slice-bound", make_slice))
    elif (isinstance(n, ast.Subscript) and isinstance(n.ctx, ast.Load)
          and isinstance(n.slice, (ast.Name, ast.BinOp))):
        out.append(("index-shift", lambda: ast.Subscript(n.value, _plus(n.slice, 1), ast.Load())))
    return out


def _const(value: str | bytes | int) -> Callable[[], ast.expr]:
    return lambda: ast.Constant(value)


def _int_variants(v: int) -> list[int]:
    out = [v + 1, v - 1]
    if v not in (-1, 0, 1):
        out.append(0)
    return out


def _segment(source_lines: list[str], node: ast.AST) -> tuple[str, str, str]:
    """(line before the node, the node's text on that line, the rest): UTF-8 column offsets."""
    line = source_lines[node.lineno - 1].encode()  # type: ignore[attr-defined]
    col = node.col_offset  # type: ignore[attr-defined]
    end = node.end_col_offset if node.end_lineno == node.lineno else len(line)  # type: ignore[attr-defined]
    return line[:col].decode(), line[col:end].decode(), line[end:].decode()


def _unparse(node: ast.AST) -> str:
    if isinstance(node, ast.Pass):
        return "pass"
    if isinstance(node, ast.Slice):  # ast.unparse omits the brackets' content form for slices
        parts = [ast.unparse(x) if x is not None else "" for x in (node.lower, node.upper)]
        return ":".join(parts) + (f":{ast.unparse(node.step)}" if node.step is not None else "")
    return ast.unparse(node)


def _lines(source_lines: list[str], node: ast.AST, new: ast.AST) -> tuple[str, str]:
    before, text, after = _segment(source_lines, node)
    multi = node.end_lineno != node.lineno  # type: ignore[attr-defined]
    new_text = _unparse(new)
    if isinstance(new, ast.Pass) and not multi:
        return (before + text + after).strip(), (before + "pass").strip()
    if multi:
        return (before + text).strip() + " ...", (before + new_text).strip()
    return (before + text + after).strip(), (before + new_text + after).strip()


def enumerate_points(module: str, source: str) -> list[Point]:
    """Every mutant of `source`, in walk order, keys unique within the module."""
    tree = ast.parse(source)
    lines = source.splitlines()
    out: list[Point] = []
    seen: dict[str, int] = {}
    for i, site in enumerate(_walk(tree)):
        for v, (op, build) in enumerate(_variants(site)):
            new = build()
            original, mutated = _lines(lines, site.node, new)
            if original == mutated:
                continue
            h = hashlib.sha1(f"{original}\n{mutated}".encode()).hexdigest()[:8]
            key = f"{module}:{site.function}:{op}:{h}"
            seen[key] = seen.get(key, 0) + 1
            if seen[key] > 1:
                key = f"{key}~{seen[key]}"
            out.append(Point(module=module, function=site.function, operator=op,
                             line=site.node.lineno, site=i, variant=v,  # type: ignore[attr-defined]
                             original=original, mutated=mutated, key=key,
                             span=site.span if site.in_body else (0, 0)))
    return out


def apply(source: str, point: Point) -> ast.Module:
    """The module's AST with `point`'s one change made (a fresh parse; `source` is not touched)."""
    tree = ast.parse(source)
    site = _walk(tree)[point.site]
    op, build = _variants(site)[point.variant]
    if op != point.operator:
        raise ValueError(f"{point.key}: the source changed since the point was enumerated")
    new = _loc(build(), site.node)
    if site.index is None:
        setattr(site.parent, site.field, new)
    else:
        getattr(site.parent, site.field)[site.index] = new
    return ast.fix_missing_locations(tree)


def iter_modules(points: list[Point]) -> Iterator[str]:
    seen: set[str] = set()
    for p in points:
        if p.module not in seen:
            seen.add(p.module)
            yield p.module

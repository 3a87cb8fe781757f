"""The limits table has teeth: for every row, a reference that is off by one at that limit fails at
least one of the row's generated cases, and the unpatched reference passes them all.

Each off-by-one implementation is the reference patched in process: a constant moved by one step
(`MAX_SLOT_SIZE`, `MAX_DEPTH`, ...), or a small wrapper that gives the answer a `<` / `<=` mix-up
or a swapped check would give. Every row of `LIMITS` must have at least one entry in `OFF_BY_ONE`,
so a new limit comes with its proof.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import attrs
import pytest

import gossamer.batch
import gossamer.bootstrap
import gossamer.fallback
import gossamer.layout
import gossamer.request
import gossamer.response
import gossamer.serial
import gossamer.shape
import gossamer.slot
import gossamer.slot_state
import gossamer.trust_ids
import gossamer.vtable
from conformance.cases import catalogue
from conformance.cases.limits import LIMITS, SIDES, row_cases
from conformance.model import Verdict
from conformance.runner import run
from conformance.targets import reference as ref_target
from conformance.targets.reference import ReferenceTarget
from gossamer.errors import ErrorCode, LocalProtocolError, RemoteProtocolError
from gossamer.response import ResponseBatch
from gossamer.slot import SlotConfig

Patch = Callable[[pytest.MonkeyPatch], None]


def _set(*where: tuple[Any, str, Any]) -> Patch:
    """Move constants: each `(module, name, value)`."""
    def patch(mp: pytest.MonkeyPatch) -> None:
        for mod, name, value in where:
            mp.setattr(mod, name, value)
    return patch


def _both(name: str, value: int) -> Patch:
    """A constant the slot module and the hello reader each import."""
    return _set((gossamer.slot, name, value), (gossamer.bootstrap, name, value))


def _bad(code: ErrorCode) -> RemoteProtocolError:
    return RemoteProtocolError(code, "TEST", "off by one")


def _words(image: Any) -> int:
    return int.from_bytes(bytes(image[4:6]), "little") if len(image) >= 6 else -1


def _wrap_decode(pre: Callable[..., None] | None = None,
                 post: Callable[[RemoteProtocolError, Any, Any], None] | None = None) -> Patch:
    """Wrap the request decoder where the reference target and the trustee slot look it up."""
    def patch(mp: pytest.MonkeyPatch) -> None:
        orig = gossamer.batch.decode_request_batch

        def dec(image: Any, shapes: Any, config: SlotConfig, *a: Any) -> Any:
            if pre is not None:
                pre(bytes(image), config)
            try:
                return orig(image, shapes, config, *a)
            except RemoteProtocolError as e:
                if post is not None:
                    post(e, bytes(image), config)
                raise
        mp.setattr(ref_target, "decode_request_batch", dec)
        mp.setattr(gossamer.slot_state, "decode_request_batch", dec)
    return patch


def _wrap_header(pre: Callable[[bytes, SlotConfig], None]) -> Patch:
    """Wrap [DEC-1] steps 1-6 (`read_header`), shared by the request and response decoders."""
    def patch(mp: pytest.MonkeyPatch) -> None:
        orig = gossamer.batch.read_header

        def rh(image: Any, config: SlotConfig, *a: Any, **kw: Any) -> Any:
            pre(bytes(image), config)
            return orig(image, config, *a, **kw)
        mp.setattr(gossamer.batch, "read_header", rh)
        mp.setattr(gossamer.response, "read_header", rh)
    return patch


def _wrap_rsp_decode(pre: Callable[[bytes, SlotConfig], None] | None = None, *,
                     spare_ok: bool = False) -> Patch:
    def patch(mp: pytest.MonkeyPatch) -> None:
        orig = gossamer.response.decode_response_batch

        def dec(image: Any, specs: Any, config: SlotConfig, *a: Any) -> Any:
            b = bytes(image)
            if pre is not None:
                pre(b, config)
            try:
                return orig(image, specs, config, *a)
            except RemoteProtocolError as e:
                if spare_ok and e.code is ErrorCode.BAD_HEADER and len(b) >= 8 and b[7]:
                    return ResponseBatch(seq=int.from_bytes(b[:4], "little"), status=b[7], responses=(), detail="")
                raise
        mp.setattr(ref_target, "decode_response_batch", dec)
    return patch


def _when(cond: Callable[[bytes, SlotConfig], bool], code: ErrorCode) -> Callable[[bytes, SlotConfig], None]:
    def pre(b: bytes, config: SlotConfig) -> None:
        if cond(b, config):
            raise _bad(code)
    return pre


def _u32(b: bytes, off: int) -> int:
    return int.from_bytes(b[off : off + 4], "little") if len(b) >= off + 4 else -1


def _frame_limit(delta: int) -> Patch:
    def patch(mp: pytest.MonkeyPatch) -> None:
        orig = gossamer.fallback.decode_frame_header
        mp.setattr(gossamer.fallback, "decode_frame_header", lambda data, limit=64 << 20: orig(data, limit + delta))
    return patch


def _config_limit(delta: int) -> Patch:
    def patch(mp: pytest.MonkeyPatch) -> None:
        orig = ref_target.config_of
        mp.setattr(ref_target, "config_of", lambda a: attrs.evolve(orig(a), fallback_limit=orig(a).fallback_limit
                                                                     + delta))
    return patch


def _attach_trusting_stub(delta: int) -> Patch:
    """A receiver that reads `payload_len` bytes of the frame instead of checking its length."""
    def patch(mp: pytest.MonkeyPatch) -> None:
        orig = vars(ref_target)["attach_payload"]

        def attach(stub: Any, payload: bytes, shape: Any) -> Any:
            if stub.fallback_len is not None and len(payload) == stub.fallback_len + delta:
                payload = (payload + bytes(max(0, -delta)))[: stub.fallback_len]
            return orig(stub, payload, shape)
        mp.setattr(ref_target, "attach_payload", attach)
    return patch


def _refuse_bytes1(mp: pytest.MonkeyPatch) -> None:
    orig = gossamer.layout.Layout.parse

    def parse(cls: Any, spec: Any) -> Any:
        if isinstance(spec, str) and re.search(r"(^|\s)bytes1(\s|$)", spec):
            raise LocalProtocolError(ErrorCode.NOREF, "TEST", "N must be 2..65536")
        return orig(spec)
    mp.setattr(gossamer.layout.Layout, "parse", classmethod(parse))


def _cbor_overread(mp: pytest.MonkeyPatch) -> None:
    """A checker that reads one byte past the end (as if the buffer were followed by a zero)."""
    def loads(data: Any) -> Any:
        b = bytes(data)
        end = gossamer.serial.item_end(b + b"\0")
        if end not in (len(b), len(b) + 1):
            raise gossamer.serial._malformed("trailing bytes")
        return None
    mp.setattr(gossamer.serial, "loads", loads)


def _oversize_as_truncated(e: RemoteProtocolError, b: bytes, config: SlotConfig) -> None:
    if e.code is ErrorCode.OVERSIZE:  # checks "runs past the trailer" before "n > S"
        raise _bad(ErrorCode.TRUNCATED)


def _hello_wrap(mask: bool) -> Patch:
    def patch(mp: pytest.MonkeyPatch) -> None:
        orig = vars(ref_target)["hello_from_map"]

        def h(m: Any) -> Any:
            if isinstance(m, dict):
                if mask:  # 16-bit fields stored without a range check
                    m = {**m, **{k: m[k] & 0xFFFF for k in ("machine", "threads") if isinstance(m.get(k), int)}}
                elif 0xFFFF in (m.get("machine"), m.get("threads")):  # `>= 0xFFFF` for `> 0xFFFF`
                    raise _bad(ErrorCode.BAD_HEADER)
            return orig(m)
        mp.setattr(ref_target, "hello_from_map", h)
    return patch


def _imm(refuse_top: bool) -> Patch:
    def patch(mp: pytest.MonkeyPatch) -> None:
        orig = vars(ref_target)["make_imm"]

        def make_imm(slot_id: int, seq: int) -> int:
            if refuse_top and slot_id >= 0xFFFF:
                raise LocalProtocolError(ErrorCode.BAD_ARGUMENT, "TEST", "off by one")
            return int(orig(slot_id & 0xFFFF, seq))
        mp.setattr(ref_target, "make_imm", make_imm)
    return patch


def _mask_arg(op: str, key: str, mask: int) -> Patch:
    """An implementation of `op` that keeps only the low bits of `key` instead of checking its range."""
    def patch(mp: pytest.MonkeyPatch) -> None:
        orig = getattr(ReferenceTarget, f"op_{op}")
        mp.setattr(ReferenceTarget, f"op_{op}",
                   lambda self, a: orig(self, {**a, key: a[key] & mask} if isinstance(a.get(key), int) else a))
    return patch


def _pointer_unchecked(mp: pytest.MonkeyPatch) -> None:
    orig = vars(gossamer.batch)["check_request"]
    mp.setattr(gossamer.batch, "check_request", lambda r, shape: orig(r._replace(property=r.property & ((1 << 48) - 1)),
                                                                       shape))


def _inline_size(delta: int) -> Patch:
    def patch(mp: pytest.MonkeyPatch) -> None:
        orig = gossamer.response._inline_size
        mp.setattr(gossamer.response, "_inline_size", lambda r: max(8, orig(r) + delta) if orig(r) > 8 else 8)
    return patch


def _seq_wraps_to_zero(mp: pytest.MonkeyPatch) -> None:
    mp.setattr(ref_target, "next_seq", lambda s: (s + 1) & 0xFFFFFFFF)


def _table_len_k_refused(b: bytes, config: SlotConfig) -> bool:
    return len(b) >= 8 and config.table_k > 0 and b[7] == config.table_k


#: row name -> [(what the implementation gets wrong, the patch that makes the reference do it)]
OFF_BY_ONE: dict[str, list[tuple[str, Patch]]] = {
    "slot-size": [("S = 64 refused", _both("MIN_SLOT_SIZE", 128)),
                  ("S = 65536 refused", _both("MAX_SLOT_SIZE", 65472)),
                  ("S = 65600 accepted", _both("MAX_SLOT_SIZE", 65600))],
    "table-k": [("K = 32 refused", _both("MAX_TABLE_K", 31)), ("K = 33 accepted", _both("MAX_TABLE_K", 33)),
                ("table_len = K refused", _wrap_decode(pre=_when(_table_len_k_refused, ErrorCode.BAD_HEADER)))],
    "count": [("255 entries refused", _set((gossamer.batch, "MAX_COUNT", 254), (gossamer.response, "MAX_COUNT", 254))),
              ("256 entries in one batch", _set((gossamer.batch, "MAX_COUNT", 256)))],
    "words": [("L = S refused", _wrap_header(_when(lambda b, c: 8 * _words(b) == c.slot_size, ErrorCode.BAD_HEADER))),
              ("L = 16 refused (BAD_HEADER for TRUNCATED)",
               _wrap_header(_when(lambda b, c: _words(b) == 2, ErrorCode.BAD_HEADER))),
              ("words 1 read as an image (TRUNCATED for BAD_HEADER)",
               _wrap_header(_when(lambda b, c: _words(b) == 1, ErrorCode.TRUNCATED)))],
    "image-length": [("a short image is BAD_HEADER", _wrap_header(
                          _when(lambda b, c: 8 * _words(b) > len(b), ErrorCode.BAD_HEADER))),
                     ("fewer than 8 bytes is BAD_HEADER", _wrap_header(
                         _when(lambda b, c: len(b) < 8, ErrorCode.BAD_HEADER)))],
    "fallback-limit": [("a frame payload at the limit is OVERSIZE", _frame_limit(-1)),
                       ("a frame payload one over the limit accepted", _frame_limit(+1)),
                       ("a stub at the limit is OVERSIZE", _config_limit(-1)),
                       ("a stub one over the limit accepted", _config_limit(+1))],
    "frame-payload-length": [("a frame one byte longer than its stub is cut", _attach_trusting_stub(+1)),
                             ("a frame one byte shorter than its stub is padded", _attach_trusting_stub(-1))],
    "layout-width": [("bytes65536 refused", _set((gossamer.layout, "MAX_BYTES_FIELD", 65535))),
                     ("bytes65537 accepted", _set((gossamer.layout, "MAX_BYTES_FIELD", 65537))),
                     ("bytes1 refused", _refuse_bytes1)],
    "cbor-depth": [("depth 64 refused", _set((gossamer.serial, "MAX_DEPTH", 63))),
                   ("depth 65 accepted", _set((gossamer.serial, "MAX_DEPTH", 65)))],
    "cbor-size": [("reads one byte past the item", _cbor_overread)],
    "param-length": [("TRUNCATED checked before OVERSIZE", _wrap_decode(post=_oversize_as_truncated)),
                     ("n = S is OVERSIZE", _wrap_decode(pre=_when(lambda b, c: _u32(b, 24) == c.slot_size,
                                                                  ErrorCode.OVERSIZE))),
                     ("a response body of n = S is OVERSIZE", _wrap_rsp_decode(
                         _when(lambda b, c: _u32(b, 12) == c.slot_size, ErrorCode.OVERSIZE)))],
    "hello-size": [("a 1 MiB message is OVERSIZE", _set((gossamer.bootstrap, "MAX_MESSAGE", (1 << 20) - 1))),
                   ("1 MiB + 1 accepted", _set((gossamer.bootstrap, "MAX_MESSAGE", (1 << 20) + 1)))],
    "hello-fields": [("machine or threads 0xFFFF refused", _hello_wrap(mask=False)),
                     ("machine or threads stored in 16 bits unchecked", _hello_wrap(mask=True))],
    "detail-length": [("n = 0 refused", _wrap_rsp_decode(_when(lambda b, c: len(b) >= 12 and b[7] != 0
                                                                and _u32(b, 8) == 0, ErrorCode.MALFORMED_CBOR))),
                      ("bytes after the detail ignored", _wrap_rsp_decode(spare_ok=True))],
    "seq": [("wraps to 0", _seq_wraps_to_zero), ("seq 0xFFFFFFFF refused", _set((gossamer.batch, "SEQ_MASK",
                                                                                   0xFFFFFFFE)))],
    "slot-id": [("slot id 0xFFFF refused", _imm(refuse_top=True)),
                ("slot id masked to 16 bits", _imm(refuse_top=False)),
                ("encoder masks the slot id", _mask_arg("encode_request_batch", "slot_id", 0xFFFF))],
    "frame-index": [("index masked to 16 bits", _mask_arg("encode_frame", "index", 0xFFFF))],
    "trust-counter": [("the last counter refused", _set((gossamer.trust_ids, "COUNTER_MAX", 0xFFFF_FFFE))),
                      ("the counter wraps into the thread bits", _set((gossamer.trust_ids, "COUNTER_MAX", 1 << 32)))],
    "pointer": [("47-bit pointers", _set((gossamer.batch, "MASK48", (1 << 47) - 1))),
                ("2^48 accepted", _pointer_unchecked)],
    "rsp-placement": [("an entry at the bound becomes a stub", _inline_size(+8)),
                      ("an entry past the bound stays inline", _inline_size(-8))],
    "fb-threshold": [("a request at the threshold goes by fallback", _set((gossamer.request, "FRAMING", 17))),
                     ("the table entry left out: one past stays inline",
                      _set((gossamer.request, "FRAMING", 8)))],
}

def _source(module: Any, old: str, new: str, *where: tuple[Any, str]) -> Patch:
    """A single-change mutant of `module`'s source; each `(namespace, name)` is pointed at the mutant's."""
    def patch(mp: pytest.MonkeyPatch) -> None:
        mutant = _mutant_module(module, old, new)
        for ns, name in where:
            mp.setattr(ns, name, getattr(mutant, name))
    return patch


def _ranges(lo: int, hi: int) -> Patch:
    def patch(mp: pytest.MonkeyPatch) -> None:
        table = vars(gossamer.layout)["_RANGES"]
        mp.setattr(gossamer.layout, "_RANGES", {k: (a + lo, b + hi) for k, (a, b) in table.items()})
    return patch


_TABLE_CHECK = '    if off > end:\n        raise RemoteProtocolError(ErrorCode.TRUNCATED, "SLOT-8", f"table'

OFF_BY_ONE.update({
    "param-width": [("cbor:65536 refused", _source(gossamer.layout, "1 <= int(fixed.group(1)) <= 65536",
                                                   "1 <= int(fixed.group(1)) < 65536", (ref_target, "ParamSpec")))],
    "capture-values": [("the top value refused", _ranges(0, -1)), ("the bottom value refused", _ranges(1, 0))],
    "table-fit": [("a table ending at the trailer is TRUNCATED",
                   _source(gossamer.vtable, _TABLE_CHECK, _TABLE_CHECK.replace(">", ">="),
                           (gossamer.batch, "read_table")))],
    "error-detail-fit": [("a detail that fits is cut", _source(
        gossamer.response, "room = config.slot_size - FRAMING - 4", "room = config.slot_size - FRAMING - 12",
        (ref_target, "encode_error_response")))],
})

OFF_BY_ONE["rsp-placement"].append(("7 bytes reserved per later entry", _source(
    gossamer.response, "8 * (count - 1 - i) <= s", "7 * (count - 1 - i) <= s", (ref_target, "encode_response_batch"))))
OFF_BY_ONE["param-length"].append(("the length field read from the trailer", _source(
    gossamer.batch, "if off + 4 > end:", "if off + 0 > end:", (ref_target, "decode_request_batch"))))

OFF_BY_ONE.update({
    "trustee-runs": [
        ("a run of no thread accepted", _source(gossamer.shape, "if count < 1:", "if count < 0:",
                                                (gossamer.bootstrap, "trustees_from_ranges"))),
        ("a run ending at the last thread refused", _source(gossamer.shape, "if first + count > threads:",
                                                            "if first + count >= threads:",
                                                            (gossamer.bootstrap, "trustees_from_ranges"))),
        ("touching runs accepted", _source(gossamer.shape, "if first <= end:", "if first < end:",
                                           (gossamer.bootstrap, "trustees_from_ranges"))),
    ],
    "shape-slot-ids": [("65536 ids refused", _set((gossamer.shape, "SLOT_IDS", 0xFFFF))),
                       ("65538 ids accepted", _set((gossamer.shape, "SLOT_IDS", 0x10002)))],
})

ROWS = {r.name: r for r in LIMITS}
PROOFS = [(row, label, patch) for row, items in OFF_BY_ONE.items() for label, patch in items]


def test_every_row_has_a_proof() -> None:
    assert set(OFF_BY_ONE) == set(ROWS), "every limit needs an off-by-one implementation that fails it"


def test_rows_generate_both_sides() -> None:
    ids = [c.id for r in LIMITS for c in row_cases(r)]
    assert len(ids) == len(set(ids))
    for r in LIMITS:
        sides = {c.id.split(".")[2] for c in row_cases(r)}
        assert {"at", "past"} <= sides <= set(SIDES), r.name
        assert ("min" in sides and "below" in sides) or not r.lower, r.name
    assert set(ids) <= {c.id for c in catalogue()}, "limits is registered in AREAS"


def test_table_renders_every_row() -> None:
    from conformance.cases.limits import table_markdown

    lines = table_markdown().splitlines()[2:]
    assert [ln.split(" | ")[0].lstrip("| ") for ln in lines] == [r.name for r in LIMITS]
    assert all("`" in ln.split(" | ")[3] for ln in lines), "every row names the ops that probe it"


def test_reference_passes_every_limit_case() -> None:
    cases = [c for r in LIMITS for c in row_cases(r)]
    report = run(ReferenceTarget(), cases)
    bad = [(r.case.id, r.message) for r in report.results if r.verdict is not Verdict.PASS]
    assert not bad


@pytest.mark.parametrize(("row", "label", "patch"), PROOFS, ids=[f"{r}:{lb}" for r, lb, _ in PROOFS])
def test_off_by_one_fails_the_row(row: str, label: str, patch: Patch, monkeypatch: pytest.MonkeyPatch) -> None:
    patch(monkeypatch)
    report = run(ReferenceTarget(), row_cases(ROWS[row]))
    caught = [r.case.id for r in report.results if r.verdict in (Verdict.FAIL, Verdict.ERROR)]
    assert caught, f"an implementation where {label} passes every case of limit {row}"


# -- decoding paths (cases/decoder_paths.py): mutants of the request decoder's short cuts --------------------

#: (what the mutant gets wrong, text of gossamer/batch.py, its replacement)
PATH_MUTANTS = [
    ("run ref read with >> 47: pointer bit 47 joins the ref", "if (word >> 48) == run_ref:",
     "if (word >> 47) == run_ref:"),
    ("run check ignores the flag byte", "if (word >> 48) == run_ref:", "if ((word >> 48) & 0xFF) == run_ref:"),
    ("whole-tail pass when any row matches", "if all(w >> 48 == run_ref for w, _ in rows):",
     "if any(w >> 48 == run_ref for w, _ in rows):"),
    ("whole-tail check with >> 47", "if all(w >> 48 == run_ref for w, _ in rows):",
     "if all(w >> 47 == run_ref for w, _ in rows):"),
    ("whole-tail pass when the tail is longer", "if rest and end - off == rest * run_step:",
     "if rest and end - off >= rest * run_step:"),
    ("run pointers cut to 47 bits", "append(new(Request, (word & MASK48, run_cid, captured, None, None)))",
     "append(new(Request, (word & (MASK48 >> 1), run_cid, captured, None, None)))"),
    ("whole-tail pointers cut to 47 bits", "new(Request, (w & MASK48, cid, cap, None, None))",
     "new(Request, (w & (MASK48 >> 1), cid, cap, None, None))"),
    ("a run remembers the first table closure", "run_ref, run_cid, run_step = ref, cid, off - start",
     "run_ref, run_cid, run_step = ref, table[0], off - start"),
]


def _mutant_module(module: Any, old: str, new: str) -> Any:
    """`module` (of `gossamer`) with `old` replaced by `new` in its source: a real single-change mutant."""
    import inspect
    import types

    src = inspect.getsource(module)
    assert src.count(old) == 1, f"{module.__name__} changed: update the mutant text ({old!r} not found once)"
    mod = types.ModuleType(f"{module.__name__}_mutant")
    mod.__package__ = "gossamer"
    exec(compile(src.replace(old, new), f"{module.__file__} (mutant)", "exec"), mod.__dict__)
    return mod


def _mutant_decoder(old: str, new: str) -> Any:
    return _mutant_module(gossamer.batch, old, new).decode_request_batch


@pytest.mark.parametrize(("label", "old", "new"), PATH_MUTANTS, ids=[m[0] for m in PATH_MUTANTS])
def test_decoder_path_mutant_fails(label: str, old: str, new: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from conformance.cases import decoder_paths

    monkeypatch.setattr(ref_target, "decode_request_batch", _mutant_decoder(old, new))
    report = run(ReferenceTarget(), decoder_paths.cases())
    assert any(r.verdict in (Verdict.FAIL, Verdict.ERROR) for r in report.results), \
        f"a decoder whose {label} passes every decoder-path case"


def test_decoder_paths_pass_on_reference() -> None:
    from conformance.cases import decoder_paths

    report = run(ReferenceTarget(), decoder_paths.cases())
    assert report.passed, [(r.case.id, r.message) for r in report.results if r.verdict is not Verdict.PASS]


# -- CBOR (cases/cbor_items.py): mutants of the reference's well-formedness walk -------------------------------

#: (The walk's checks for a chunk of another type, an indefinite tag and a low two-byte simple value
#: have equivalent mutants in the reference: cbor2 refuses those items again after the walk.)
CBOR_MUTANTS = [
    ("bytes after the item accepted", "if end != len(data):", "if end > len(data):"),
    ("indefinite arrays and maps refused", "                stack.append(-1)",
     '                raise _malformed("indefinite")'),
    ("indefinite strings refused", "# indefinite string: chunks of the same major type, then break",
     'raise _malformed("indefinite string")'),
    ("tags do not count toward the depth", "        elif major == 6:\n            if len(stack) > MAX_DEPTH:",
     "        elif major == 6:\n            if False:"),
]


@pytest.mark.parametrize(("label", "old", "new"), CBOR_MUTANTS, ids=[m[0] for m in CBOR_MUTANTS])
def test_cbor_mutant_fails(label: str, old: str, new: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from conformance.cases import cbor_items

    mutant = _mutant_module(gossamer.serial, old, new)
    monkeypatch.setattr(gossamer.serial, "loads", mutant.loads)
    cases = [*cbor_items.cases(), *row_cases(ROWS["cbor-depth"]), *row_cases(ROWS["cbor-size"])]
    report = run(ReferenceTarget(), cases)
    assert any(r.verdict in (Verdict.FAIL, Verdict.ERROR) for r in report.results), \
        f"a CBOR check where {label} passes every cbor_wf and CBOR limit case"


def test_cbor_items_pass_on_reference() -> None:
    from conformance.cases import cbor_items

    report = run(ReferenceTarget(), cbor_items.cases())
    assert report.passed, [(r.case.id, r.message) for r in report.results if r.verdict is not Verdict.PASS]


# -- receive paths (cases/receive.py): mutants of the reference client and trustee ---------------------------

def _client_attach(old: str, new: str) -> Patch:
    def patch(mp: pytest.MonkeyPatch) -> None:
        import gossamer.runtime.client_side

        mutant = _mutant_module(gossamer.response, old, new)
        mp.setattr(gossamer.runtime.client_side, "attach_response_payload", mutant.attach_response_payload)
    return patch


def _client_decode(old: str, new: str) -> Patch:
    def patch(mp: pytest.MonkeyPatch) -> None:
        mutant = _mutant_module(gossamer.response, old, new)
        mp.setattr(gossamer.slot_state, "decode_response_batch", mutant.decode_response_batch)
    return patch


def _entrust_any_pointer(mp: pytest.MonkeyPatch) -> None:
    import gossamer.trustee

    mutant = _mutant_module(gossamer.trustee, "        if req.property != 0:\n", "        if False:\n")
    mp.setattr(gossamer.trustee.Trustee, "_entrust", mutant.Trustee._entrust)


RECEIVE_MUTANTS: list[tuple[str, str, Patch]] = [
    ("recv.client.response-frame-long", "the client attaches a response frame of any length",
     _client_attach("if stub.fallback_len is None or len(payload) != stub.fallback_len:",
                    "if stub.fallback_len is None:")),
    ("recv.client.response-frame-fixed-long", "the client cuts a fixed result's frame to R bytes",
     _client_attach("if len(payload) < r or (not spec.is_cbor and len(payload) != r):", "if len(payload) < r:")),
    ("recv.client.fallback-n-over-limit", "the client takes a FALLBACK entry over the fallback limit",
     _client_decode("if n > config.fallback_limit:", "if False:")),
    ("recv.entrust-live-pointer", "the trustee entrusts whatever pointer the request names", _entrust_any_pointer),
]


@pytest.mark.parametrize(("case_id", "label", "patch"), RECEIVE_MUTANTS, ids=[m[1] for m in RECEIVE_MUTANTS])
def test_receive_mutant_fails(case_id: str, label: str, patch: Patch, monkeypatch: pytest.MonkeyPatch) -> None:
    from conformance.cases import receive
    from conformance.targets.reference_nic import ReferenceNicTarget

    cases = [c for c in receive.cases() if c.id == case_id]
    assert cases, case_id
    target = ReferenceNicTarget()
    try:
        assert run(target, cases).passed, f"{case_id} fails on the reference"
        patch(monkeypatch)
        report = run(target, cases)
    finally:
        target.close()
    assert not report.passed, f"a reference where {label} passes {case_id}"

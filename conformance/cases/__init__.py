"""The case catalogue: small modules by area, plus the golden vectors of `protocol/vectors/`.

`catalogue()` returns every case, ids unique and stable; `select()` filters by id, clause or tag.
"""

from __future__ import annotations

import fnmatch
import functools
from collections.abc import Iterable

from ..model import Case
from . import (
    adapter_protocol,
    bootstrap,
    cbor_items,
    cbor_tags,
    client,
    closure_ids,
    config_args,
    decoder_paths,
    error_response_seq,
    execution,
    fallback,
    hello_encodings,
    hello_limits,
    hello_order,
    hostile,
    landing,
    layout_edges,
    limits,
    live,
    nic,
    racks,
    receive,
    rejection_transport,
    request_bounds,
    requests,
    response_bounds,
    responses,
    result_fit,
    run_boundaries,
    security,
    shapes,
    trust_ids,
    value_ranges,
    vectors,
)

AREAS = (adapter_protocol, requests, responses, fallback, trust_ids, closure_ids, bootstrap, landing, nic, execution,
         hostile,
         client, limits, decoder_paths, cbor_items, receive, vectors, live, hello_limits,
         security, rejection_transport, run_boundaries, error_response_seq, value_ranges,
         cbor_tags, shapes, layout_edges,
         racks, response_bounds, config_args, request_bounds, hello_encodings, result_fit,
         hello_order)


@functools.cache
def catalogue() -> tuple[Case, ...]:
    out: list[Case] = []
    seen: set[str] = set()
    for area in AREAS:
        for c in area.cases():
            if c.id in seen:
                raise ValueError(f"duplicate case id {c.id}")
            seen.add(c.id)
            out.append(c)
    return tuple(out)


def select(cases: Iterable[Case], patterns: Iterable[str] = ()) -> list[Case]:
    """Cases matching any pattern: an id glob (`req.*`), a clause id (`SLOT-4`), or `tag:NAME`."""
    pats = list(patterns)
    if not pats:
        return list(cases)
    out = []
    for c in cases:
        for p in pats:
            if p.startswith("tag:") and p[4:] in c.tags:
                break
            if p.upper() in c.clauses or (p.upper().endswith("-*") and any(
                    cl.startswith(p.upper()[:-1]) for cl in c.clauses)):
                break
            if fnmatch.fnmatchcase(c.id, p):
                break
        else:
            continue
        out.append(c)
    return out

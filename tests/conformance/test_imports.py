"""The suite's layering, read from its source with ``ast`` (the shared tests/import_graph.py).

The import graph of `conformance/` is a DAG counting the imports inside functions too (imports
under ``if TYPE_CHECKING:`` never run and do not count). Targets import the suite's peers
(`conformance/peers/`), never the other way round; the wrong trustees (`mutants/live.py`) build on
the reference trustee, which does not know them (its `--wrong` table is passed in).
"""

from __future__ import annotations

from pathlib import Path

import conformance
from tests.import_graph import cycles, describe, imports

ROOT = Path(conformance.__file__).resolve().parent
EDGES = [e for e in imports(ROOT, "conformance") if not e.type_only]


def test_the_conformance_import_graph_is_a_dag() -> None:
    found = cycles(EDGES)
    assert not found, [describe(EDGES, c) for c in found]


def test_the_peers_import_no_target() -> None:
    up = [f"{e.module}:{e.line} imports {e.target}" for e in EDGES
          if e.module.startswith("conformance.peers") and e.target.startswith("conformance.targets")]
    assert not up, up


def test_the_reference_trustee_does_not_know_its_mutants() -> None:
    up = [f"{e.module}:{e.line} imports {e.target}" for e in EDGES
          if e.module.startswith("conformance.peers") and e.target.startswith("conformance.mutants")]
    assert not up, up

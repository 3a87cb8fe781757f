"""Ways to plug an implementation in: the reference, an adapter executable, a live peer.

`open_target(spec)` understands:

- `reference` (default): the reference codec of `gossamer/` in process, and its trustee cases
  driven through real slots on the emulated NIC (`reference_nic.py`, `verbs.py`);
- `reference-sansio`: the reference codec and its sans-I/O trustee only, no NIC;
- `reference-live`: the reference live trustee (`peers/reference_trustee.py`) served in this
  process on the emulated NIC and reached as `live:` reaches a trustee under test: TCP bootstrap,
  hello checks, one session per case (`reference_live.py`); only the trustee ops run;
- `adapter:<command line>`: any executable speaking SPEC.md section 11 on stdin/stdout;
- `c`: the bundled C codec, compiled with the machine's C compiler, through the adapter;
- `mutant:<name>`: the reference with one deliberate bug (`conformance/mutants/`);
- `live:<host>:<port>`: a trustee on real RDMA, reached through the bootstrap of [ADPT-12];
- `live-client:[<host>:]<port>`: the suite listens as a trustee machine for a client under test
  ([ADPT-14]); only the client cases run.

Only targets live here (and their ops: `live_ops.py` is the `nic_live` op of `verbs.py`'s
target, `client_role.py` the `client_run` op and the `live-client:` target). The machines at the
other end of a session, the suite's own peers and the reference's servers, are in
`conformance/peers/`.
"""

from __future__ import annotations

import shlex

from ..model import Target


def open_target(spec: str, *, device: str | None = None, gid_index: int = 1, timeout: float = 10.0) -> Target:
    if spec in ("", "reference"):
        from .reference_nic import ReferenceNicTarget

        return ReferenceNicTarget()
    if spec == "reference-sansio":
        from .reference import ReferenceTarget

        sansio = ReferenceTarget()
        sansio.name = "reference-sansio"
        return sansio
    if spec == "reference-live":
        from .reference_live import ReferenceLiveTarget

        return ReferenceLiveTarget()
    if spec.startswith("adapter:"):
        from .adapter_process import AdapterTarget

        return AdapterTarget(shlex.split(spec[len("adapter:") :]), timeout=timeout)
    if spec == "c":
        from ..c_codec import build
        from .adapter_process import AdapterTarget

        return AdapterTarget([str(build())], name="c-codec", timeout=timeout)
    if spec.startswith("mutant:"):
        from ..mutants import make_mutant

        return make_mutant(spec[len("mutant:") :])
    if spec.startswith("live-client:"):
        from .client_role import live_client_target

        return live_client_target(spec[len("live-client:") :], device=device, gid_index=gid_index)
    if spec.startswith("live:"):
        from .live import LiveTarget

        return LiveTarget(spec[len("live:") :], device=device, gid_index=gid_index, timeout=timeout)
    raise ValueError(f"unknown target {spec!r}: use reference, reference-sansio, reference-live, c, adapter:CMD, "
                     "mutant:NAME, live:HOST:PORT or live-client:[HOST:]PORT")

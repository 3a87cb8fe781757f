"""The suite's own machines: the peers it drives an implementation with, and the reference's servers.

Nothing here is a target (`conformance/targets/` holds what an implementation plugs into); these
are the other ends of a session:

- `suite_client.py`: `VerbsPeer`, the suite's client machine facing a trustee under test over
  verbs ([ADPT-12]), and `FallbackLink`, its end of the TCP fallback channel ([FB-8]);
- `suite_trustee.py`: `SuiteTrustee`, the suite's trustee machine facing a client under test
  ([ADPT-14]), and `FallbackListener`;
- `reference_trustee.py`: the reference runtime served as a trustee machine
  (`python -m conformance.peers.reference_trustee`), driven by the default and `live:` targets;
- `reference_client.py`: the reference runtime as a client machine the suite judges
  (`python -m conformance.peers.reference_client`).

The two `suite_*` peers are written against the pyverbs API and the suite's oracle only; the two
`reference_*` servers wrap `gossamer.runtime` (they are the reference target's, so
`tests/conformance/test_oracle_independent.py` lets them import `gossamer`).
"""

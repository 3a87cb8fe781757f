"""Mutation testing of the suite itself: how many single-change mutants of the reference it kills.

`operators.py` enumerates the mutation points of a module (AST operators, stable keys),
`engine.py` runs the catalogue against each mutant in a forked child with a hard deadline,
`survivors.py` reads the checked-in classification of survivors (`survivors.toml`) and scores,
`cli.py` is `python -m conformance.mutation`. This package is reference-side tooling: it imports
`gossamer` (to mutate it), like the reference target does; the cases it runs do not.
"""

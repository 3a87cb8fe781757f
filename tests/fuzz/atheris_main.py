"""One atheris (libFuzzer) process for one fuzz target: `python -m tests.fuzz.atheris_main TARGET [libFuzzer args]`.

The reference codec (`gossamer`) and the suite's oracle (`conformance.oracle`) are instrumented for
coverage; the target function raises on a finding (tests/fuzz/targets.py). `benchmarks/fuzz_run.py`
runs one of these per target and reads libFuzzer's final statistics.
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports(include=["gossamer", "conformance"]):
    from tests.fuzz.targets import TARGETS


def main() -> None:
    target = TARGETS[sys.argv[1]]
    atheris.Setup([sys.argv[0], *sys.argv[2:]], target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()

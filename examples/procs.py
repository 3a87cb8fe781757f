"""A rack of processes: one process per machine, gsm-main on machine 0 (SPEC.md 10.1).

    python -m gossamer launch --local 3 examples.procs:main          # or: gossamer launch ...
    python -m gossamer launch --local 3 examples.procs:main 500      # 500 increments per machine

gsm-main entrusts one counter to every machine's trustee thread, delegates increments to each
(blocking `apply` and `apply_then` mixed) and checks the totals. Every process imports this
module, so every machine registers the same closures, as the thesis's "same binary everywhere".
`forever` keeps delegating until the application goes down (the fate-sharing test kills a
process meanwhile); `raise` fails gsm-main after the first answers.
"""

from __future__ import annotations

import gossamer
from gossamer.runtime import entrust, rack_shape, yield_now


@gossamer.closure(capture="u64", result="u64", name="examples.procs:add")
def add(counter: list[int], k: int) -> int:
    counter[0] += k
    return counter[0]


async def main(n: str = "100") -> str:
    machines, threads = rack_shape()
    rounds = -1 if n == "forever" else 1 if n == "raise" else int(n)
    trusts = [await entrust([0], machine=m, thread=threads - 1) for m in range(machines)]
    done = 0
    while done != rounds:
        for t in trusts:
            t.apply_then(add, 1)
        for t in trusts:
            await t.apply(add, 1)
        done += 1
        if rounds < 0 and done % 50 == 0:
            print(f"machine 0: {done} rounds", flush=True)
        await yield_now()
    if n == "raise":
        raise RuntimeError("gsm-main failed on purpose")
    totals = [await t.apply(add, 0) for t in trusts]
    for t in trusts:
        t.drop()
    assert totals == [2 * rounds] * machines, totals
    return f"{machines} machines x {threads} threads: counters {totals}"

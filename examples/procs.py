"""A rack of processes: one process per machine, gsm-main on machine 0 (SPEC.md 10.1).

    python -m gossamer launch --local 3 examples.procs:main          # or: gossamer launch ...
    python -m gossamer launch --local 3 examples.procs:main 500      # 500 increments per machine

gsm-main entrusts one counter to every machine's trustee thread, delegates increments to each
(blocking `apply` and `apply_then` mixed) and checks the totals. Every process imports this
module, so every machine registers the same closures, as the thesis's "same binary everywhere".
`forever` keeps delegating until the application goes down (the fate-sharing test kills a
process meanwhile); `raise` fails gsm-main after the first answers; `leak` runs one round and
keeps its Trusts (the end-of-run report lists them: a TrustLeakWarning, or TrustLeakError with
`GOSSAMER_LEAKS=error`).

    python -m gossamer launch --local 3 examples.procs:spawned 50

`spawned` starts a fiber on every thread of every machine, each in its own process ([PROC-7]:
the function by name, the arguments as CBOR, the Trust as a clone), joins them and checks the
shared counter; with `5!` the worker on machine 1 raises, and the application goes down.
"""

from __future__ import annotations

import gossamer
from gossamer.runtime import Trust, entrust, here, machine_shape, rack_shape, spawn, yield_now


@gossamer.closure(capture="u64", result="u64", name="examples.procs:add")
def add(counter: list[int], k: int) -> int:
    counter[0] += k
    return counter[0]


async def main(n: str = "100") -> str:
    machines, threads = rack_shape()
    rounds = -1 if n == "forever" else 1 if n in ("raise", "leak") else int(n)
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
    for t in trusts if n != "leak" else ():
        t.drop()
    assert totals == [2 * rounds] * machines, totals
    return f"{machines} machines x {threads} threads: counters {totals}"


async def worker(counter: Trust, n: int, tag: str) -> list[object]:
    """Runs on the machine `spawn` named: `n` increments of the shared counter."""
    last = 0
    machine, thread = here()
    for _ in range(n):
        last = await counter.apply(add, 1)
    if n < 0 or (tag.endswith("!") and machine == 1):
        raise ValueError(f"worker {tag} failed on purpose")
    counter.drop()
    return [tag, machine, thread, last]


async def spawned(n: str = "50") -> str:
    machines, _ = rack_shape()
    threads = {m: machine_shape(m).threads for m in range(machines)}  # a mixed rack too ([SHAPE-1])
    counter = await entrust([0], machine=0, thread=machine_shape(0).trustees[0])
    fail = n.endswith("!")  # `5!`: the worker on machine 1 raises after its increments
    count = int(n.rstrip("!"))
    handles = [spawn(worker, counter, count, f"w{m}.{t}" + ("!" if fail else ""), machine=m, thread=t)
               for m in range(machines) for t in range(threads[m])]
    results = [await h for h in handles]
    total = await counter.apply(add, 0)
    counter.drop()
    assert total == count * sum(threads.values()), (total, results)
    assert [r[1:3] for r in results] == [[m, t] for m in range(machines) for t in range(threads[m])], results
    return f"{len(results)} fibers on {machines} machines joined; counter {total}"

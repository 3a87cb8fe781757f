"""A concurrent counter: fibers on every thread of every machine increment one property.

Half the fibers use blocking apply, half apply_then; the trustee runs them one at a time, so the
count is exact without a lock. Run: python examples/counter.py [machines] [threads] [fibers]
"""

from __future__ import annotations

import sys

import gossamer
from gossamer.runtime import Trust, entrust, launch, spawn, yield_now


@gossamer.closure(capture="u64", result="u64", name="examples.counter:add")
def add(counter: list[int], k: int) -> int:
    counter[0] += k
    return counter[0]


async def incrementer(trust: Trust, n: int, blocking: bool) -> None:
    for _ in range(n):
        if blocking:
            await trust.apply(add, 1)
        else:
            trust.apply_then(add, 1)
            await yield_now()  # let the poller batch and send
    trust.drop()


async def gsm_main(machines: int, threads: int, fibers: int, n: int) -> int:
    counter = await entrust([0], machine=machines - 1, thread=threads - 1)
    handles = [
        spawn(incrementer, counter, n, i % 2 == 0, machine=m, thread=t)
        for m in range(machines) for t in range(threads) for i in range(fibers)
    ]
    for h in handles:
        await h
    total: int = await counter.apply(add, 0)  # after every fiber's last request
    counter.drop()
    return total


if __name__ == "__main__":
    m, t, f = (int(a) for a in ([*sys.argv[1:], "2", "2", "4"])[:3])
    n = 50
    total = launch(gsm_main, m, t, f, n, machines=m, threads=t)
    print(f"{m} machines x {t} threads x {f} fibers x {n} increments: counter = {total}")
    assert total == m * t * f * n

"""The Gossamer reference runtime: entrust, apply and apply_then over verbs, with fibers and
batching (thesis chapter 3, 3.2.2 .. 3.2.7).

Module map:

* `fibers`   - Future, Fiber, yield_now: fibers are coroutines run by the rack's own scheduler
* `rack`     - Rack, KThread, launch, RackFailure: the seeded loop, pollers, fate sharing
* `client`   - pending queues, batching per request slot, matching responses
* `trustee`  - property table, running batches in order, trust-id sets, responses
* `verbs`    - slot region, one RC QP per (thread, remote machine), WRITE WITH IMMEDIATE
* `tcp`      - the TCP fallback side channel on loopback
* `slotmap`  - slot ids of every (client thread, trustee thread) pair
* `context`  - the running thread/fiber, and whether a delegated closure is running
* `api`      - entrust, Trust.apply / apply_then / clone / drop, spawn
"""

from .api import NO_ARG, Trust, entrust, here, rack_shape, spawn
from .fibers import FiberHandle, Future, yield_now
from .rack import DropEvent, Rack, RackFailure, launch

__all__ = [
    "NO_ARG", "DropEvent", "FiberHandle", "Future", "Rack", "RackFailure", "Trust", "entrust",
    "here", "launch", "rack_shape", "spawn", "yield_now",
]

"""The Gossamer reference runtime: entrust, apply and apply_then over verbs, with fibers and
batching (thesis chapter 3, 3.2.2 .. 3.2.7).

Module map:

* `fibers`   - Future, Fiber, yield_now: fibers are coroutines run by the rack's own scheduler
* `rack`     - Rack, launch, RackFailure: the seeded loop, building and calling the threads, fate sharing
* `kthread`  - KThread: one kernel thread's sides, ready fibers and poller; it never holds the rack
* `env`      - ThreadEnv (what a thread's sides are built from) and Send (what they return)
* `client_side`  - pending queues, batching per request slot, matching responses
* `trustee_side` - property table, running batches in order, trust-id sets, responses
* `network`  - the Network protocol: the only seam to the NIC (constructors: gossamer.networks)
* `verbs`    - slot region, one RC QP per (thread, remote machine), WRITE WITH IMMEDIATE
* `tcp`      - the TCP fallback side channel on loopback
* `slotmap`  - slot ids of every (client thread, trustee thread) pair
* `context`  - RunContext: the running rack, thread and fiber, and the delegated closure running
* `api`      - entrust, Trust.apply / apply_then / clone / drop, spawn, make_request
* `admission` - what apply_then returns: awaiting it yields the fiber when the pending queue is full
* `leaks`    - where each undropped Trust was created; the leak warnings and the end-of-run report

Ownership runs one way: Rack -> MachineRt -> KThread -> ClientSide / TrusteeSide. The sides see
only their ThreadEnv and return Send actions; the kernel thread's poller carries them out. A
kernel thread holds its env, its machine's NIC side, the fallback hub and the leak ledger, never
the rack: the rack runs its fibers, sets the run context, polls it, and marks it `halted` when it
goes down; the thread reports upward through return values and the env's callbacks. The API
finds the running rack through the run context (`context.current_rack()`). The import graph is a
DAG with no emulator module in it (tests/runtime/test_imports.py).
"""

from .admission import ADMITTED, Admission
from .api import NO_ARG, Trust, entrust, here, machine_shape, make_request, rack_shape, spawn
from .client_side import Pending
from .fibers import FiberHandle, Future, yield_now
from .leaks import TrustLeakError, TrustLeakWarning
from .network import Network
from .rack import DropEvent, Rack, RackFailure, launch

__all__ = [
    "ADMITTED", "NO_ARG", "Admission",
    "DropEvent", "FiberHandle", "Future", "Network", "Pending", "Rack", "RackFailure", "Trust",
    "TrustLeakError", "TrustLeakWarning",
    "entrust", "here", "launch", "machine_shape", "make_request", "rack_shape", "spawn", "yield_now",
]

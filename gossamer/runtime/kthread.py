"""One kernel thread: its client and trustee sides, its fibers, and its poller (thesis 3.2.2).

The rack builds each `KThread` from a `ThreadEnv` and calls it; the thread never holds the rack.
It is handed only what it uses: its machine's NIC side (`MachineNet`, to poll and to WRITE), the
fallback hub (to send frames) and the rack's leak ledger (`gossamer.runtime.leaks`, for the API's
Trusts). It reports upward through what it returns (`poll()`: whether anything progressed) and
through the env's callbacks (`on_crash` for a peer that broke the protocol: fate sharing). The rack
runs its fibers (`take_ready`) and marks it `halted` when the rack goes down.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import GossamerError
from ..trust_ids import TrustIdMinter
from .client_side import ClientSide
from .env import Send, ThreadEnv
from .leaks import TrustLedger
from .tcp import FallbackHub
from .trustee_side import TrusteeSide
from .verbs import MachineNet

if TYPE_CHECKING:
    from .fibers import Fiber


class KThread:
    """One kernel thread: a client, a trustee, its fibers and its poller."""

    def __init__(self, env: ThreadEnv, net: MachineNet, hub: FallbackHub, ledger: TrustLedger) -> None:
        self.env = env
        #: the machine's id and this thread's index on it
        self.machine = env.machine
        self.index = env.thread
        self.label = env.label
        self.net = net
        self.hub = hub
        self.ledger = ledger
        self.ready: list[Fiber] = []
        self.fibers = 0  # live fibers on this thread
        #: set by the rack when it goes down (fate sharing): nothing more is processed or accepted
        self.halted = False
        self.client = ClientSide(env)
        self.trustee = TrusteeSide(env)
        self.minter = TrustIdMinter(env.machine, env.thread)

    def __repr__(self) -> str:
        return f"<KThread {self.label}>"

    def wake(self, fiber: Fiber) -> None:
        self.ready.append(fiber)

    def take_ready(self) -> list[Fiber]:
        """The fibers ready to run, in wake order (the rack shuffles and steps them)."""
        batch, self.ready = self.ready, []
        return batch

    def poll(self) -> bool:
        """The poller fiber's body: landed slots first, then send what is queued. True if anything
        happened; raises `PeerFailed` when the NIC reports a failed peer or device."""
        net = self.net
        arrived = net.poll(self.index)
        did = False
        if arrived:
            did = True
            requests = net.smap.requests
            for slot_id, imm in arrived:
                if self.halted:  # fate sharing: nothing more is processed
                    return True
                try:
                    if slot_id < requests:
                        self.send(self.trustee.on_landed(slot_id, imm))
                        self.trustee.responded(slot_id)
                    else:
                        self.client.on_response(slot_id, imm)
                except GossamerError as exc:  # a peer broke the protocol: fate sharing, not a raw raise
                    self.env.on_crash(f"a peer's write into slot {slot_id} of {self.label} broke the protocol", exc)
                    return True
        if not self.halted:
            sends = self.client.flush()
            for out in sends:
                self.send(out)
            if sends:
                did = True
        return did

    def send(self, out: Send) -> None:
        """Carry out a side's `Send`: its fallback frames, then its WRITE WITH IMMEDIATE ([FB-4])."""
        hub = self.hub
        for frame, client, trustee_machine in out.frames:
            hub.send(frame, client, trustee_machine)
        self.net.write(self.index, out.dst, out.slot_id, out.image, out.imm, out.stage_slot)

"""What the emulated NIC does with work requests: posting, execution, delivery, errors.

Rules come from ibv_post_send(3), ibv_post_recv(3), ibv_poll_cq(3), ibv_modify_qp(3), the
InfiniBand spec (vol. 1, ch. 9 "Transport layer", 10.3 "QP states", 11.4 "Work completions") and
what rxe does where the spec leaves room (``/work/shared/softroce-facts.md``); each rule is quoted
or cited next to the code that enforces it.

The package works on the NIC's own objects (``queues``: ``QueuePair``, ``CompletionQueue``,
``Region`` and the ``Wqe`` / ``Rqe`` / ``Completion`` records), owned by the fabric's machines;
it never sees a pyverbs object.  One module per concept, imported in this order (each imports
only the ones above it):

* ``queues``: the NIC's state and records (and PSN arithmetic).
* ``placement``: relaxed placement models, data landing chunk by chunk (docs/placement.md).
* ``completions``: completing, failing and flushing WQEs; a QP's move to ERR.
* ``memory``: key lookup and its checks, gather, scatter, whole placement.
* ``posting``: ``post_send_one`` / ``post_recv_one`` append a ``Wqe`` / ``Rqe`` (or an errno).
* ``rc_responder``: RC at the responder: WRITE, SEND, READ, atomics, RNR and class C NAKs.
* ``rc``: RC at the requester (``exec_rc``: one WQE is request and response in one step), and
  the fused run of plain WRITEs.
* ``wire``: the wire under UC and UD: reachability and the fault plan (``InFlight``).
* ``unreliable``: UC and UD: send, and delivery at the responder.
* ``execute``: one tick of the fabric, and running one send queue.

``nic_emu.qp_states`` (the modify table and ``modify_qp``) sits on top of this package.
"""

"""nic_emu: an in-process RDMA NIC emulator that speaks the pyverbs API."""

"""Soft-RoCE guest runner: run commands in a QEMU guest with Linux rdma_rxe devices."""

"""Gossamer: the reference implementation of the Gossamer delegation protocol (protocol/SPEC.md)."""

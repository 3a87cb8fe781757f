"""The Gossamer conformance suite."""

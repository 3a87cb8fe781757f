"""Packaging glue that pyproject.toml cannot express: ship protocol/ (SPEC.md and the golden
vectors) inside the distribution as the data package `gossamer._protocol`, so that an installed
`gossamer-conformance` finds them (see gossamer/protocol_files.py). Everything else is in
pyproject.toml."""

from setuptools import find_packages, setup

setup(
    packages=[
        *find_packages(include=["gossamer", "gossamer.*", "nic_emu", "nic_emu.*", "conformance", "conformance.*"]),
        "gossamer._protocol",
        "gossamer._protocol.vectors",
        "gossamer._protocol.schemas",
    ],
    package_dir={"gossamer._protocol": "protocol"},
    package_data={
        "": ["py.typed", "*.json", "*.c", "*.md"],
        "gossamer._protocol": ["SPEC.md"],
        "gossamer._protocol.vectors": ["*.json", "README.md"],
        "gossamer._protocol.schemas": ["*.cddl"],
    },
)

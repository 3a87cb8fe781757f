"""`python -m conformance ...`: the `gossamer-conformance` command, for an interpreter that has the
package on its path but not the console script (the Soft-RoCE guest's /usr/bin/python3)."""

from __future__ import annotations

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())

"""`python -m gossamer launch ...`: the `gossamer` console script ([PROC-1], gossamer/cli.py)."""

from __future__ import annotations

import sys

from .cli import main

sys.exit(main())

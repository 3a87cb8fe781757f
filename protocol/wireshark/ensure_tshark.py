"""Install Debian's tshark for the dissector tests when it is missing and we may (root, apt-get).

Run by tox's ``tests`` environment before pytest (``commands_pre``).  It never fails the run:
without root or apt the tests that need tshark skip and say why (tests/wireshark/).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys


def main() -> int:
    if shutil.which("tshark"):
        return 0
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        print("ensure_tshark: tshark missing and not root with apt-get: the dissector tests will skip")
        return 0
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "install", "-y", "-qq", "--no-install-recommends", "tshark"],):
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        if proc.returncode != 0:  # a stale package list: update once, then try again
            subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True, check=False)
            proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            print(f"ensure_tshark: {' '.join(cmd)} failed; the dissector tests will skip:\n"
                  f"{proc.stderr[-2000:]}")
            return 0
    print(f"ensure_tshark: installed {shutil.which('tshark')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

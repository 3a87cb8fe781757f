"""CLI: ``python -m nic_emu.softroce {prepare,run,check,baseline}``; see README.md here."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence

from .baseline import main as baseline_main
from .check import check
from .prepare import PrepareError, cache_dir, log, prepare
from .run import (
    DEFAULT_MEM_MB,
    DEFAULT_TIMEOUT,
    EXIT_BOOT_FAILED,
    report_failure,
    run_in_guest,
    select_env,
)


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="python -m nic_emu.softroce",
        description="Run commands in a QEMU guest with Soft-RoCE (rdma_rxe) devices.",
    )
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("prepare", help="install/prepare everything (idempotent, cached)")
    p.add_argument("--refresh", action="store_true", help="look for a newer kernel, rebuild")
    p.add_argument("--no-pylib", action="store_true", help="skip the pip overlay")

    r = sub.add_parser("run", help="run CMD ARGS... in a guest; exits with its exit code")
    r.add_argument("--devices", type=int, choices=(1, 2), default=2)
    r.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="S")
    r.add_argument("--mem", type=int, default=DEFAULT_MEM_MB, metavar="MB")
    r.add_argument(
        "--env", action="append", default=[], metavar="NAME[=VALUE]",
        help="pass a variable (default: CI and GOSSAMER_* pass through)",
    )  # fmt: skip
    r.add_argument(
        "--rw", action="append", default=[], metavar="DIR",
        help="share host DIR writable at the same path in the guest",
    )  # fmt: skip
    r.add_argument("--cwd", help="working directory in the guest (default: the current one)")
    r.add_argument("--keep-io", action="store_true", help="keep the io dir (debugging)")
    r.add_argument(
        "--no-pycache", action="store_true",
        help="PYTHONDONTWRITEBYTECODE=1 instead of the shared bytecode cache",
    )  # fmt: skip
    r.add_argument("-v", "--verbose", action="store_true", help="print timings to stderr")
    r.add_argument("argv", nargs=argparse.REMAINDER, metavar="-- CMD ARGS...")

    c = sub.add_parser("check", help="boot, ibv_devices, a pyverbs RDMA WRITE rxe0->rxe1")
    c.add_argument("--timeout", type=float, default=300.0, metavar="S")

    b = sub.add_parser("baseline", help="run rdma-core's pyverbs tests on rxe0, write JSON")
    b.add_argument("--output", default=None, help="default: nic_emu/rdma_core_baseline.json")
    b.add_argument("--timeout", type=float, default=900.0, metavar="S")
    b.add_argument("--mem", type=int, default=2048, metavar="MB")
    return ap


def command_argv(raw: Sequence[str]) -> list[str]:
    argv = list(raw)
    if argv and argv[0] == "--":
        argv = argv[1:]
    return argv


def main(args: Sequence[str] | None = None) -> int:
    ns = build_parser().parse_args(args)
    if ns.cmd == "prepare":
        t0 = time.monotonic()
        try:
            p = prepare(refresh=ns.refresh, pylib=not ns.no_pylib)
        except PrepareError as exc:
            log(f"prepare failed: {exc}")
            return EXIT_BOOT_FAILED
        log(f"ready in {time.monotonic() - t0:.1f} s: kernel {p.kernel_version}, cache {cache_dir()}, pylib {p.pylib}")
        return 0
    if ns.cmd == "run":
        argv = command_argv(ns.argv)
        if not argv:
            build_parser().error("run: no command given (use: run [options] -- CMD ARGS...)")
        try:
            env = select_env(os.environ, extra=ns.env)
        except ValueError as exc:
            build_parser().error(str(exc))
        res = run_in_guest(
            argv,
            devices=ns.devices,
            timeout=ns.timeout,
            mem_mb=ns.mem,
            cwd=ns.cwd,
            env=env,
            writable=ns.rw,
            keep_io=ns.keep_io,
            pycache=not ns.no_pycache,
        )
        report_failure(res)
        if ns.verbose:
            log("timings: " + ", ".join(f"{k} {v:.2f} s" for k, v in res.timings.items()))
        return res.exit_code
    if ns.cmd == "check":
        return check(timeout=ns.timeout)
    if ns.cmd == "baseline":
        return baseline_main(output=ns.output, timeout=ns.timeout, mem_mb=ns.mem)
    return 2  # pragma: no cover


if __name__ == "__main__":
    sys.exit(main())

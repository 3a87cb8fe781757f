"""`gossamer launch`'s command lines: the SSH form, local dry runs, a process without a launcher."""

from __future__ import annotations

import re
import shlex

import pytest

from gossamer.cli import main
from gossamer.launch_env import from_environ


@pytest.mark.clause("PROC-1", "PROC-2")
def test_hosts_form_prints_one_ssh_command_per_host(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["launch", "--hosts", "h0,h1,h2", "--port", "9100", "--threads", "2", "--dry-run",
                 "examples.procs:main", "7"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    apps = set()
    for m, line in enumerate(lines):
        argv = shlex.split(line)
        assert argv[:4] == ["ssh", "-o", "BatchMode=yes", f"h{m}"]
        remote = shlex.split(argv[4].split(" && ", 1)[1])
        assert remote[0] == "env"
        env = dict(a.split("=", 1) for a in remote[1:] if "=" in a and not a.startswith("-"))
        info = from_environ(env)  # what the remote process will read
        assert (info.machine, info.machines, info.port) == (m, 3, 9100)
        assert info.peers == (("h0", 9100), ("h1", 9101), ("h2", 9102))
        apps.add(info.app)
        assert remote[-10:] == ["python3", "-m", "gossamer", "launch", "--threads", "2", "--seed", "0",
                                "examples.procs:main", "7"]
    assert len(apps) == 1 and re.fullmatch(r"hosts:[0-9a-f]{16}", apps.pop())


def test_local_dry_run_names_every_machine_of_one_application(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["launch", "--local", "2", "--dry-run", "examples.procs:main"]) == 0
    lines = capsys.readouterr().out.splitlines()
    envs = [dict(w.split("=", 1) for w in shlex.split(line) if re.match(r"GOSSAMER_\w+=", w)) for line in lines]
    assert [e["GOSSAMER_MACHINE"] for e in envs] == ["0", "1"]
    assert envs[0]["GOSSAMER_APP"] == envs[1]["GOSSAMER_APP"]
    assert envs[0]["GOSSAMER_RENDEZVOUS"] == envs[1]["GOSSAMER_RENDEZVOUS"]


@pytest.mark.clause("PROC-1")
def test_a_process_without_a_launcher_does_not_start(monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    for k in [k for k in __import__("os").environ if k.startswith(("GOSSAMER_", "OMPI_", "SLURM_", "PMIX_"))]:
        monkeypatch.delenv(k)
    assert main(["launch", "examples.procs:main"]) == 2
    assert "no launcher environment" in capsys.readouterr().err

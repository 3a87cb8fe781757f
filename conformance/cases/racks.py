"""Racks of processes (SPEC.md 10.1): who a process is, from its launcher's environment
([PROC-1], [PROC-2]); the messages of a rack's bootstrap connection come from
`protocol/vectors/racks.json` (`vec.racks.*`)."""

from __future__ import annotations

from typing import Any

from ..model import Case, err, ok
from ._wire import case

P = 18515  # the port rule's default base


def _peers(hosts: list[str], base: int = P) -> list[list[Any]]:
    return [[h, base + m] for m, h in enumerate(hosts)]


def cases() -> list[Case]:
    out: list[Case] = []

    def add(cid: str, title: str, clauses: list[str], env: dict[str, str], expect: dict[str, Any]) -> None:
        out.append(case(cid, title, clauses, "launch_env", {"env": env}, expect, tags=("codec", "racks")))

    def who(machine: int, machines: int, app: str, peers: list[list[Any]] | None,
            rendezvous: str | None = None) -> dict[str, Any]:
        return ok({"machine": machine, "machines": machines, "app": app, "peers": peers, "rendezvous": rendezvous})

    add("rack.env-openmpi", "mpirun: rank, size, PMIX_NAMESPACE, a host list and the port rule",
        ["PROC-1", "PROC-2"],
        {"OMPI_COMM_WORLD_RANK": "2", "OMPI_COMM_WORLD_SIZE": "3", "PMIX_NAMESPACE": "prterun-h0-4242@1",
         "GOSSAMER_HOSTS": "h0,h1,h2"},
        who(2, 3, "openmpi:prterun-h0-4242@1", _peers(["h0", "h1", "h2"])))
    add("rack.env-openmpi-jobid", "mpirun without PMIx: OMPI_MCA_ess_base_jobid; a rendezvous file",
        ["PROC-1", "PROC-2"],
        {"OMPI_COMM_WORLD_RANK": "0", "OMPI_COMM_WORLD_SIZE": "2", "OMPI_MCA_ess_base_jobid": "77",
         "GOSSAMER_RENDEZVOUS": "/shared/rdv"},
        who(0, 2, "openmpi:77", None, "/shared/rdv"))
    add("rack.env-slurm-block", "srun: the node list expanded and repeated per tasks per node, in block order",
        ["PROC-1", "PROC-2"],
        {"SLURM_PROCID": "4", "SLURM_NTASKS": "5", "SLURM_JOB_ID": "991", "SLURM_STEP_ID": "3",
         "SLURM_JOB_NODELIST": "node[01-02],gpu7", "SLURM_TASKS_PER_NODE": "2(x2),1", "GOSSAMER_PORT": "9000"},
        who(4, 5, "slurm:991.3", _peers(["node01", "node01", "node02", "node02", "gpu7"], 9000)))
    add("rack.env-slurm-hosts-win", "srun with GOSSAMER_HOSTS: the host list wins over the node list",
        ["PROC-1", "PROC-2"],
        {"SLURM_PROCID": "0", "SLURM_NTASKS": "2", "SLURM_JOB_ID": "5", "SLURM_JOB_NODELIST": "n[1-2]",
         "SLURM_TASKS_PER_NODE": "1(x2)", "GOSSAMER_HOSTS": "a,b"},
        who(0, 2, "slurm:5.0", _peers(["a", "b"])))
    add("rack.env-gossamer-wins", "gossamer launch's variables win over mpirun's; one host stands for all",
        ["PROC-1", "PROC-2"],
        {"GOSSAMER_MACHINE": "1", "GOSSAMER_MACHINES": "3", "GOSSAMER_APP": "local:abc", "GOSSAMER_HOSTS": "h",
         "OMPI_COMM_WORLD_RANK": "0", "OMPI_COMM_WORLD_SIZE": "9", "PMIX_NAMESPACE": "x"},
        who(1, 3, "local:abc", _peers(["h", "h", "h"])))
    add("rack.env-app-override", "GOSSAMER_APP overrides the derived application id", ["PROC-1"],
        {"SLURM_PROCID": "1", "SLURM_NTASKS": "2", "SLURM_JOB_ID": "5", "GOSSAMER_APP": "kv-store",
         "GOSSAMER_RENDEZVOUS": "/r"},
        who(1, 2, "kv-store", None, "/r"))
    for cid, title, env in [
        ("rack.env-none", "no launcher's variables: the process must not start", {"HOME": "/root"}),
        ("rack.env-rank-past-size", "a rank not below the size", {"OMPI_COMM_WORLD_RANK": "3",
                                                                 "OMPI_COMM_WORLD_SIZE": "3", "PMIX_NAMESPACE": "j",
                                                                 "GOSSAMER_HOSTS": "h"}),
        ("rack.env-no-addresses", "neither a host list nor a rendezvous file", {"SLURM_PROCID": "0",
                                                                               "SLURM_NTASKS": "2",
                                                                               "SLURM_JOB_ID": "5"}),
        ("rack.env-hosts-count", "a host list of 2 for 3 machines", {"GOSSAMER_MACHINE": "0", "GOSSAMER_MACHINES": "3",
                                                                    "GOSSAMER_APP": "a", "GOSSAMER_HOSTS": "x,y"}),
        ("rack.env-app-256", "an application id of 256 bytes", {"GOSSAMER_MACHINE": "0", "GOSSAMER_MACHINES": "1",
                                                               "GOSSAMER_APP": "a" * 256, "GOSSAMER_HOSTS": "x"}),
    ]:
        add(cid, f"{title}: BAD_ARGUMENT", ["PROC-1", "PROC-2"], env, err("BAD_ARGUMENT"))
    return out

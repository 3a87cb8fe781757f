"""Racks of processes (SPEC.md 10.1): who a process is, from its launcher's environment
([PROC-1], [PROC-2]); the messages of a rack's bootstrap connection come from
`protocol/vectors/racks.json` (`vec.racks.*`)."""

from __future__ import annotations

from typing import Any

from ..model import Case, Outcome, err, ok
from ..oracle.bootstrap import message
from ._wire import case

P = 18515  # the port rule's default base


def _peers(hosts: list[str], base: int = P) -> list[list[Any]]:
    return [[h, base + m] for m, h in enumerate(hosts)]


def _points() -> list[Case]:
    """[PROC-13] steps 1 to 3: every kind of [PROC-11] at every point of a rack's bootstrap (the
    acceptor's `caller`, `hello`, `ready`; the connector's `hello`, `ready`)."""
    app = "kv"
    hello = {"versions": [1, 1], "machine": 1, "threads": 2, "slot_size": 1024, "table_k": 4,
             "fallback_timeout_ms": 5000, "fallback_limit": 1 << 26, "app": app}
    kinds: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
        "caller": ({"caller": 1, "app": app}, {"kind": "caller", "machine": 1}),
        "hello": (hello, {"kind": "hello"}),
        "ready": ({"ready": True}, {"kind": "ready"}),
        "error": ({"error": 0x18, "detail": "no"}, {"kind": "closes"}),
        "down": ({"down": 0, "detail": ""}, {"kind": "closes"}),
        "done": ({"done": True, "detail": ""}, {}),
        "spawn": ({"spawn": 1, "fn": "m:f", "args": [], "thread": 0}, {}),
        "joined": ({"joined": 1, "result": None}, {}),
    }
    out = []
    expect: Outcome
    for point in ("caller", "hello", "ready"):
        for kind, (m, answer) in kinds.items():
            if kind == point:
                expect, what = ok(answer), "read as that kind"
            elif kind in ("error", "down"):
                expect, what = ok(answer), "the peer refused or goes down: this side closes, sending nothing"
            else:
                expect, what = err("BAD_HEADER"), "BAD_HEADER"
            out.append(case(f"rack.point-{point}-{kind}", f"a {kind} message where the bootstrap expects "
                            f"{point}: {what}", ["PROC-13"], "rack_message",
                            {"data": message(m), "app": app, "expects": point}, expect, tags=("codec", "racks")))
    # [PROC-11] decides the code before the point does ([PROC-13]: "a failure there decides the code")
    rows: list[tuple[str, str, dict[str, Any], str]] = [
        ("rack.point-ready-hello-no-app", "a hello without app where ready is expected: [PROC-4]'s "
         "MALFORMED_CBOR, not the point's BAD_HEADER", {k: v for k, v in hello.items() if k != "app"},
         "MALFORMED_CBOR"),
        ("rack.point-hello-caller-no-app", "a caller without app where the hello is expected: MALFORMED_CBOR",
         {"caller": 1}, "MALFORMED_CBOR"),
        ("rack.point-caller-error-bad-code", "an error message with code 256 where caller is expected: "
         "[PROC-11]'s BAD_HEADER, not a close", {"error": 256, "detail": ""}, "BAD_HEADER"),
        ("rack.point-caller-ready-and-down", "ready and down in one map where caller is expected: [PROC-11]'s "
         "BAD_HEADER, not a close", {"ready": True, "down": 0}, "BAD_HEADER"),
    ]
    for cid, title, bad, code in rows:
        out.append(case(cid, title, ["PROC-11", "PROC-13"], "rack_message",
                        {"data": message(bad), "app": app, "expects": cid.split("-")[1]}, err(code),
                        tags=("codec", "racks")))
    out.append(case("rack.point-unknown", "expects names no point of the bootstrap: BAD_ARGUMENT", ["ADPT-8"],
                    "rack_message", {"data": message({"ready": True}), "app": app, "expects": "done"},
                    err("BAD_ARGUMENT"), tags=("codec", "racks")))
    return out


def cases() -> list[Case]:
    out: list[Case] = _points()

    def add(cid: str, title: str, clauses: list[str], env: dict[str, str], expect: dict[str, Any]) -> None:
        out.append(case(cid, title, clauses, "launch_env", {"env": env}, expect, tags=("codec", "racks")))

    def who(machine: int, machines: int, app: str, peers: list[list[Any]] | None,
            rendezvous: str | None = None, shape: list[list[int]] | None = None) -> dict[str, Any]:
        return ok({"machine": machine, "machines": machines, "app": app, "peers": peers, "rendezvous": rendezvous,
                   "shape": shape if shape is not None else [[1, 1]] * machines})

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
    # [PROC-8]: launcher precedence, empty variables, decimal numbers, the derived ids
    mpi_in_sbatch = {"SLURM_PROCID": "0", "SLURM_NTASKS": "1", "SLURM_JOB_ID": "40", "OMPI_COMM_WORLD_RANK": "1",
                     "OMPI_COMM_WORLD_SIZE": "2", "PMIX_NAMESPACE": "prte-7@1", "GOSSAMER_HOSTS": "h"}
    add("rack.env-openmpi-over-slurm", "mpirun inside sbatch (SLURM_* and OMPI_* set): mpirun's rank, size and id",
        ["PROC-8"], mpi_in_sbatch, who(1, 2, "openmpi:prte-7@1", _peers(["h", "h"])))
    add("rack.env-empty-is-unset", "GOSSAMER_MACHINE and GOSSAMER_APP set to \"\" count as not set: mpirun's "
        "identity and derived id", ["PROC-8"],
        {"GOSSAMER_MACHINE": "", "GOSSAMER_APP": "", "OMPI_COMM_WORLD_RANK": "0", "OMPI_COMM_WORLD_SIZE": "2",
         "PMIX_NAMESPACE": "j", "GOSSAMER_HOSTS": "h", "GOSSAMER_PORT": "", "GOSSAMER_RENDEZVOUS": ""},
        who(0, 2, "openmpi:j", _peers(["h", "h"])))
    add("rack.env-leading-zeros", "decimal numbers may have leading zeros: rank 007 of 010", ["PROC-8"],
        {"GOSSAMER_MACHINE": "007", "GOSSAMER_MACHINES": "010", "GOSSAMER_APP": "z", "GOSSAMER_HOSTS": "h",
         "GOSSAMER_PORT": "09000"}, who(7, 10, "z", _peers(["h"] * 10, 9000)))
    add("rack.env-pmix-over-jobid", "PMIX_NAMESPACE before OMPI_MCA_ess_base_jobid when both are set", ["PROC-8"],
        {"OMPI_COMM_WORLD_RANK": "0", "OMPI_COMM_WORLD_SIZE": "1", "PMIX_NAMESPACE": "pmix",
         "OMPI_MCA_ess_base_jobid": "42", "GOSSAMER_HOSTS": "h"}, who(0, 1, "openmpi:pmix", _peers(["h"])))
    add("rack.env-slurm-no-step", "srun without SLURM_STEP_ID: step 0", ["PROC-8"],
        {"SLURM_PROCID": "0", "SLURM_NTASKS": "1", "SLURM_JOB_ID": "12", "GOSSAMER_HOSTS": "h"},
        who(0, 1, "slurm:12.0", _peers(["h"])))
    # [PROC-9]: which source gives the addresses, and the Slurm node lists
    add("rack.env-hosts-over-rendezvous", "GOSSAMER_HOSTS and GOSSAMER_RENDEZVOUS: the host list; rendezvous null",
        ["PROC-9"], {"GOSSAMER_MACHINE": "0", "GOSSAMER_MACHINES": "2", "GOSSAMER_APP": "a",
                     "GOSSAMER_HOSTS": "x,y", "GOSSAMER_RENDEZVOUS": "/r"}, who(0, 2, "a", _peers(["x", "y"])))
    add("rack.env-rendezvous-over-nodelist", "srun with GOSSAMER_RENDEZVOUS: the file, the node list unread",
        ["PROC-9"], {"SLURM_PROCID": "0", "SLURM_NTASKS": "2", "SLURM_JOB_ID": "5", "GOSSAMER_RENDEZVOUS": "/r",
                     "SLURM_JOB_NODELIST": "n[1-", "SLURM_TASKS_PER_NODE": "2"}, who(0, 2, "slurm:5.0", None, "/r"))
    add("rack.env-step-nodelist", "srun: the step's node list and tasks per node before the job's", ["PROC-9"],
        {"SLURM_PROCID": "1", "SLURM_NTASKS": "2", "SLURM_JOB_ID": "5", "SLURM_STEP_ID": "1",
         "SLURM_JOB_NODELIST": "n[1-4]", "SLURM_TASKS_PER_NODE": "1(x4)",
         "SLURM_STEP_NODELIST": "n[3-4]", "SLURM_STEP_TASKS_PER_NODE": "1(x2)"},
        who(1, 2, "slurm:5.1", _peers(["n3", "n4"])))
    add("rack.env-slurm-block-dist", "srun with SLURM_DISTRIBUTION=block:cyclic: the ranks are in block order",
        ["PROC-9"], {"SLURM_PROCID": "0", "SLURM_NTASKS": "2", "SLURM_JOB_ID": "5", "SLURM_JOB_NODELIST": "n1",
                     "SLURM_TASKS_PER_NODE": "2", "SLURM_DISTRIBUTION": "block:cyclic"},
        who(0, 2, "slurm:5.0", _peers(["n1", "n1"])))
    add("rack.env-port-top", "the port rule may reach 65535 exactly", ["PROC-9"],
        {"GOSSAMER_MACHINE": "0", "GOSSAMER_MACHINES": "2", "GOSSAMER_APP": "a", "GOSSAMER_HOSTS": "h",
         "GOSSAMER_PORT": "65534"}, who(0, 2, "a", _peers(["h", "h"], 65534)))
    add("rack.env-rendezvous-app-space-hosts", "an id with a space is fine with a host list", ["PROC-10"],
        {"GOSSAMER_MACHINE": "0", "GOSSAMER_MACHINES": "1", "GOSSAMER_APP": "kv store", "GOSSAMER_HOSTS": "h"},
        who(0, 1, "kv store", _peers(["h"])))
    def slurm(nodes: str, tasks: str, n: int) -> dict[str, str]:
        return {"SLURM_PROCID": "0", "SLURM_NTASKS": str(n), "SLURM_JOB_ID": "5", "SLURM_JOB_NODELIST": nodes,
                "SLURM_TASKS_PER_NODE": tasks}

    add("rack.env-nodelist-two-groups", "a node name with two bracket groups: the leftmost varies slowest",
        ["PROC-9"], slurm("r[1-2]n[1-2]", "1(x4)", 4), who(0, 4, "slurm:5.0", _peers(["r1n1", "r1n2", "r2n1", "r2n2"])))
    add("rack.env-nodelist-padding", "a range whose lo is wider than its hi: every number padded to lo's width",
        ["PROC-9"], slurm("n[008-10],m[8-010]", "1(x6)", 6),
        who(0, 6, "slurm:5.0", _peers(["n008", "n009", "n010", "m8", "m9", "m10"])))
    # [PROC-12]: the shape
    add("rack.env-shape", "GOSSAMER_SHAPE: two servers of 4 threads (2 trustees) and a client machine of 3",
        ["PROC-12"], {"GOSSAMER_MACHINE": "2", "GOSSAMER_MACHINES": "3", "GOSSAMER_APP": "a", "GOSSAMER_HOSTS": "h",
                      "GOSSAMER_SHAPE": "4/2,4/2,3/0", "GOSSAMER_THREADS": "9"},
        who(2, 3, "a", _peers(["h"] * 3), None, [[4, 2], [4, 2], [3, 0]]))
    add("rack.env-threads", "GOSSAMER_THREADS without GOSSAMER_SHAPE: every machine that many, all trustees",
        ["PROC-12"], {"GOSSAMER_MACHINE": "0", "GOSSAMER_MACHINES": "2", "GOSSAMER_APP": "a", "GOSSAMER_HOSTS": "h",
                      "GOSSAMER_THREADS": "128"}, who(0, 2, "a", _peers(["h", "h"]), None, [[128, 128]] * 2))
    g = {"GOSSAMER_MACHINE": "0", "GOSSAMER_MACHINES": "2", "GOSSAMER_APP": "a", "GOSSAMER_HOSTS": "h"}
    for cid, title, clause, env in [
        ("rack.env-rank-without-size", "GOSSAMER_MACHINE without GOSSAMER_MACHINES (mpirun's size set)", "PROC-8",
         {"GOSSAMER_MACHINE": "0", "GOSSAMER_APP": "a", "GOSSAMER_HOSTS": "h", "OMPI_COMM_WORLD_RANK": "0",
          "OMPI_COMM_WORLD_SIZE": "2", "PMIX_NAMESPACE": "j"}),
        ("rack.env-rank-plus", "a rank with a sign (+1)", "PROC-8", {**g, "GOSSAMER_MACHINE": "+1"}),
        ("rack.env-rank-space", "a rank with a space (\" 1\")", "PROC-8", {**g, "GOSSAMER_MACHINE": " 1"}),
        ("rack.env-rank-underscore", "a size with an underscore (1_0)", "PROC-8", {**g, "GOSSAMER_MACHINES": "1_0"}),
        ("rack.env-rank-arabic-digit", "a rank in non-ASCII digits", "PROC-8", {**g, "GOSSAMER_MACHINE": "\u0661"}),
        ("rack.env-size-zero", "a rack of 0 machines", "PROC-8", {**g, "GOSSAMER_MACHINES": "0"}),
        ("rack.env-size-65537", "a rack of 65537 machines", "PROC-8", {**g, "GOSSAMER_MACHINES": "65537"}),
        ("rack.env-gossamer-no-app", "gossamer launch without GOSSAMER_APP", "PROC-8",
         {k: v for k, v in g.items() if k != "GOSSAMER_APP"}),
        ("rack.env-slurm-no-job", "srun without SLURM_JOB_ID or GOSSAMER_APP", "PROC-8",
         {"SLURM_PROCID": "0", "SLURM_NTASKS": "1", "GOSSAMER_HOSTS": "h"}),
        ("rack.env-derived-256", "a derived id of 256 bytes", "PROC-8",
         {"OMPI_COMM_WORLD_RANK": "0", "OMPI_COMM_WORLD_SIZE": "1", "PMIX_NAMESPACE": "j" * 248,
          "GOSSAMER_HOSTS": "h"}),
        ("rack.env-port-zero", "GOSSAMER_PORT 0", "PROC-8", {**g, "GOSSAMER_PORT": "0"}),
        ("rack.env-port-zero-rendezvous", "GOSSAMER_PORT 0 with a rendezvous file", "PROC-8",
         {"GOSSAMER_MACHINE": "0", "GOSSAMER_MACHINES": "2", "GOSSAMER_APP": "a", "GOSSAMER_RENDEZVOUS": "/r",
          "GOSSAMER_PORT": "0"}),
        ("rack.env-port-past-65535", "the port rule past 65535 (65535 + 1)", "PROC-9", {**g, "GOSSAMER_PORT": "65535"}),
        ("rack.env-hosts-empty-item", "a host list with an empty item (x,,y)", "PROC-9",
         {**g, "GOSSAMER_MACHINES": "2", "GOSSAMER_HOSTS": "x,,y"}),
        ("rack.env-hosts-trailing-comma", "a host list with a trailing comma (x,y,)", "PROC-9",
         {**g, "GOSSAMER_HOSTS": "x,y,"}),
        ("rack.env-hosts-space", "a host name with a space", "PROC-9", {**g, "GOSSAMER_HOSTS": "x, y"}),
        ("rack.env-mpirun-no-addresses", "mpirun with neither GOSSAMER_HOSTS nor GOSSAMER_RENDEZVOUS", "PROC-9",
         {"OMPI_COMM_WORLD_RANK": "0", "OMPI_COMM_WORLD_SIZE": "2", "PMIX_NAMESPACE": "j"}),
        ("rack.env-slurm-cyclic", "srun with SLURM_DISTRIBUTION=cyclic and only the node list", "PROC-9",
         {"SLURM_PROCID": "0", "SLURM_NTASKS": "2", "SLURM_JOB_ID": "5", "SLURM_JOB_NODELIST": "n[1-2]",
          "SLURM_TASKS_PER_NODE": "1(x2)", "SLURM_DISTRIBUTION": "cyclic"}),
        ("rack.env-slurm-tasks-short", "srun: tasks per node add up to 3 for SLURM_NTASKS 4", "PROC-9",
         {"SLURM_PROCID": "0", "SLURM_NTASKS": "4", "SLURM_JOB_ID": "5", "SLURM_JOB_NODELIST": "n[1-2]",
          "SLURM_TASKS_PER_NODE": "2,1"}),
        ("rack.env-slurm-step-half", "srun: a step node list without its tasks per node (the job's set)", "PROC-9",
         {"SLURM_PROCID": "0", "SLURM_NTASKS": "2", "SLURM_JOB_ID": "5", "SLURM_JOB_NODELIST": "n[1-2]",
          "SLURM_TASKS_PER_NODE": "1(x2)", "SLURM_STEP_NODELIST": "n[1-2]"}),
        ("rack.env-nodelist-empty-name", "a node list with an empty name (a,,b)", "PROC-9",
         {**slurm("a,,b", "1(x2)", 2)}),
        ("rack.env-nodelist-trailing-comma", "a node list with a trailing comma", "PROC-9", slurm("a,b,", "1(x2)", 2)),
        ("rack.env-nodelist-space", "a node list with a space before a name", "PROC-9", slurm("a, b", "1(x2)", 2)),
        ("rack.env-nodelist-close-bracket", "a node name holding an unopened ']'", "PROC-9", slurm("a],b", "1(x2)", 2)),
        ("rack.env-nodelist-nested", "a bracket inside a bracket", "PROC-9", slurm("n[[1-2]]", "1(x2)", 2)),
        ("rack.env-nodelist-unclosed", "an unclosed bracket", "PROC-9", slurm("n[1-2", "1(x2)", 2)),
        ("rack.env-nodelist-empty-group", "an empty bracket group", "PROC-9", slurm("n[],m[1]", "1(x2)", 2)),
        ("rack.env-nodelist-arabic", "a range in non-ASCII digits", "PROC-9", slurm("n[\u0661-\u0662]", "1(x2)", 2)),
        ("rack.env-tasks-zero", "tasks per node 0 for one node", "PROC-9", slurm("a,b,c", "1,0,1", 2)),
        ("rack.env-tasks-times-zero", "tasks per node n(x0)", "PROC-9", slurm("a", "2,1(x0)", 2)),
        ("rack.env-rendezvous-app-space", "an application id with a space and a rendezvous file", "PROC-10",
         {"GOSSAMER_MACHINE": "0", "GOSSAMER_MACHINES": "1", "GOSSAMER_APP": "kv store", "GOSSAMER_RENDEZVOUS": "/r"}),
        ("rack.env-rendezvous-app-del", "an application id with U+007F and a rendezvous file", "PROC-10",
         {"SLURM_PROCID": "0", "SLURM_NTASKS": "1", "GOSSAMER_APP": "kv\x7f", "GOSSAMER_RENDEZVOUS": "/r"}),
        ("rack.env-shape-count", "GOSSAMER_SHAPE of 2 entries for 3 machines", "PROC-12",
         {**g, "GOSSAMER_MACHINES": "3", "GOSSAMER_SHAPE": "4/2,3"}),
        ("rack.env-shape-one-entry", "GOSSAMER_SHAPE of 1 entry for 2 machines (one entry does not stand for all)",
         "PROC-12", {**g, "GOSSAMER_SHAPE": "4"}),
        ("rack.env-shape-r-past-t", "a shape entry 2/3 (more trustees than threads)", "PROC-12",
         {**g, "GOSSAMER_SHAPE": "2/3,2"}),
        ("rack.env-shape-space", "a shape entry with a space", "PROC-12", {**g, "GOSSAMER_SHAPE": "4, 4"}),
        ("rack.env-shape-zero-threads", "a shape entry of 0 threads", "PROC-12", {**g, "GOSSAMER_SHAPE": "0/0,4"}),
        ("rack.env-threads-129", "2 machines of 129 threads: past [LIM-3]", "PROC-12",
         {**g, "GOSSAMER_THREADS": "129"}),
        ("rack.env-threads-zero", "GOSSAMER_THREADS 0", "PROC-12", {**g, "GOSSAMER_THREADS": "0"}),
    ]:
        add(cid, f"{title}: BAD_ARGUMENT", [clause], env, err("BAD_ARGUMENT"))
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

"""The launcher environment ([PROC-1], [PROC-2], [PROC-3]) over fake environments."""

from __future__ import annotations

import pytest

from gossamer.launch_env import (
    DEFAULT_PORT,
    LaunchEnvError,
    expand_hostlist,
    expand_tasks_per_node,
    from_environ,
    parse_rendezvous,
    rendezvous_line,
)


@pytest.mark.clause("PROC-1", "PROC-2")
def test_openmpi_rank_size_job_and_host_list() -> None:
    env = {"OMPI_COMM_WORLD_RANK": "2", "OMPI_COMM_WORLD_SIZE": "3", "OMPI_COMM_WORLD_LOCAL_RANK": "0",
           "PMIX_NAMESPACE": "prterun-h0-4242@1", "GOSSAMER_HOSTS": "h0,h1,h2"}
    info = from_environ(env)
    assert (info.machine, info.machines, info.launcher) == (2, 3, "openmpi")
    assert info.app == "openmpi:prterun-h0-4242@1"
    assert info.peers == (("h0", DEFAULT_PORT), ("h1", DEFAULT_PORT + 1), ("h2", DEFAULT_PORT + 2))
    assert info.address(1) == ("h1", DEFAULT_PORT + 1)
    # OpenMPI 3's job id variable, a base port, a rendezvous file instead of hosts
    env = {"OMPI_COMM_WORLD_RANK": "0", "OMPI_COMM_WORLD_SIZE": "2", "OMPI_MCA_ess_base_jobid": "77",
           "GOSSAMER_RENDEZVOUS": "/shared/rdv", "GOSSAMER_PORT": "9000"}
    info = from_environ(env)
    assert (info.app, info.peers, info.rendezvous, info.port) == ("openmpi:77", None, "/shared/rdv", 9000)
    assert info.address(1) is None


@pytest.mark.clause("PROC-1", "PROC-2")
def test_slurm_block_placement_from_nodelist() -> None:
    env = {"SLURM_PROCID": "4", "SLURM_NTASKS": "5", "SLURM_JOB_ID": "991", "SLURM_STEP_ID": "3",
           "SLURM_JOB_NODELIST": "node[01-02],gpu7", "SLURM_TASKS_PER_NODE": "2(x2),1"}
    info = from_environ(env)
    assert (info.machine, info.machines, info.app, info.launcher) == (4, 5, "slurm:991.3", "slurm")
    assert info.peers is not None
    assert [h for h, _ in info.peers] == ["node01", "node01", "node02", "node02", "gpu7"]
    assert [p for _, p in info.peers] == [DEFAULT_PORT + m for m in range(5)]
    # the step's own node list wins over the job's; GOSSAMER_HOSTS over both
    env2 = {**env, "SLURM_STEP_NODELIST": "a[1-5]", "SLURM_STEP_TASKS_PER_NODE": "1(x5)"}
    assert [h for h, _ in from_environ(env2).peers or ()] == ["a1", "a2", "a3", "a4", "a5"]
    env3 = {**env, "GOSSAMER_HOSTS": "x,y,z,u,v"}
    assert [h for h, _ in from_environ(env3).peers or ()] == ["x", "y", "z", "u", "v"]
    with pytest.raises(LaunchEnvError, match="places 6 tasks, SLURM_NTASKS is 5"):
        from_environ({**env, "SLURM_NTASKS": "5", "SLURM_TASKS_PER_NODE": "2(x2),2", "SLURM_PROCID": "0"})


@pytest.mark.clause("PROC-1", "PROC-2", "PROC-3")
def test_gossamer_launch_local_and_hosts() -> None:
    env = {"GOSSAMER_MACHINE": "1", "GOSSAMER_MACHINES": "3", "GOSSAMER_APP": "local:abc",
           "GOSSAMER_RENDEZVOUS": "/tmp/x/rdv", "GOSSAMER_BIND": "127.0.0.1",
           "OMPI_COMM_WORLD_RANK": "0", "OMPI_COMM_WORLD_SIZE": "9"}  # gossamer's own variables win
    info = from_environ(env)
    assert (info.machine, info.machines, info.app, info.launcher, info.bind_host) == (1, 3, "local:abc", "gossamer",
                                                                                      "127.0.0.1")
    one_host = {"GOSSAMER_MACHINE": "0", "GOSSAMER_MACHINES": "2", "GOSSAMER_APP": "a", "GOSSAMER_HOSTS": "h"}
    assert from_environ(one_host).peers == (("h", DEFAULT_PORT), ("h", DEFAULT_PORT + 1))


@pytest.mark.parametrize(("env", "needle"), [
    ({}, "no launcher environment"),
    ({"GOSSAMER_MACHINE": "0", "GOSSAMER_MACHINES": "2", "GOSSAMER_HOSTS": "a,b"}, "GOSSAMER_APP"),
    ({"GOSSAMER_MACHINE": "2", "GOSSAMER_MACHINES": "2", "GOSSAMER_APP": "a", "GOSSAMER_HOSTS": "a,b"},
     "outside a rack of 2"),
    ({"GOSSAMER_MACHINE": "x", "GOSSAMER_MACHINES": "2"}, "not a decimal number"),
    ({"GOSSAMER_MACHINE": "0", "GOSSAMER_MACHINES": "3", "GOSSAMER_APP": "a", "GOSSAMER_HOSTS": "a,b"},
     "2 hosts for 3"),
    ({"GOSSAMER_MACHINE": "0", "GOSSAMER_MACHINES": "2", "GOSSAMER_APP": "a"}, "no bootstrap addresses"),
    ({"GOSSAMER_MACHINE": "0", "GOSSAMER_MACHINES": "2", "GOSSAMER_APP": "é" * 128, "GOSSAMER_HOSTS": "a"},
     "256 bytes"),
    ({"OMPI_COMM_WORLD_RANK": "0", "OMPI_COMM_WORLD_SIZE": "2", "GOSSAMER_HOSTS": "a,b"}, "GOSSAMER_APP"),
    ({"SLURM_PROCID": "0", "SLURM_NTASKS": "2", "SLURM_JOB_ID": "5"}, "no bootstrap addresses"),
    ({"GOSSAMER_MACHINE": "0", "GOSSAMER_MACHINES": "2", "GOSSAMER_APP": "a", "GOSSAMER_HOSTS": "a,b",
      "GOSSAMER_PORT": "65535"}, "port rule"),
])
def test_bad_environments_say_what_is_missing(env: dict[str, str], needle: str) -> None:
    with pytest.raises(LaunchEnvError, match=needle):
        from_environ(env)


@pytest.mark.clause("PROC-8", "PROC-3")
def test_an_application_id_that_is_not_utf8_fails() -> None:
    """[PROC-8] step 3: os.environ gives undecodable bytes as surrogate escapes; such an id is not
    1 to 255 bytes of UTF-8 and the process does not start (no UnicodeEncodeError escapes)."""
    raw = b"kv-\xff".decode("utf-8", "surrogateescape")
    with pytest.raises(LaunchEnvError, match="UTF-8"):
        from_environ({"GOSSAMER_MACHINE": "0", "GOSSAMER_MACHINES": "1", "GOSSAMER_APP": raw, "GOSSAMER_HOSTS": "h"})


def test_slurm_host_list_syntax() -> None:
    assert expand_hostlist("node[01-03,7],gpu5") == ["node01", "node02", "node03", "node7", "gpu5"]
    assert expand_hostlist("r[1-2]n[08-09]") == ["r1n08", "r1n09", "r2n08", "r2n09"]
    assert expand_hostlist("single") == ["single"]
    assert expand_tasks_per_node("2(x3),1") == [2, 2, 2, 1]
    for bad in ("n[1-", "n]1[", "n[a-b]", "n[3-1]"):
        with pytest.raises(LaunchEnvError):
            expand_hostlist(bad)
    with pytest.raises(LaunchEnvError):
        expand_tasks_per_node("2(y3)")


@pytest.mark.clause("PROC-2")
def test_rendezvous_file_lines() -> None:
    text = (rendezvous_line("app1", 1, ("10.0.0.2", 4000)) + rendezvous_line("other", 0, ("h", 1))
            + rendezvous_line("app1", 0, ("10.0.0.1", 4001)) + "app1 2 10.0.0")  # the last still being written
    assert parse_rendezvous(text, "app1", 3) == {1: ("10.0.0.2", 4000), 0: ("10.0.0.1", 4001)}
    assert parse_rendezvous(text, "other", 3) == {0: ("h", 1)}
    with pytest.raises(LaunchEnvError, match="machine 1 at"):
        parse_rendezvous(text[: text.rfind("\n") + 1] + "app1 1 10.0.0.9 4000\n", "app1", 3)
    with pytest.raises(LaunchEnvError, match="outside"):
        parse_rendezvous("app1 3 h 1\n", "app1", 3)
    with pytest.raises(LaunchEnvError, match="not 'app machine host port'"):
        parse_rendezvous("app1 zero h 1\n", "app1", 3)


@pytest.mark.clause("PROC-10")
def test_rendezvous_file_format_corners() -> None:
    """[PROC-10]: single spaces, LF endings; other applications' lines skipped whatever they hold; a
    line of this application that is malformed, or two addresses for one machine, is an error."""
    good = "app1 0 h0 4000\n"
    assert parse_rendezvous("junk line with many fields\nother\n" + good, "app1", 2) == {0: ("h0", 4000)}
    assert parse_rendezvous(good + good, "app1", 2) == {0: ("h0", 4000)}  # the same line twice is one
    assert parse_rendezvous(good + "app1 1 h1 4001", "app1", 2) == {0: ("h0", 4000)}  # no LF yet: not read
    assert parse_rendezvous("app10 1 h 1\n", "app1", 2) == {}  # the first field is compared whole
    for bad in ("app1  0 h0 4000\n", "app1 0 h0 4000 \n", "app1 0 h0\n", "app1 0 h0 4000\r\n",
                "app1 0 h0 0\n", "app1 0 h0 65536\n", "app1 +0 h0 4000\n", "app1 0  4000\n"):
        with pytest.raises(LaunchEnvError):
            parse_rendezvous(bad, "app1", 2)
    # the same address: the same host text and the same numbers (07 is 7, 00 is 0)
    assert parse_rendezvous(good + "app1 00 h0 04000\n", "app1", 2) == {0: ("h0", 4000)}
    for other in ("app1 0 H0 4000\n", "app1 0 h0.local 4000\n"):  # no case folding, no name resolution
        with pytest.raises(LaunchEnvError):
            parse_rendezvous(good + other, "app1", 2)


@pytest.mark.clause("PROC-8", "PROC-9", "PROC-10", "PROC-12")
def test_launch_env_cases_on_reference_and_oracle() -> None:
    """The suite's `rack.env-*` cases, judged against the reference and the suite's oracle."""
    from conformance.cases import catalogue
    from conformance.oracle.target import OracleTarget
    from conformance.runner import run
    from conformance.targets.reference import ReferenceTarget

    cases = [c for c in catalogue() if c.op == "launch_env"]
    assert {cl for c in cases for cl in c.clauses} >= {"PROC-8", "PROC-9", "PROC-10", "PROC-12"}
    for target in (ReferenceTarget(), OracleTarget()):
        bad = [r.case.id for r in run(target, cases).results if r.verdict.name != "PASS"]
        assert not bad, (type(target).__name__, bad)


@pytest.mark.clause("PROC-12")
def test_the_shape_comes_from_the_environment() -> None:
    env = {"GOSSAMER_MACHINE": "0", "GOSSAMER_MACHINES": "3", "GOSSAMER_APP": "a", "GOSSAMER_HOSTS": "h",
           "GOSSAMER_SHAPE": "32/6,32/6,192/0"}
    assert from_environ(env).shape == ((32, 6), (32, 6), (192, 0))
    assert from_environ({**env, "GOSSAMER_SHAPE": "", "GOSSAMER_THREADS": "4"}).shape == ((4, 4),) * 3
    with pytest.raises(LaunchEnvError, match="16-bit"):
        from_environ({**env, "GOSSAMER_SHAPE": "", "GOSSAMER_THREADS": "200"})

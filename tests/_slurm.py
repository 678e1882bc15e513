"""The single-node Slurm test cluster as a pytest fixture: ``ci/slurm/start.sh``, once.

``cluster_project`` is a registered project whose benchmarks run on it, and the helpers
below poll `bench status` and Slurm the way the cluster tests do. The fixture brings the
cluster up for real (installing the Debian packages when they are
missing, as on a fresh CI machine). It skips only where the script cannot work at all:
not root, or the Slurm binaries absent with no apt-get to install them. Any other failure
of the script is a test error carrying the script's output, never a skip.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from _support import commit_all, create_python_project, python_manifest

from benchstone.runner import task_states

ROOT = Path(__file__).resolve().parent.parent
START = ROOT / "ci" / "slurm" / "start.sh"
_BINARIES = ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "sacct", "scancel", "sinfo")


@dataclass(frozen=True)
class SlurmCluster:
    """What a test needs to submit to the test cluster."""

    partition: str
    node: str
    jobcomp: Path


def _skip_reason() -> str | None:
    if os.geteuid() != 0:
        return "the single-node Slurm (ci/slurm/start.sh) starts daemons and must run as root"
    missing = [b for b in _BINARIES if shutil.which(b) is None]
    if missing and shutil.which("apt-get") is None:
        return f"Slurm binaries missing ({', '.join(missing)}) and no apt-get to install them"
    return None


@pytest.fixture(scope="session")
def slurm_cluster() -> SlurmCluster:
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    proc = subprocess.run(
        ["bash", str(START)], capture_output=True, text=True, timeout=900, check=False
    )
    if proc.returncode != 0:
        pytest.fail(
            f"ci/slurm/start.sh failed (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}",
            pytrace=False,
        )
    conf = dict(
        line.split("=", 1)
        for line in Path("/etc/slurm/slurm.conf").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    )
    return SlurmCluster(
        partition="bench",
        node=socket.gethostname().split(".")[0],
        jobcomp=Path(conf["JobCompLoc"].strip()),
    )


DEADLINE = 180.0  # generous bound on a loaded machine; not a timing assertion

RUNNER = """\
import sys
import time

from benchstone.protocol import Runner

runner = Runner()


@runner.entry_point
def speed(config):
    # bench/tuning.txt is git-ignored but part of the locked evaluator (under bench/).
    return float(open("bench/tuning.txt").read()) + (config.seed % 7) * 0.001


@runner.entry_point
def peek(config):
    # The code under test knows the spool from the manifest: it looks for the job's nonce
    # (to forge sealed bundles) and plants a file for the submitter to ingest.
    import tomllib
    from pathlib import Path

    spool = Path(tomllib.loads(Path("bench/manifest.toml").read_text())["slurm"]["spool"])
    nonces = [p.read_text() for p in spool.glob("*/nonce")] if spool.is_dir() else []
    try:
        (spool / f"planted-{config.seed}").write_text("forged")
    except OSError:
        pass
    return float(len(nonces))


@runner.entry_point
def built(config):
    # build.txt is made by the project's setup command, never committed.
    return float(len(open("build.txt").read()))


@runner.entry_point
def slow(config):
    time.sleep(60)
    return 1.0


runner.main()
"""


def _manifest(
    name: str, spool: Path, *, extra_args: str = "[]", more: str = "", setup: str = ""
) -> str:
    benchmarks = """
[[benchmarks]]
name = "speed"
tier = "performance"
metric_direction = "minimize"
repetitions = 4
baseline_seeds = [1, 2, 3, 4]

[[benchmarks]]
name = "peek"
tier = "performance"
metric_direction = "minimize"
repetitions = 2

[[benchmarks]]
name = "slow"
tier = "performance"
metric_direction = "minimize"
repetitions = 4
baseline_seeds = [1, 2, 3, 4]
"""
    slurm = f"""
[slurm]
spool = "{spool}"
partition = "bench"
time_limit = "10"
poll_seconds = 0.3
extra_args = {extra_args}
{more}
"""
    project = 'executor = "slurm"'
    if setup:  # and a benchmark that fails unless setup ran in its checkout
        project += f"\nsetup = {setup!r}"
        benchmarks += BUILT
    return python_manifest(name, extra=project, benchmarks=benchmarks) + slurm


BUILT = """
[[benchmarks]]
name = "built"
tier = "performance"
metric_direction = "minimize"
repetitions = 2
baseline_seeds = [1, 2]
"""


@pytest.fixture
def cluster_project(slurm_cluster, tmp_path: Path, bench):
    """A registered project whose benchmarks run on the test cluster (spool under tmp)."""

    def make(name: str = "onslurm", **options: str) -> Path:
        root = create_python_project(
            tmp_path,
            name,
            manifest=_manifest(name, tmp_path / "spool", **options),
        )
        (root / "bench" / "runner.py").write_text(RUNNER)
        (root / ".gitignore").write_text("bench/tuning.txt\nbuild.txt\n")
        (root / "bench" / "tuning.txt").write_text("1.0\n")
        commit_all(root, "cluster runner")
        result = bench("register", str(root))
        assert result.code == 0, result.err
        return root

    return make


def _history(bench, project: str, benchmark: str) -> list[dict]:
    result = bench("history", project, benchmark, "--json")
    assert result.code == 0, result.err
    return json.loads(result.out)["runs"]


def _job(bench, job_id: str) -> dict:
    result = bench("status", "--all", "--json")
    assert result.code == 0, result.err
    (found,) = [j for j in json.loads(result.out)["jobs"] if j["id"] == job_id]
    return found


def _until_done(bench, job_id: str) -> dict:
    """`bench status` until it has ingested the whole job (each call is one ingest pass)."""
    end = time.monotonic() + DEADLINE
    while True:
        job = _job(bench, job_id)
        if job["state"] in ("done", "failed"):
            return job
        assert time.monotonic() < end, f"job {job_id} not finished: {job}"
        time.sleep(0.5)


def _wait_slurm(slurm_job: str, tasks: int, *, finished: bool = True) -> None:
    end = time.monotonic() + DEADLINE
    while True:
        states = task_states(slurm_job, tasks)
        if finished and all(s.finished for s in states.values()):
            return
        if not finished and any(s.value == "running" for s in states.values()):
            return
        assert time.monotonic() < end, f"slurm job {slurm_job}: {states}"
        time.sleep(0.3)

"""The single-node Slurm test cluster as a pytest fixture: ``ci/slurm/start.sh``, once.

The fixture brings the cluster up for real (installing the Debian packages when they are
missing, as on a fresh CI machine). It skips only where the script cannot work at all:
not root, or the Slurm binaries absent with no apt-get to install them. Any other failure
of the script is a test error carrying the script's output, never a skip.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

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

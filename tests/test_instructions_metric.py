"""metric_source = "instructions": a real workload counted by real valgrind, sealed."""

from __future__ import annotations

import json
import shutil
import sys
import textwrap
from pathlib import Path

import pytest
from _support import PROTOCOL_ARGS, commit_all, git

pytestmark = pytest.mark.skipif(
    shutil.which("valgrind") is None or shutil.which("cc") is None, reason="valgrind or cc missing"
)

WORKLOAD = """\
#include <stdio.h>
int main(void) {
    volatile unsigned long total = 0;
    for (unsigned long i = 0; i < WORK; i++) total += i * i;
    return total == 42;
}
"""
RUNNER = """\
import json, subprocess, sys
args = dict(a.split("=", 1) for a in sys.argv[1:])
subprocess.run(["./work"], check=False)
json.dump({"status": "ok", "metric": 1.0}, open(args["--output"], "w"))
"""


def _project(root: Path, work: int) -> None:
    import subprocess

    # The code under test (work.c and its binary) lives outside the locked bench/.
    (root / "bench").mkdir(parents=True, exist_ok=True)
    (root / "work.c").write_text(WORKLOAD.replace("WORK", f"{work}UL"))
    subprocess.run(["cc", "-O1", "-o", str(root / "work"), str(root / "work.c")], check=True)
    (root / "bench" / "runner.py").write_text(RUNNER)
    (root / "bench" / "manifest.toml").write_text(
        textwrap.dedent(
            f"""\
            [project]
            name = "counted"
            invocation = "{sys.executable} bench/runner.py {PROTOCOL_ARGS}"

            [[benchmarks]]
            name = "loop"
            tier = "performance"
            metric_direction = "minimize"
            metric_source = "instructions"
            repetitions = 3
            baseline_seeds = [1, 2, 3]
            timeout_seconds = 120
            """
        )
    )


def test_instructions_gate_a_three_percent_change(tmp_path, bench):
    root = tmp_path / "proj"
    _project(root, 20_000_000)
    git(root, "init", "-q")
    commit_all(root, "baseline")
    assert bench("register", str(root)).code == 0
    assert bench("baseline", "establish", "counted", "loop").code == 0
    _project(root, 19_400_000)  # 3 % less work in the loop
    commit_all(root, "less work")
    run = bench("run", "counted", "loop", "--json")
    assert run.code == 0, run.err
    counts = [r["instructions"] for r in json.loads(run.out)["runs"]]
    assert all(isinstance(c, int) and c > 1_000_000 for c in counts)
    verdict = bench("evaluate", "counted", "loop", "--json")
    document = json.loads(verdict.out)
    assert document["kind"] == "PROMOTE", document["reason"]
    assert verdict.code == 0

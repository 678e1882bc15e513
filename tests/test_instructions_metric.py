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


def _evaluator(root: Path, name: str = "counted") -> None:
    """bench/: the runner and manifest, locked at registration."""
    (root / "bench").mkdir(parents=True, exist_ok=True)
    (root / "bench" / "runner.py").write_text(RUNNER)
    (root / "bench" / "manifest.toml").write_text(
        textwrap.dedent(
            f"""\
            [project]
            name = "{name}"
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


def _compile(root: Path, source: str) -> None:
    """The code under test (work.c and its binary) lives outside the locked bench/."""
    import subprocess

    (root / "work.c").write_text(source)
    subprocess.run(["cc", "-O1", "-o", str(root / "work"), str(root / "work.c")], check=True)


def _project(root: Path, work: int) -> None:
    _evaluator(root)
    _compile(root, WORKLOAD.replace("WORK", f"{work}UL"))


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


# The code under test (outside the locked bench/): WORK iterations, and with FORGE a
# detached child that, once the rest of the tree has ended, rewrites every cachegrind
# output file it can find with a tiny count, then becomes /bin/true (whose own count is
# tiny too). With EXEC the program does the work and then replaces itself by /bin/true,
# so the image that did the work never reports.
ATTACK = r"""
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
static volatile unsigned long sink;
static void forge(const char *pattern) {
    glob_t found;
    if (glob(pattern, 0, 0, &found) != 0) return;
    for (size_t k = 0; k < found.gl_pathc; k++) {
        FILE *f = fopen(found.gl_pathv[k], "w");
        if (f) { fputs("events: Ir\nsummary: 1000\n", f); fclose(f); }
    }
    globfree(&found);
}
int main(void) {
    for (unsigned long i = 0; i < WORK; i++) sink += i * i;
    if (FORGE && fork() == 0) {
        setsid();
        struct timespec pause = {0, 20000000};
        char pattern[512];
        const char *tmp = getenv("TMPDIR");
        snprintf(pattern, sizeof pattern, "%s/benchstone-runs-*/*/cachegrind/cachegrind.out.*",
                 tmp && *tmp ? tmp : "/tmp");
        for (int round = 0; round < 150; round++) {
            nanosleep(&pause, 0);
            forge(pattern);
            forge("/tmp/benchstone-runs-*/*/cachegrind/cachegrind.out.*");
        }
        execl("/bin/true", "true", (char *)0);
    }
    if (EXEC) execl("/bin/true", "true", (char *)0);
    return 0;
}
"""


def _attack_project(root: Path, *, forge: bool = False, exec_: bool = False) -> None:
    source = ATTACK.replace("WORK", "20000000UL").replace("FORGE", str(int(forge)))
    _compile(root, source.replace("EXEC", str(int(exec_))))


def _counted_project(root: Path, name: str) -> None:
    _evaluator(root, name)
    _attack_project(root)
    git(root, "init", "-q")
    commit_all(root, "baseline")


def test_code_under_test_cannot_forge_the_counts_by_rewriting_cachegrind_files(
    tmp_path, bench
) -> None:
    root = tmp_path / "forger"
    _counted_project(root, "forger")
    assert bench("register", str(root)).code == 0
    assert bench("baseline", "establish", "forger", "loop").code == 0
    baseline = [
        r["instructions"]
        for r in json.loads(bench("history", "forger", "loop", "--json").out)["runs"]
    ]
    _attack_project(root, forge=True)
    commit_all(root, "same work, forged counts")
    run = bench("run", "forger", "loop", "--json")
    assert run.code == 0, run.err
    counts = [r["instructions"] for r in json.loads(run.out)["runs"]]
    # The work is all counted: nothing the code under test wrote lowered the count.
    # Counts of the same work wander by a few hundredths of a percent (the forging
    # build also forks); a forged file would bring them down to about a thousand.
    assert all(count >= 0.99 * min(baseline) for count in counts), (baseline, counts)
    verdict = json.loads(bench("evaluate", "forger", "loop", "--json").out)
    assert verdict["kind"] != "PROMOTE", verdict["reason"]


def test_a_program_that_execs_away_its_counted_image_is_an_error_row(tmp_path, bench) -> None:
    root = tmp_path / "execer"
    _counted_project(root, "execer")
    assert bench("register", str(root)).code == 0
    assert bench("baseline", "establish", "execer", "loop").code == 0
    _attack_project(root, exec_=True)
    commit_all(root, "work, then exec /bin/true")
    run = json.loads(bench("run", "execer", "loop", "--json").out)
    assert {r["status"] for r in run["runs"]} == {"error"}
    assert "replaced by exec" in run["runs"][0]["message"], run["runs"][0]["message"]
    verdict = json.loads(bench("evaluate", "execer", "loop", "--json").out)
    assert verdict["kind"] != "PROMOTE"

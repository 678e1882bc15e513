"""`bench demo`: the whole gating loop on a throwaway project, with real output.

It builds a git repository with a Python runner (written with benchstone.protocol's helper)
whose metric is a "runtime" that depends on a constant in the code under test (outside the
locked bench/) plus seeded noise, points BENCHSTONE_HOME at a temp dir, and runs the real
commands in this process: register, baseline establish, an improved commit measured side
by side with the baseline commit (PROMOTE, then promote), and a regressed commit measured
until decided (REJECT, with the repetitions it needed). Everything lives in one temp dir
that is removed at the end.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import click

INTERRUPTED_EXIT_CODE = 130
PROJECT = "demo_project"
BENCHMARK = "sort_runtime"

PROTOCOL_ARGS = "--entry={entry_point} --config={config_path} --output={output_path}"

MANIFEST = """\
[project]
name = "{project}"
language = "python"
invocation = "PYTHONDONTWRITEBYTECODE=1 {python} -m bench.runner {protocol_args}"

[[benchmarks]]
name = "{benchmark}"
entry_point = "{benchmark}"
tier = "performance"
metric_direction = "minimize"
repetitions = 5
baseline_seeds = [1, 2, 3, 4, 5]
promotion_sigma = 2.0
expected_runtime_seconds = 1
"""

# The code under test lives outside bench/ (the locked evaluator): its "speed" is one
# constant the demo's commits change. `-m bench.runner` from the project root imports it.
CODE = """\
COST_PER_ITEM = {cost}
"""

RUNNER = """\
import random

from benchstone.protocol import Runner

from sorting import COST_PER_ITEM

runner = Runner()


@runner.entry_point
def {benchmark}(config):
    noise = random.Random(config.seed).gauss(0.0, 0.01)
    return COST_PER_ITEM * 1000 * (1.0 + noise)


runner.main()
"""


def run_demo() -> int:
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="benchstone-demo-") as tmp:
        root = Path(tmp) / PROJECT
        home = Path(tmp) / "home"
        _make_project(root)
        saved = os.environ.get("BENCHSTONE_HOME")
        os.environ["BENCHSTONE_HOME"] = str(home)
        try:
            _say(f"# a throwaway project at {root}, its store at {home}")
            _bench("register", str(root))
            _bench("baseline", "establish", PROJECT, BENCHMARK)
            _say(f"# isolation of those repetitions: {_isolation()}")
            _say("\n# an improvement: COST_PER_ITEM 1.00 -> 0.95 (5% faster), committed;")
            _say("# `bench run` times it side by side with the baseline commit, pair by pair")
            _commit_cost(root, 0.95, "faster inner loop")
            _bench("run", PROJECT, BENCHMARK)
            promote_code = _bench("evaluate", PROJECT, BENCHMARK)
            if promote_code == 0:
                _bench("promote", PROJECT, BENCHMARK)
            _say("\n# a regression: COST_PER_ITEM 0.95 -> 1.05 (10% slower), committed;")
            _say("# pairs are added until the gate decides (its alpha spent in stages)")
            _commit_cost(root, 1.05, "a change that made it slower")
            _bench("run", PROJECT, BENCHMARK, "--until-decided", "-n", "3")
            reject_code = _bench("evaluate", PROJECT, BENCHMARK)
            _bench("history", PROJECT, BENCHMARK, "--limit", "6")
        finally:
            if saved is None:
                os.environ.pop("BENCHSTONE_HOME", None)
            else:
                os.environ["BENCHSTONE_HOME"] = saved
    elapsed = time.monotonic() - started
    as_expected = (promote_code, reject_code) == (0, 1)
    _say(
        f"\n# demo finished in {elapsed:.1f}s: improvement exit {promote_code} (0 = PROMOTE), "
        f"regression exit {reject_code} (1 = REJECT)"
        f"{'' if as_expected else ' -- NOT the expected verdicts'}; temp dir removed"
    )
    return 0 if as_expected else 1


def _isolation() -> str:
    """The sandbox level the last repetition ran at, as its row records it."""
    from benchstone import api

    (last,) = api.history(PROJECT, BENCHMARK, limit=1)
    if last.isolation == "namespaces":
        return "namespaces (bubblewrap: own user, mount, pid and ipc namespaces; store hidden)"
    return f"{last.isolation} (unsealed)"


def _say(text: str) -> None:
    click.echo(text)


def _bench(*args: str) -> int:
    _say("$ bench " + " ".join(shlex.quote(a) for a in args))
    from benchstone.cli._app import main

    code = main(list(args))
    _say(f"[exit {code}]")
    if code == INTERRUPTED_EXIT_CODE:  # Ctrl-C stops the demo, not just this step
        raise KeyboardInterrupt
    return code


def _git(root: Path, *args: str) -> None:
    subprocess.run(
        [
            "git",
            "-c",
            "user.name=benchstone demo",
            "-c",
            "user.email=demo@benchstone.invalid",
            "-c",
            "commit.gpgsign=false",
            *args,
        ],
        cwd=root,
        check=True,
        capture_output=True,
    )


def _make_project(root: Path) -> None:
    (root / "bench").mkdir(parents=True)
    (root / "bench" / "manifest.toml").write_text(
        MANIFEST.format(
            project=PROJECT,
            benchmark=BENCHMARK,
            python=shlex.quote(sys.executable),
            protocol_args=PROTOCOL_ARGS,
        )
    )
    (root / "bench" / "runner.py").write_text(RUNNER.format(benchmark=BENCHMARK))
    (root / "sorting.py").write_text(CODE.format(cost="1.00"))
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "baseline implementation")


def _commit_cost(root: Path, cost: float, message: str) -> None:
    (root / "sorting.py").write_text(CODE.format(cost=f"{cost:.2f}"))
    _git(root, "commit", "-q", "-am", message)

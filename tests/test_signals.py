"""SIGTERM to a foreground `bench run` (what a CI timeout sends) kills the benchmark too."""

from __future__ import annotations

import os
import signal
import subprocess
import time

from _support import PROTOCOL_ARGS, bench_command, commit_all, git, live_processes_in

SLEEPER = """\
import os, sys, time
from pathlib import Path
Path(sys.argv[1]).write_text(str(os.getpid()))
time.sleep(120)
"""


def test_sigterm_kills_the_running_benchmark_and_exits_143(tmp_path, home):
    root = tmp_path / "sleepy"
    (root / "bench").mkdir(parents=True)
    pid_file = tmp_path / "child.pid"
    (root / "bench" / "sleeper.py").write_text(SLEEPER)
    (root / "bench" / "manifest.toml").write_text(
        '[project]\nname = "sleepy"\n'
        f'invocation = "python3 bench/sleeper.py {pid_file} # {PROTOCOL_ARGS}"\n'
        '[[benchmarks]]\nname = "nap"\ntier = "performance"\nmetric_direction = "minimize"\n'
        "repetitions = 2\nbaseline_seeds = [1, 2]\n"
    )
    git(root, "init", "-q", "-b", "main")
    commit_all(root, "initial")
    env = dict(os.environ, BENCHSTONE_HOME=str(home))
    assert subprocess.run([*bench_command(), "register", str(root)], env=env).returncode == 0

    proc = subprocess.Popen(
        [*bench_command(), "run", "sleepy", "nap"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while not pid_file.exists() or not pid_file.read_text():
        assert time.monotonic() < deadline, "the benchmark never started"
        time.sleep(0.05)
    assert live_processes_in(root)  # the sleeper (its pid file holds a namespace pid)

    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM, out + err
    assert err.strip().splitlines()[-1] == "Error: terminated by SIGTERM"
    deadline = time.monotonic() + 10
    while live_processes_in(root) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert live_processes_in(root) == []
    assert "run=" not in out  # no repetition finished, none was recorded as one

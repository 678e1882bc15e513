"""Progress of a foreground dispatch: `(i/n)` on every repetition line, and on a terminal
(only there) a live stderr line with elapsed time and an ETA.

The terminal is a real pseudo-terminal given to `bench` as its stderr; stdout stays a pipe
so the test can check that the live line never reaches it.
"""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess

from _support import bench_command, python_manifest

SLOW_RUNNER = """\
import time

from benchstone.protocol import Runner

runner = Runner()


@runner.entry_point
def speed(config):
    time.sleep(1.2)
    return 1.0 + config.seed % 7 * 0.01


runner.main()
"""

MANIFEST_BODY = """
[[benchmarks]]
name = "speed"
tier = "performance"
metric_direction = "minimize"
repetitions = 2
baseline_seeds = [1, 2]
expected_runtime_seconds = 1
"""

REP_LINE = re.compile(
    r"^  run=(\d+) rep=(\d+) seed=(\d+) metric=(\S+) wall=(\S+) \((\d+)/(\d+)\)$", re.M
)


def _slow_project(make_python_project, name: str):
    return make_python_project(
        name,
        manifest=python_manifest(name, benchmarks=MANIFEST_BODY),
        files={"bench/runner.py": SLOW_RUNNER},
    )


def _bench_on_a_terminal(home, *args: str, term: str = "xterm") -> tuple[int, str, str]:
    """Run `bench ARGS` with stderr on a pseudo-terminal; return code, stdout, terminal text."""
    master, slave = pty.openpty()
    env = dict(os.environ, BENCHSTONE_HOME=str(home), TERM=term)
    try:
        proc = subprocess.Popen(
            [*bench_command(), *args],
            stdout=subprocess.PIPE,
            stderr=slave,
            stdin=subprocess.DEVNULL,
            env=env,
        )
    finally:
        os.close(slave)
    chunks = []
    try:
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:  # EIO: every writer of the terminal is gone
                break
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(master)
    out = proc.stdout.read().decode() if proc.stdout else ""
    if proc.stdout:
        proc.stdout.close()
    code = proc.wait(timeout=120)
    return code, out, b"".join(chunks).decode()


def test_every_repetition_line_says_i_of_n_and_no_live_line_off_a_terminal(
    bench, make_python_project
):
    root = make_python_project("counted")
    assert bench("register", str(root)).code == 0
    r = bench("baseline", "establish", "counted", "speed")
    assert r.code == 0, r.err
    matches = REP_LINE.findall(r.out)
    assert [(m[1], m[5], m[6]) for m in matches] == [
        ("0", "1", "4"),
        ("1", "2", "4"),
        ("2", "3", "4"),
        ("3", "4", "4"),
    ]
    # SPEC's prefix still parses the way consumers parse it.
    assert len(re.findall(r"^  run=\d+ rep=\d+ seed=\d+ metric=\S+", r.out, re.M)) == 4
    # stderr is a pipe here: no live line, no carriage returns anywhere.
    assert r.err == ""
    assert "\r" not in r.out


def test_a_terminal_gets_a_live_line_with_elapsed_and_eta(home, bench, make_python_project):
    root = _slow_project(make_python_project, "live")
    assert bench("register", str(root)).code == 0

    code, out, terminal = _bench_on_a_terminal(home, "baseline", "establish", "live", "speed")
    assert code == 0, out + terminal

    # stdout is exactly what it is without a terminal.
    assert "\r" not in out and "running" not in out
    lines = out.splitlines()
    assert lines[0].startswith("dispatched 2 run(s)")
    assert [m[5:] for m in REP_LINE.findall(out)] == [("1", "2"), ("2", "2")]
    assert lines[-1].startswith("baseline set: live/speed")

    # The terminal saw the live line being redrawn for both repetitions...
    live = re.findall(
        r"  rep (\d)/2 running (\d+:\d\d)  elapsed (\d+:\d\d)  eta (\d+:\d\d|\?)", terminal
    )
    assert {rep for rep, *_ in live} == {"1", "2"}, terminal
    # ...with an ETA from expected_runtime_seconds (1 s a repetition) before any finished.
    first_eta = next(eta for rep, _run, _total, eta in live if rep == "1")
    assert first_eta in ("0:01", "0:02")
    assert "\r" in terminal and "\x1b[K" in terminal
    # ...and erased at the end: the last thing on the terminal is the erase sequence.
    assert terminal.endswith("\r\x1b[K")


def test_json_mode_never_draws_the_live_line(home, bench, make_python_project):
    root = make_python_project("quiet")
    assert bench("register", str(root)).code == 0
    code, out, terminal = _bench_on_a_terminal(home, "run", "quiet", "speed", "-n", "2", "--json")
    assert code == 0, out + terminal
    assert terminal == ""
    document = json.loads(out)
    assert [run["repetition"] for run in document["runs"]] == [0, 1]


def test_a_dumb_terminal_gets_no_live_line(home, bench, make_python_project):
    root = make_python_project("dumb")
    assert bench("register", str(root)).code == 0
    code, out, terminal = _bench_on_a_terminal(home, "run", "dumb", "speed", term="dumb")
    assert code == 0, out + terminal
    assert terminal == ""
    assert len(REP_LINE.findall(out)) == 4

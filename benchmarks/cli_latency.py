"""How long `bench` takes to answer, ours beside benchstone 0.3.1 from PyPI, in one run.

Agent loops call `bench evaluate` thousands of times; every millisecond of interpreter
start and imports is paid each time. This script builds one throwaway git project with a
SPEC-shaped manifest, installs the peer (benchstone 0.3.1, an independent implementation
of the same SPEC) into a throwaway virtualenv, registers the project with both harnesses
under separate BENCHSTONE_HOMEs, records a baseline and a candidate run set with each, and
then times, interleaved (ours, peer, ours, peer, ...) so machine drift hits both alike:

    bench --version | bench evaluate P B | bench history P B --limit 20 | bench list

It prints the median wall time per command and the ratio ours/peer. Targets (issue 10):
`bench evaluate` <= 0.5x the peer's and <= 70 ms median; `bench --version` <= 40 ms.

A last line, timed in the same rounds, is the floor under any `bench evaluate` in Python
(ours reads its plain command line without click): the interpreter starting and importing
the standard library modules a verdict cannot do without (SQLite, TOML, SHA-256, JSON,
subprocess for git, pathlib), doing nothing else. What `bench evaluate` costs above it is
ours to spend; the floor over the peer's time is the best ratio this machine allows.

    python benchmarks/cli_latency.py [--rounds 21] [--peer-version 0.3.1]

Run it with the interpreter whose environment has our `bench` installed (a wheel install:
an editable install under PYTHONDONTWRITEBYTECODE=1 recompiles every module each call).
Exit status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MANIFEST = """\
[project]
name = "latency"
language = "python"
invocation = "python3 bench/runner.py {entry_point} {config_path} {output_path}"

[[benchmarks]]
name = "speed"
entry_point = "speed"
tier = "performance"
metric_direction = "minimize"
repetitions = 3
baseline_seeds = [1, 2, 3]
promotion_sigma = 2.0
"""

RUNNER = """\
import json, random, sys
entry, config, output = sys.argv[1:4]
cfg = json.load(open(config))
metric = 1.0 + random.Random(cfg["seed"]).random() / 100
json.dump({"status": "ok", "metric": metric}, open(output, "w"))
"""

FLOOR = "import hashlib, json, pathlib, sqlite3, subprocess, tomllib"
FLOOR_LABEL = "floor"

COMMANDS = {
    "--version": ["--version"],
    "evaluate": ["evaluate", "latency", "speed"],
    "history --limit 20": ["history", "latency", "speed", "--limit", "20"],
    "list": ["list"],
}


def _git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=b", "-c", "user.email=b@b.invalid", *args],
        cwd=root,
        check=True,
        capture_output=True,
    )


def _project(root: Path) -> Path:
    (root / "bench").mkdir(parents=True)
    (root / "bench" / "manifest.toml").write_text(MANIFEST)
    (root / "bench" / "runner.py").write_text(RUNNER)
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "baseline")
    return root


def _peer(venv: Path, version: str) -> Path:
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", f"benchstone=={version}"],
        check=True,
        capture_output=True,
    )
    return venv / "bin" / "bench"


def _call(bench: Path, args: list[str], env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run([str(bench), *args], env=env, cwd=cwd, capture_output=True, check=False)
    return time.perf_counter() - start


def _prepare(bench: Path, env: dict[str, str], root: Path) -> None:
    for args in (
        ["register", str(root)],
        ["baseline", "establish", "latency", "speed"],
        ["run", "latency", "speed"],
    ):
        done = subprocess.run([str(bench), *args], env=env, cwd=root, capture_output=True)
        if done.returncode != 0:
            raise SystemExit(f"{bench} {' '.join(args)} failed:\n{done.stderr.decode()}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--peer-version", default="0.3.1")
    args = parser.parse_args()

    ours = Path(sys.executable).parent / "bench"
    with tempfile.TemporaryDirectory(prefix="bench-latency-") as tmp:
        work = Path(tmp)
        root = _project(work / "project")
        peer = _peer(work / "peer-venv", args.peer_version)
        base = {k: v for k, v in os.environ.items() if not k.startswith("BENCHSTONE_")}
        base.pop("PYTHONDONTWRITEBYTECODE", None)
        envs = {
            "ours": {**base, "BENCHSTONE_HOME": str(work / "home-ours")},
            "peer": {**base, "BENCHSTONE_HOME": str(work / "home-peer")},
        }
        tools = {"ours": ours, "peer": peer}
        for name, bench in tools.items():
            _prepare(bench, envs[name], root)
        times: dict[tuple[str, str], list[float]] = {}
        for name, bench in tools.items():  # one warm-up call each: page cache, .pyc files
            for command in COMMANDS.values():
                _call(bench, command, envs[name], root)
        floor = Path(sys.executable)
        for _ in range(args.rounds):
            for label, command in COMMANDS.items():
                for name, bench in tools.items():
                    times.setdefault((label, name), []).append(
                        _call(bench, command, envs[name], root)
                    )
            times.setdefault((FLOOR_LABEL, "ours"), []).append(
                _call(floor, ["-c", FLOOR], envs["ours"], root)
            )

    print(f"median wall time of one call, {args.rounds} interleaved rounds (ms)")
    print(f"{'command':<22}{'ours':>9}{'peer ' + args.peer_version:>14}{'ours/peer':>11}")
    medians = {key: statistics.median(values) * 1000 for key, values in times.items()}
    for label in COMMANDS:
        o, p = medians[(label, "ours")], medians[(label, "peer")]
        print(f"{label:<22}{o:>9.1f}{p:>14.1f}{o / p:>11.2f}")
    floor_ms, peer_evaluate = medians[(FLOOR_LABEL, "ours")], medians[("evaluate", "peer")]
    print(
        f"floor (python + the stdlib a verdict needs): {floor_ms:.1f} ms, "
        f"{floor_ms / peer_evaluate:.2f}x the peer's evaluate"
    )
    evaluate = medians[("evaluate", "ours")]
    checks = {
        "evaluate <= 0.5x peer": evaluate <= 0.5 * medians[("evaluate", "peer")],
        "evaluate <= 70 ms": evaluate <= 70,
        "--version <= 40 ms": medians[("--version", "ours")] <= 40,
    }
    for name, ok in checks.items():
        print(f"target {name}: {'met' if ok else 'MISSED'}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())

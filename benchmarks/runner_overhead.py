"""What the harness costs per repetition, measured through the installed `bench` command.

A throwaway git project whose runner is a no-op shell command (a `printf` of a fixed
result into {output_path}: shell builtins, no program is executed) is registered under a
temporary BENCHSTONE_HOME, then `bench run -n 20 --json` runs it ``--rounds`` times.

Per repetition, from the rows the store recorded:

- ``cycle``: from one repetition's ``started_at`` to the next one's: everything the loop
  does for a repetition (temp dir, config written and fsynced, spawn, watch, reap, result
  read and validated, row appended and committed, temp dir removed);
- ``child``: the wall time the harness measured for the command itself (spawn to reap);
- ``overhead`` = cycle - child: the harness's own cost around the child. Target: median
  at most 30 ms.

Also the marginal cost of one more repetition from whole-command timings,
(T(-n 20) - T(-n 1)) / 19, which needs no timestamps at all, and the fixed cost of a
`bench run` (interpreter start, imports, git status, manifest, plan).

    python benchmarks/runner_overhead.py [--reps 20] [--rounds 3]

Exit status 1 when the median overhead exceeds the target.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

TARGET_MS = 30.0
SANDBOX_TARGET_MS = 15.0  # what sealing a repetition may add, issue 11
SEALED_LEVELS = ("bwrap", "landlock")  # measured side by side with "none"
# `:` and `printf` are shell builtins: the child is /bin/sh alone, doing almost nothing.
NOOP_INVOCATION = ': {config_path}; printf \'{{"status": "ok", "metric": 1}}\' > {output_path}'


def bench_command() -> list[str]:
    exe = shutil.which("bench")
    return [exe] if exe else [sys.executable, "-m", "benchstone.cli"]


def git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=bench", "-c", "user.email=bench@benchstone.invalid", *args],
        cwd=root,
        check=True,
        capture_output=True,
    )


def make_project(root: Path, sandbox: str = "none") -> None:
    (root / "bench").mkdir(parents=True)
    (root / "bench" / "manifest.toml").write_text(
        "[project]\n"
        f'name = "overhead-{sandbox}"\n'
        'language = "shell"\n'
        f"invocation = {json.dumps(NOOP_INVOCATION)}\n"
        f'sandbox = "{sandbox}"\n'
        "\n[[benchmarks]]\n"
        'name = "noop"\n'
        'tier = "performance"\n'
        'metric_direction = "minimize"\n'
        "repetitions = 20\n"
        "baseline_seeds = [1, 2]\n"
    )
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "a no-op benchmark")


def bench(env: dict[str, str], *args: str) -> tuple[float, str]:
    """Run `bench ARGS`; return its wall time in seconds and its stdout."""
    started = time.perf_counter()
    done = subprocess.run(
        [*bench_command(), *args], env=env, capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"bench {' '.join(args)} failed ({done.returncode}): {done.stderr}")
    return elapsed, done.stdout


def stamp(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def per_repetition(runs: list[dict]) -> tuple[list[float], list[float]]:
    """(cycle, child) in seconds for every repetition that has a successor."""
    cycles, children = [], []
    for run, following in itertools.pairwise(runs):
        if run["status"] != "ok":
            raise SystemExit(f"repetition {run['repetition']} failed: {run['message']}")
        cycles.append(stamp(following["started_at"]) - stamp(run["started_at"]))
        children.append(run["wall_clock"])
    return cycles, children


def ms(value: float) -> str:
    return f"{value * 1000:.1f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=20, help="repetitions per bench run")
    parser.add_argument("--rounds", type=int, default=3, help="bench runs of --reps each")
    options = parser.parse_args()
    if options.reps < 2 or options.rounds < 1:
        parser.error("--reps must be at least 2 and --rounds at least 1")

    with tempfile.TemporaryDirectory(prefix="benchstone-overhead-") as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("BENCHSTONE_")}
        env["BENCHSTONE_HOME"] = str(Path(tmp) / "home")
        for level in ("none", *SEALED_LEVELS):
            root = Path(tmp) / f"project-{level}"
            make_project(root, level)
            bench(env, "register", str(root))

        cycles: list[float] = []
        children: list[float] = []
        totals: list[float] = []
        singles: list[float] = []
        sealed: dict[str, list[float]] = {level: [] for level in SEALED_LEVELS}
        for _ in range(options.rounds):
            elapsed, out = bench(
                env, "run", "overhead-none", "noop", "-n", str(options.reps), "--json"
            )
            totals.append(elapsed)
            cycle, child = per_repetition(json.loads(out)["runs"])
            cycles += cycle
            children += child
            singles.append(bench(env, "run", "overhead-none", "noop", "-n", "1", "--json")[0])
            # The same no-op at each sealed level, in the same round.
            for level in SEALED_LEVELS:
                _, out = bench(
                    env, "run", f"overhead-{level}", "noop", "-n", str(options.reps), "--json"
                )
                sealed[level] += per_repetition(json.loads(out)["runs"])[0]

    overheads = sorted(c - w for c, w in zip(cycles, children, strict=True))
    median = statistics.median(overheads)
    p90 = overheads[min(len(overheads) - 1, int(0.9 * len(overheads)))]
    marginal = (statistics.median(totals) - statistics.median(singles)) / (options.reps - 1)
    fixed = statistics.median(singles) - statistics.median(cycles)
    verdict = "ok" if median <= TARGET_MS / 1000 else "OVER TARGET"

    print(f"runner overhead: no-op shell runner, {options.rounds} x `bench run -n {options.reps}`")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPU(s)")
    print()
    print("| per repetition (ms)            | median |    p90 |    max |")
    print("|--------------------------------|-------:|-------:|-------:|")
    for label, values in (
        ("cycle (start to next start)", sorted(cycles)),
        ("child wall (spawn to reap)", sorted(children)),
        ("harness overhead (cycle-child)", overheads),
    ):
        p90_value = values[min(len(values) - 1, int(0.9 * len(values)))]
        print(
            f"| {label:<30} | {ms(statistics.median(values)):>6} | {ms(p90_value):>6} "
            f"| {ms(values[-1]):>6} |"
        )
    print()
    formula = f"(T(n={options.reps}) - T(n=1)) / {options.reps - 1}"
    print(f"marginal cost of one more repetition, {formula}: {ms(marginal)} ms")
    print(f"fixed cost of a `bench run` (start, imports, git, plan, exit): {ms(fixed)} ms")
    print(
        f"median harness overhead {ms(median)} ms (p90 {ms(p90)} ms), "
        f"target <= {TARGET_MS:.0f} ms: {verdict}"
    )
    base = statistics.median(cycles)
    costs = {level: statistics.median(values) - base for level, values in sealed.items()}
    sealed_verdict = "ok" if max(costs.values()) <= SANDBOX_TARGET_MS / 1000 else "OVER TARGET"
    print()
    print("| level                  | cycle per repetition (ms) | sealing cost (ms) |")
    print("|------------------------|--------------------------:|------------------:|")
    print(f'| sandbox = "none"       | {ms(base):>25} | {"-":>17} |')
    for level, values in sealed.items():
        label = f'sandbox = "{level}"'
        print(f"| {label:<22} | {ms(statistics.median(values)):>25} | {ms(costs[level]):>17} |")
    print(
        f"sealing costs at most {ms(max(costs.values()))} ms per repetition, "
        f"target <= {SANDBOX_TARGET_MS:.0f} ms: {sealed_verdict}"
    )
    return 0 if verdict == sealed_verdict == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())

"""Calibration of the gate under real noise: A/A trials through the real `bench` command.

The gate's arithmetic assumes independent repetitions; a real machine drifts between the
baseline's session and the candidate's, and a neighbour may share it for one of them.
This measures what that does to the verdicts, end to end:

- a throwaway git project with a small CPU-bound Python workload (``work.py``: a loop of
  ``--work`` iterations, outside the locked ``bench/``) is registered under a temporary
  BENCHSTONE_HOME, one benchmark per gated metric (``wall_clock``, ``cpu_time``,
  ``instructions``), ``--repetitions`` a side;
- an **A/A trial** commits the workload (a new comment: new content, so look 1 against a
  new baseline), runs ``bench baseline establish`` for every benchmark, commits a no-op
  change and runs ``bench run`` + ``bench evaluate --json``. A PROMOTE is a false PROMOTE.
  In every other trial a **busy neighbour** (``--neighbour-procs`` real processes
  spinning on the CPU, each killed at the phase's end and bounded by
  ``--neighbour-seconds`` whatever happens) shares the machine during the baseline phase
  only, as when a build ran next to the baseline's session;
- a **power trial** (quiet) does the same with a candidate commit that does 10 % or 25 %
  less work (3 % for instructions): a PROMOTE is a detection;
- each trial runs in both measurements, ``stored`` (the baseline's stored rows) and
  ``side_by_side`` (the manifest key ``measurement``; `bench run` re-measures the
  baseline commit interleaved with the candidate). A harness whose manifest does not know
  the key runs ``stored`` only and says so.

Targets (issue 12.6): ``side_by_side`` false-PROMOTE ≤ Φ(−2) ≈ 2.3 % in every condition,
meaning the 95 % Clopper–Pearson interval of the measured rate includes 2.3 %; and
``instructions`` detects a 3 % change in ≥ 95 % of trials at 5 repetitions.

    python benchmarks/gate_drift.py --quick                 # a few minutes
    python benchmarks/gate_drift.py [--trials 40] [--power-trials 20]
        [--instruction-trials 20] [--modes stored,side_by_side]
        [--metrics wall_clock,cpu_time,instructions]

Trials run one after another (a parallel trial would itself be a neighbour). Prints two
markdown tables; exit status 1 when a target is missed. No timing is asserted anywhere
but here, where the table says how it was measured.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from gate_calibration import clopper_pearson  # the exact interval, shared
from runner_overhead import bench_command, git  # how every benchmark here calls bench/git

ALPHA = 0.02275  # Φ(−2): the nominal one-sided false-PROMOTE rate at promotion_sigma = 2
POWER_TARGET = 0.95
MODES = ("stored", "side_by_side")
METRICS = ("wall_clock", "cpu_time", "instructions")
TIMING_CHANGES = (0.10, 0.25)
INSTRUCTION_CHANGES = (0.03,)
# Instructions count the interpreter's start-up too (~40 M); a smaller loop keeps
# valgrind's ~20x slowdown affordable while the loop still dominates the count.
INSTRUCTION_WORK_SHARE = 0.3

RUNNER = textwrap.dedent(
    """\
    import json, os, sys, time
    sys.path.insert(0, os.getcwd())
    import work
    args = dict(a.split("=", 1) for a in sys.argv[1:])
    share = {"timed": 1.0, "counted": %(share)r}[args["--entry"]]
    started = time.perf_counter()
    work.work(int(work.N * share))
    elapsed = time.perf_counter() - started
    with open(args["--output"], "w") as out:
        json.dump({"status": "ok", "metric": elapsed}, out)
    """
)
WORK = textwrap.dedent(
    """\
    # {marker}
    N = {n}


    def work(n):
        total = 0
        for i in range(n):
            total = (total * 31 + i) % 1000003
        return total
    """
)
# A neighbour: spins until its deadline (bounded even if nobody stops it).
BURN = (
    "import sys, time\n"
    "end = time.monotonic() + float(sys.argv[1])\n"
    "while time.monotonic() < end: pass\n"
)


@dataclass
class Tally:
    """Verdict kinds of one table cell."""

    kinds: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str) -> None:
        self.kinds[kind] = self.kinds.get(kind, 0) + 1

    @property
    def trials(self) -> int:
        return sum(self.kinds.values())

    @property
    def promotes(self) -> int:
        return self.kinds.get("PROMOTE", 0)

    def others(self) -> str:
        rest = {k: v for k, v in sorted(self.kinds.items()) if k not in ("PROMOTE", "REJECT")}
        return ", ".join(f"{v} {k}" for k, v in rest.items()) or "-"


def bench(env: dict[str, str], *args: str) -> dict:
    """`bench ARGS --json`; the document, whatever the verdict's exit code (not 10)."""
    done = subprocess.run(
        [*bench_command(), *args, "--json"], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode == 10 or not done.stdout.strip():
        raise SystemExit(f"bench {' '.join(args)} failed ({done.returncode}): {done.stderr}")
    return json.loads(done.stdout)


def knows_measurement_key() -> bool:
    """Whether the installed harness's manifest accepts ``measurement`` (issue 12.1)."""
    from benchstone.runner import ManifestError, load_manifest

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "bench").mkdir()
        (root / "bench" / "manifest.toml").write_text(
            '[project]\nname = "probe"\ninvocation = "x {config_path} {output_path}"\n'
            '[[benchmarks]]\nname = "b"\ntier = "performance"\nmetric_direction = "minimize"\n'
            'metric_source = "wall_clock"\nmeasurement = "side_by_side"\n'
        )
        try:
            load_manifest(root)
        except ManifestError:
            return False
    return True


def manifest(name: str, metrics: list[str], mode: str | None, repetitions: int) -> str:
    seeds = list(range(1, repetitions + 1))
    text = (
        f'[project]\nname = "{name}"\nlanguage = "python"\n'
        f'invocation = "{sys.executable} bench/runner.py --entry={{entry_point}} '
        '--config={config_path} --output={output_path}"\n'
    )
    for metric in metrics:
        text += (
            f'\n[[benchmarks]]\nname = "{metric}"\n'
            f'entry_point = "{"counted" if metric == "instructions" else "timed"}"\n'
            'tier = "performance"\nmetric_direction = "minimize"\n'
            f'metric_source = "{metric}"\nrepetitions = {repetitions}\n'
            f"baseline_seeds = {seeds}\n"
        )
        # Instructions are not a host timing: the stored baseline is the comparison.
        if mode is not None and metric != "instructions":
            text += f'measurement = "{mode}"\n'
    return text


@dataclass
class Project:
    root: Path
    name: str
    env: dict[str, str]
    work: int
    commits: int = 0

    def commit(self, work: int, label: str) -> None:
        self.commits += 1
        marker = f"commit {self.commits}: {label}"
        (self.root / "work.py").write_text(WORK.format(marker=marker, n=work))
        git(self.root, "add", "-A")
        git(self.root, "commit", "-q", "-m", marker)


def make_project(
    root: Path, env: dict[str, str], args: argparse.Namespace, metrics: list[str], mode: str | None
) -> Project:
    """A committed, registered project under ``root``; its name is the directory's."""
    name = root.name
    (root / "bench").mkdir(parents=True)
    share = INSTRUCTION_WORK_SHARE
    (root / "bench" / "runner.py").write_text(RUNNER % {"share": share})
    (root / "bench" / "manifest.toml").write_text(manifest(name, metrics, mode, args.repetitions))
    project = Project(root, name, env, args.work)
    git(root, "init", "-q")
    project.commit(args.work, "initial")
    bench(env, "register", str(root))
    return project


@contextlib.contextmanager
def neighbour(active: bool, procs: int, seconds: float) -> Iterator[None]:
    """``procs`` real CPU burners for the duration of the block (bounded by ``seconds``)."""
    burners: list[subprocess.Popen[bytes]] = []
    try:
        if active:
            burners = [
                subprocess.Popen([sys.executable, "-c", BURN, str(seconds)]) for _ in range(procs)
            ]
        yield
    finally:
        for burner in burners:
            burner.kill()
        for burner in burners:
            burner.wait()


def trial(project: Project, metrics: list[str], change: float, busy: bool, args) -> dict:
    """One baseline phase and one candidate phase; the verdict kind per metric."""
    project.commit(project.work, "baseline")
    with neighbour(busy, args.neighbour_procs, args.neighbour_seconds):
        for metric in metrics:
            bench(project.env, "baseline", "establish", project.name, metric)
    label = "no-op candidate" if change == 0 else f"candidate with {change:.0%} less work"
    project.commit(round(project.work * (1 - change)), label)
    kinds = {}
    for metric in metrics:
        bench(project.env, "run", project.name, metric)
        kinds[metric] = bench(project.env, "evaluate", project.name, metric)["kind"]
    return kinds


def interval(hits: int, trials: int) -> str:
    low, high = clopper_pearson(hits, trials)
    return f"[{low:.1%}, {high:.1%}]"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=40, help="A/A trials per measurement")
    parser.add_argument("--power-trials", type=int, default=20, help="trials per timing change")
    parser.add_argument(
        "--instruction-trials", type=int, default=20, help="A/A and 3 %% trials for instructions"
    )
    parser.add_argument("--repetitions", type=int, default=5, help="repetitions a side")
    parser.add_argument("--work", type=int, default=1_000_000, help="loop iterations")
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--metrics", default=",".join(METRICS))
    parser.add_argument("--neighbour-procs", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--neighbour-seconds", type=float, default=600.0)
    parser.add_argument("--quick", action="store_true", help="4 A/A, 2 power, 2 instruction trials")
    args = parser.parse_args(argv)
    if args.quick:
        args.trials, args.power_trials, args.instruction_trials = 4, 2, 2
    modes = [m for m in args.modes.split(",") if m]
    metrics = [m for m in args.metrics.split(",") if m]
    unknown = sorted({*modes} - {*MODES}) + sorted({*metrics} - {*METRICS})
    if unknown or args.repetitions < 2 or min(args.trials, args.power_trials) < 0:
        parser.error(f"bad --modes/--metrics/counts: {unknown or 'repetitions >= 2'}")
    keyed = knows_measurement_key()
    if not keyed and "side_by_side" in modes:
        print("side_by_side: this harness's manifest has no `measurement` key; stored only\n")
        modes = [m for m in modes if m != "side_by_side"]
    if "instructions" in metrics and shutil.which("valgrind") is None:
        print("instructions: valgrind is not installed (Debian package `valgrind`); skipped\n")
        metrics.remove("instructions")
    timings = [m for m in metrics if m != "instructions"]

    aa: dict[tuple[str, str, str], Tally] = {}
    power: dict[tuple[str, str, float], Tally] = {}
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="benchstone-drift-") as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("BENCHSTONE_")}
        env["BENCHSTONE_HOME"] = str(Path(tmp) / "home")
        plans: list[tuple[str, list[str], list[tuple[float, int]]]] = []
        for mode in modes:
            plans.append(
                (
                    mode,
                    timings,
                    [(0.0, args.trials)] + [(c, args.power_trials) for c in TIMING_CHANGES],
                )
            )
        if "instructions" in metrics:
            plans.append(
                (
                    "stored",
                    ["instructions"],
                    [(0.0, args.instruction_trials)]
                    + [(c, args.instruction_trials) for c in INSTRUCTION_CHANGES],
                )
            )
        for mode, chosen, schedule in plans:
            if not chosen:
                continue
            name = f"drift{len(plans)}-{mode}-{chosen[0]}"
            project = make_project(Path(tmp) / name, env, args, chosen, mode if keyed else None)
            for change, count in schedule:
                for index in range(count):
                    busy = change == 0 and index % 2 == 1
                    kinds = trial(project, chosen, change, busy, args)
                    for metric, kind in kinds.items():
                        if change == 0:
                            condition = "neighbour" if busy else "quiet"
                            aa.setdefault((mode, metric, condition), Tally()).add(kind)
                        else:
                            power.setdefault((mode, metric, change), Tally()).add(kind)
                    print(
                        f"  {mode} change={change:.0%} trial {index + 1}/{count}"
                        f"{' (neighbour)' if busy else ''}: "
                        + ", ".join(f"{m}={k}" for m, k in kinds.items()),
                        file=sys.stderr,
                        flush=True,
                    )
    elapsed = time.monotonic() - started
    return report(aa, power, args, elapsed)


def _row(mode: str, metric: str, column: str, tally: Tally, target: bool | None) -> list[str]:
    """Print one table row; the cell's name when it has a target and missed it."""
    shown = "-" if target is None else "met" if target else "MISSED"
    print(
        f"| {mode} | {metric} | {column} | {tally.trials} | {tally.promotes} | "
        f"{tally.promotes / tally.trials:.1%} | {interval(tally.promotes, tally.trials)} | "
        f"{tally.others()} | {shown} |"
    )
    return [f"{mode}/{metric}/{column}"] if target is False else []


def report(aa, power, args, elapsed: float) -> int:
    cpus = len(os.sched_getaffinity(0))
    print(
        f"gate_drift: {platform.node()}, {cpus} usable CPUs, load "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}, python {platform.python_version()}; "
        f"{args.repetitions} repetitions a side, work {args.work} iterations, "
        f"neighbour {args.neighbour_procs} process(es) in the baseline phase; "
        f"{elapsed / 60:.1f} min\n"
    )
    missed = []
    header = "| measurement | metric | {} | trials | {} | {} | 95% CP | other verdicts | target |"
    print(header.format("condition", "false PROMOTE", "rate"))
    print("|---|---|---|---|---|---|---|---|---|")
    for (mode, metric, condition), tally in sorted(aa.items()):
        target = None
        if mode == "side_by_side" or metric == "instructions":
            target = clopper_pearson(tally.promotes, tally.trials)[0] <= ALPHA
        missed += _row(mode, metric, condition, tally, target)
    print()
    print(header.format("less work", "PROMOTE", "power"))
    print("|---|---|---|---|---|---|---|---|---|")
    for (mode, metric, change), tally in sorted(power.items()):
        target = None
        if metric == "instructions":
            target = tally.trials > 0 and tally.promotes / tally.trials >= POWER_TARGET
        missed += _row(mode, metric, f"{change:.0%}", tally, target)
    if missed:
        print(f"\ntargets missed: {', '.join(missed)}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Crash safety of the store: SIGKILL `bench` at random moments, then audit everything.

Builds a throwaway git project and a private BENCHSTONE_HOME in a temp dir, then, for each
iteration, starts `bench run` or `bench baseline establish` (alternating), SIGKILLs it
after a random delay (seeded) within its measured duration, and checks, until --kills
processes were killed (an iteration whose process finished first is checked too, and
the window shrinks to the fastest duration seen):

- ``PRAGMA integrity_check`` is ``ok``;
- `bench verify` exits 0 (chains, triggers, links, blobs);
- no run row is partial: every column the runner always fills is non-NULL, and every
  ``status = 'ok'`` row has a metric;
- every baseline event names only existing ok runs of its own benchmark, and a pointer
  set by a killed establish names exactly the runs that establish recorded.

Prints a counts table and exits 1 if any check failed.

    python benchmarks/store_faults.py [--kills 50] [--seed 5] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import psutil

PROJECT = "faults"
BENCHMARK = "speed"
REPETITIONS = 4
KINDS = ("run", "establish")
COMMANDS = {
    "run": ["run", PROJECT, BENCHMARK],
    "establish": ["baseline", "establish", PROJECT, BENCHMARK],
}
TAG_VARIABLE = "STORE_FAULTS_TAG"
PROTOCOL_ARGS = "--entry={entry_point} --config={config_path} --output={output_path}"

# Columns the runner fills for every repetition it records, ok or error: a row with a
# NULL in one of them would be a row written in pieces.
ALWAYS_SET = (
    "project",
    "benchmark",
    "git_sha",
    "git_dirty",
    "seed",
    "seed_set",
    "repetition",
    "repetition_total",
    "status",
    "metric_source",
    "metric_components",
    "metadata",
    "wall_clock",
    "stdout_log",
    "stderr_log",
    "manifest_hash",
    "host",
    "started_at",
    "finished_at",
    "created_at",
    "row_hash",
)

RUNNER = """\
import random
import time

from benchstone.protocol import Runner

runner = Runner()


@runner.entry_point
def speed(config):
    time.sleep(0.05)  # a little work, so a kill can land inside a repetition
    return 1.0 + random.Random(config.seed).gauss(0.0, 0.01)


runner.main()
"""

MOMENTS = ("before first row", "mid-run", "after last row", "finished before kill")


@dataclass
class Tally:
    iterations: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    moments: dict[str, int] = field(default_factory=lambda: dict.fromkeys(MOMENTS, 0))
    pointers_set_by_killed: int = 0
    checks_run: int = 0
    checks_passed: int = 0
    failures: list[str] = field(default_factory=list)

    def check(self, iteration: int, name: str, ok: bool, detail: str = "") -> None:
        self.checks_run += 1
        if ok:
            self.checks_passed += 1
        else:
            self.failures.append(f"iteration {iteration}: {name} failed {detail}".rstrip())


def git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=faults", "-c", "user.email=faults@benchstone.invalid",
         "-c", "commit.gpgsign=false", *args],
        cwd=root, check=True, capture_output=True,
    )  # fmt: skip


def make_project(root: Path) -> None:
    (root / "bench").mkdir(parents=True)
    (root / "bench" / "manifest.toml").write_text(
        textwrap.dedent(
            f"""\
            [project]
            name = "{PROJECT}"
            invocation = "{sys.executable} bench/runner.py {PROTOCOL_ARGS}"

            [[benchmarks]]
            name = "{BENCHMARK}"
            tier = "performance"
            metric_direction = "minimize"
            repetitions = {REPETITIONS}
            baseline_seeds = {list(range(1, REPETITIONS + 1))}
            """
        )
    )
    (root / "bench" / "runner.py").write_text(RUNNER)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")


def bench_command() -> list[str]:
    exe = shutil.which("bench")
    return [exe] if exe else [sys.executable, "-m", "benchstone.cli"]


def bench(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*bench_command(), *args], env=env, capture_output=True, text=True, timeout=300
    )


def reap_tagged(tag: str) -> None:
    """Kill what the killed `bench` left running (its benchmark runs in its own session)."""
    leftovers = []
    for proc in psutil.process_iter():
        try:
            if proc.environ().get(TAG_VARIABLE) == tag:
                proc.kill()
                leftovers.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    psutil.wait_procs(leftovers, timeout=10)


def snapshot(db: Path) -> tuple[int, int]:
    with sqlite3.connect(db.absolute().as_uri() + "?mode=ro", uri=True) as conn:
        runs = conn.execute("SELECT COALESCE(MAX(id), 0) FROM runs").fetchone()[0]
        events = conn.execute("SELECT COALESCE(MAX(id), 0) FROM baseline_events").fetchone()[0]
    return runs, events


def audit_database(db: Path, iteration: int, tally: Tally, kind: str, before: tuple[int, int]):
    """The SQL-level checks; returns how many run rows this iteration added."""
    conn = sqlite3.connect(db.absolute().as_uri() + "?mode=ro", uri=True)
    try:
        result = [row[0] for row in conn.execute("PRAGMA integrity_check")]
        tally.check(iteration, "integrity_check", result == ["ok"], str(result))

        nulls = " OR ".join(f"{column} IS NULL" for column in ALWAYS_SET)
        partial = conn.execute(
            f"SELECT id FROM runs WHERE {nulls} OR (status = 'ok' AND metric IS NULL) "
            "OR status NOT IN ('ok', 'error')"
        ).fetchall()
        tally.check(iteration, "no partial run row", not partial, f"rows {partial}")

        runs = {
            row[0]: row[1:]
            for row in conn.execute("SELECT id, project, benchmark, status FROM runs")
        }
        dangling = []
        for event_id, project, benchmark, raw in conn.execute(
            "SELECT id, project, benchmark, run_ids FROM baseline_events"
        ):
            for run_id in json.loads(raw):
                if runs.get(run_id) != (project, benchmark, "ok"):
                    dangling.append((event_id, run_id))
        tally.check(iteration, "every pointer names existing ok runs", not dangling, str(dangling))

        new_runs = sorted(i for i in runs if i > before[0])
        new_events = conn.execute(
            "SELECT run_ids FROM baseline_events WHERE id > ?", (before[1],)
        ).fetchall()
        if kind == "run":
            ok = not new_events
        else:
            ok = not new_events or (
                len(new_events) == 1
                and json.loads(new_events[0][0]) == [i for i in new_runs if runs[i][2] == "ok"]
                and len(new_runs) == REPETITIONS
            )
        tally.check(
            iteration, "pointer matches the dispatch", ok, f"{new_events} vs runs {new_runs}"
        )
        return len(new_runs), len(new_events)
    finally:
        conn.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=50, help="SIGKILLs to land")
    parser.add_argument("--seed", type=int, default=5, help="seed of the kill-delay RNG")
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    tally = Tally()

    with tempfile.TemporaryDirectory(prefix="store-faults-", dir=args.workdir) as work:
        home, root, tmp = Path(work) / "home", Path(work) / "project", Path(work) / "tmp"
        tmp.mkdir()
        make_project(root)
        tag = uuid.uuid4().hex
        # TMPDIR keeps the per-repetition dirs a killed bench cannot clean up inside `work`.
        env = dict(os.environ, BENCHSTONE_HOME=str(home), TMPDIR=str(tmp), **{TAG_VARIABLE: tag})
        db = home / "benchstone.db"
        setup = bench(env, "register", str(root))
        if setup.returncode != 0:
            print(f"setup failed: {setup.stderr.strip()}", file=sys.stderr)
            return 1

        expected: dict[str, float] = {}
        for kind in ("establish", "run"):  # unkilled, to learn how long each takes
            start = time.perf_counter()
            done = bench(env, *COMMANDS[kind])
            expected[kind] = time.perf_counter() - start
            if done.returncode != 0:
                print(f"`bench {' '.join(COMMANDS[kind])}` failed: {done.stderr.strip()}")
                return 1
        print(
            f"unkilled durations: establish {expected['establish']:.2f} s, "
            f"run {expected['run']:.2f} s ({REPETITIONS} repetitions each)"
        )

        started = time.perf_counter()
        kills = iteration = 0
        while kills < args.kills and iteration < 3 * args.kills:
            iteration += 1
            kind = KINDS[(iteration - 1) % 2]
            tally.iterations[kind] += 1
            before = snapshot(db)
            proc = subprocess.Popen(
                [*bench_command(), *COMMANDS[kind]],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            launched = time.perf_counter()
            delay = rng.uniform(0.0, expected[kind])
            try:
                proc.wait(timeout=delay)
                killed = False
                expected[kind] = min(expected[kind], time.perf_counter() - launched)
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGKILL)
                killed = True
                kills += 1
            _, stderr = proc.communicate()
            reap_tagged(tag)
            if not killed:
                tally.check(iteration, "unkilled dispatch", proc.returncode == 0, stderr.strip())

            new_rows, new_events = audit_database(db, iteration, tally, kind, before)
            verify = bench(env, "verify")
            last_line = (verify.stdout + verify.stderr).strip().splitlines()[-1:]
            tally.check(iteration, "bench verify", verify.returncode == 0, str(last_line))
            if not killed:
                moment = "finished before kill"
            elif new_rows == 0:
                moment = "before first row"
            elif new_rows < REPETITIONS:
                moment = "mid-run"
            else:
                moment = "after last row"
                tally.pointers_set_by_killed += new_events
            tally.moments[moment] += 1
        elapsed = time.perf_counter() - started
        tally.check(iteration, f"landing {args.kills} kills", kills == args.kills, f"({kills})")

        with sqlite3.connect(db.absolute().as_uri() + "?mode=ro", uri=True) as conn:
            rows = conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
            events = conn.execute("SELECT COUNT(*) FROM baseline_events").fetchone()[0]

    print(f"\n{'iterations':<34}{iteration:>6}   (seed {args.seed}, {elapsed:.0f} s)")
    for kind in KINDS:
        print(f"  {'bench ' + ' '.join(COMMANDS[kind][:-2]):<32}{tally.iterations[kind]:>6}")
    print(f"{'SIGKILLs':<34}{kills:>6}")
    for moment in MOMENTS:
        label = f"  killed {moment}" if moment != "finished before kill" else moment
        print(f"{label:<34}{tally.moments[moment]:>6}")
        if moment == "after last row":
            print(f"    {'of which the pointer was set':<30}{tally.pointers_set_by_killed:>6}")
    print(f"{'run rows total':<34}{rows:>6}")
    print(f"{'baseline events total':<34}{events:>6}")
    print(f"{'checks passed':<34}{tally.checks_passed:>6} / {tally.checks_run}")
    for failure in tally.failures:
        print(f"FAILED: {failure}")
    return 0 if not tally.failures else 1


if __name__ == "__main__":
    sys.exit(main())

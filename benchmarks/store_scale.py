"""How the store scales: a 100-run store against a 1,000,000-run store, end to end.

Registers one real (tiny) git project, "Scale", with 100 benchmarks in two stores:

- small: 100 runs (5 benchmarks x 2 commits x 10 runs);
- large: 1,000,000 runs (100 benchmarks x 1,000 commits x 10 runs).

In both, each benchmark's baseline pointer names the 10 runs of the commit before HEAD and
the project's real HEAD has 10 candidate runs, so `bench evaluate` does exactly the work
it does in a long-lived store. Measured, as subprocesses (median of --cli-repeat runs
after one warm-up): `bench evaluate` and `bench history --limit 20`; targets: the large
store takes at most 1.5x the small store's wall time. In-process: the committed-append
rate of one process (`Store.append_run`, one transaction per row; target >= 1,000 rows/s),
the median time of the store's hot read queries, and of the two commands' API calls
(`api.evaluate`, `api.history`) without the Python start-up that dominates a command.

The large store is bulk-loaded in big transactions, row content and hash chain computed by
benchstone-store's own functions, so the result is a normal store `bench verify` accepts
(check it with --verify; that costs about half a minute on the large store).

    python benchmarks/store_scale.py [--runs 1000000] [--benchmarks 100] [--verify]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchstone.store import NewRun, ReadOnlyStore, Store
from benchstone.store._canonical import GENESIS_HASH, canonical_json, row_hash
from benchstone.store._rows import content_from

PROJECT = "Scale"
RUNS_PER_SHA = 10
BATCH = 50_000
CLI_RATIO_TARGET = 1.5
APPEND_TARGET = 1_000.0
API_REPEAT = 31
PROTOCOL_ARGS = "--entry={entry_point} --config={config_path} --output={output_path}"


@dataclass(frozen=True)
class Layout:
    """How many runs, over how many benchmarks and commits, and what HEAD is."""

    runs: int
    benchmarks: int
    head: str

    @property
    def generations(self) -> int:
        return max(2, self.runs // self.benchmarks // RUNS_PER_SHA)

    @property
    def target(self) -> str:
        return bench_name(self.benchmarks // 2)

    def sha(self, generation: int) -> str:
        """Commit SHAs shared by all benchmarks; the last generation is the real HEAD."""
        if generation == self.generations - 1:
            return self.head
        return hashlib.sha1(f"{PROJECT}/{generation}".encode()).hexdigest()


def bench_name(index: int) -> str:
    return f"bench{index:03d}"


def bench_command() -> list[str]:
    exe = shutil.which("bench")
    return [exe] if exe else [sys.executable, "-m", "benchstone.cli"]


def git(root: Path, *args: str) -> str:
    identity = ["-c", "user.name=scale", "-c", "user.email=scale@benchstone.invalid"]
    done = subprocess.run(
        ["git", *identity, "-c", "commit.gpgsign=false", *args],
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip()


def make_project(root: Path, benchmarks: int) -> str:
    """A git project whose manifest declares every benchmark; returns its HEAD SHA."""
    (root / "bench").mkdir(parents=True)
    tables = "".join(
        f'\n[[benchmarks]]\nname = "{bench_name(i)}"\ntier = "performance"\n'
        f'metric_direction = "minimize"\nrepetitions = {RUNS_PER_SHA}\n'
        for i in range(benchmarks)
    )
    (root / "bench" / "manifest.toml").write_text(
        f'[project]\nname = "{PROJECT}"\n'
        f'invocation = "{sys.executable} bench/runner.py {PROTOCOL_ARGS}"\n{tables}'
    )
    (root / "bench" / "runner.py").write_text("raise SystemExit('never run by store_scale')\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    return git(root, "rev-parse", "HEAD")


def bench(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, BENCHSTONE_HOME=str(home))
    return subprocess.run([*bench_command(), *args], env=env, capture_output=True, text=True)


# -- building a store ------------------------------------------------------------------


def _run_contents(layout: Layout, start: float) -> Iterator[dict[str, Any]]:
    """Stored content of every run, round-robin over the benchmarks, oldest first.

    One row is normalised by the store's ``content_from``; the others copy it and change
    only the fields that vary, all plain int/float/str values (checked against
    ``content_from`` every BATCH rows): that is what makes a million rows buildable in
    seconds rather than minutes.
    """
    template = content_from("runs", "bulk load", _run_values(layout, 0, start))
    for i in range(layout.runs):
        varying = _varying(layout, i, start)
        content = dict(template)
        content.update(varying, metadata=canonical_json(varying["metadata"]))
        if i % BATCH == 0:
            exact = content_from("runs", "bulk load", _run_values(layout, i, start))
            assert content == exact, f"row {i}: the fast path drifted from content_from"
        yield content


def _varying(layout: Layout, i: int, start: float) -> dict[str, Any]:
    """The fields that differ from run to run."""
    sweep = i // layout.benchmarks
    generation = sweep // RUNS_PER_SHA
    stamp = datetime.fromtimestamp(start + i * 0.01, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    metric = 1.0 + ((i * 7919) % 997) / 10_000
    return {
        "benchmark": bench_name(i % layout.benchmarks),
        "git_sha": layout.sha(generation),
        "seed": i,
        "meta_seed": generation or None,
        "seed_set": "fresh" if generation else "baseline",
        "repetition": sweep % RUNS_PER_SHA,
        "metric": metric,
        "reported_metric": metric,
        "metadata": {"i": i},
        "started_at": stamp,
        "finished_at": stamp,
        "created_at": stamp,
    }


def _run_values(layout: Layout, i: int, start: float) -> dict[str, Any]:
    """The Python values of run ``i``, as the runner would hand them to the store."""
    return {
        "project": PROJECT,
        "git_dirty": False,
        "repetition_total": RUNS_PER_SHA,
        "status": "ok",
        "metric_source": "reported",
        "metric_components": {},
        "wall_clock": 0.5,
        "cpu_time": 0.49,
        "peak_rss": 52_428_800,
        "exit_code": 0,
        "stdout_log": "/var/benchstone/logs/Scale/run.stdout.log",
        "stderr_log": "/var/benchstone/logs/Scale/run.stderr.log",
        "manifest_hash": "sha256:" + "1f" * 32,
        "host": "bench-host",
        **_varying(layout, i, start),
    }


def build(home: Path, root: Path, layout: Layout) -> float:
    """Register the project, bulk-load the runs, point each baseline; returns seconds."""
    started = time.perf_counter()
    done = bench(home, "register", str(root))
    if done.returncode != 0:
        raise SystemExit(f"bench register failed: {done.stderr.strip()}")
    with Store.open(home) as store:
        conn = store._conn  # the bulk path: big transactions through the store's connection
        conn.execute("PRAGMA synchronous = OFF")  # a throwaway store: no fsync while loading
        last = conn.execute("SELECT row_hash FROM runs ORDER BY id DESC LIMIT 1").fetchone()
        prev = GENESIS_HASH if last is None else last[0]
        columns: list[str] = []
        batch: list[list[Any]] = []
        start = time.time() - layout.runs * 0.01 - 3600
        for i, content in enumerate(_run_contents(layout, start)):
            prev = row_hash(prev, content)
            if not columns:
                columns = [*content, "row_hash"]
            batch.append([*content.values(), prev])
            if len(batch) == BATCH or i == layout.runs - 1:
                conn.execute("BEGIN IMMEDIATE")
                conn.executemany(
                    f"INSERT INTO runs ({', '.join(columns)}) "
                    f"VALUES ({', '.join('?' * len(columns))})",
                    batch,
                )
                conn.execute("COMMIT")
                batch.clear()
                if sys.stderr.isatty():
                    print(f"  {home.name}: {i + 1:,} runs", file=sys.stderr, end="\r")
        conn.execute("PRAGMA synchronous = NORMAL")
        before_head = layout.sha(layout.generations - 2)
        for index in range(min(layout.benchmarks, layout.runs)):
            name = bench_name(index)
            runs = store.runs(PROJECT, name, git_sha=before_head, newest_first=False)
            store.set_baseline(
                PROJECT,
                name,
                git_sha=before_head,
                meta_seed=runs[0].meta_seed,
                run_ids=[r.id for r in runs],
                action="promote" if runs[0].meta_seed else "establish",
            )
    return time.perf_counter() - started


# -- measuring -------------------------------------------------------------------------


def cli_medians(runs: dict[str, tuple[Path, list[str]]], repeat: int) -> dict[str, float]:
    """Median wall time of each `bench ARGS` (label -> (home, args)) as a subprocess.

    After one warm-up each, the commands take turns, so a burst of load from other
    processes on the machine hits both stores alike instead of skewing their ratio.
    """
    for home, args in runs.values():
        warm = bench(home, *args)
        if warm.returncode >= 10:  # a verdict's exit code is fine; 10 is `Error:`
            detail = (warm.stderr or warm.stdout).strip()
            raise SystemExit(f"`bench {' '.join(args)}` failed: {detail}")
    samples: dict[str, list[float]] = {label: [] for label in runs}
    for _ in range(repeat):
        for label, (home, args) in runs.items():
            env = dict(os.environ, BENCHSTONE_HOME=str(home))
            start = time.perf_counter()
            subprocess.run([*bench_command(), *args], env=env, capture_output=True, check=False)
            samples[label].append(time.perf_counter() - start)
    return {label: statistics.median(values) for label, values in samples.items()}


def _median_us(call: Callable[[], object], repeat: int) -> float:
    call()  # warm the page cache and the statement cache
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1e6


def library_queries(home: Path, layout: Layout, repeat: int) -> dict[str, float]:
    target = layout.target
    with ReadOnlyStore.open(home) as ro:
        base = ro.baseline(PROJECT, target)
        assert base is not None
        queries: dict[str, Callable[[], object]] = {
            "runs(p, b, limit=20)": lambda: ro.runs(PROJECT, target, limit=20),
            "runs(p, limit=20)": lambda: ro.runs(PROJECT, limit=20),
            "baseline(p, b)": lambda: ro.baseline(PROJECT, target),
            "runs(ids=baseline.run_ids)": lambda: ro.runs(PROJECT, target, ids=base.run_ids),
            "runs(git_sha=HEAD, status=ok)": lambda: ro.runs(
                PROJECT, target, git_sha=layout.head, status="ok"
            ),
            "evaluations(event, HEAD)": lambda: ro.evaluations(
                PROJECT, target, baseline_event_id=base.id, candidate_sha=layout.head
            ),
            "benchmarks(p)": lambda: ro.benchmarks(PROJECT),
        }
        return {name: _median_us(call, repeat) for name, call in queries.items()}


def api_calls(home: Path, layout: Layout, repeat: int) -> dict[str, float]:
    """The two commands' API calls in-process: their time without Python start-up."""
    from benchstone import api

    target = layout.target
    calls: dict[str, Callable[[], object]] = {
        "api.evaluate(p, b)": lambda: api.evaluate(PROJECT, target, home=home),
        "api.history(p, b, limit=20)": lambda: api.history(PROJECT, target, limit=20, home=home),
    }
    return {name: _median_us(call, repeat) for name, call in calls.items()}


def append_rate(home: Path, layout: Layout, count: int) -> float:
    """Committed rows per second from one process: one transaction per row."""
    with Store.open(home) as store:
        start = time.perf_counter()
        for i in range(count):
            store.append_run(
                NewRun(
                    project=PROJECT,
                    benchmark=layout.target,
                    git_sha=layout.sha(layout.generations - 2),
                    status="ok",
                    metric=1.0 + i / 1e6,
                    metric_source="reported",
                    seed=i,
                    repetition=i,
                    metadata={"i": i},
                    host="bench-host",
                )
            )
        return count / (time.perf_counter() - start)


def verify_seconds(home: Path) -> tuple[float, bool]:
    start = time.perf_counter()
    done = bench(home, "verify")
    return time.perf_counter() - start, done.returncode == 0


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--benchmarks", type=int, default=100)
    parser.add_argument("--small-runs", type=int, default=100)
    parser.add_argument("--cli-repeat", type=int, default=11)
    parser.add_argument("--repeat", type=int, default=300, help="repeats of each library query")
    parser.add_argument("--appends", type=int, default=3000)
    parser.add_argument("--verify", action="store_true", help="also time `bench verify`")
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    if args.cli_repeat < 1 or args.small_runs < 2 * RUNS_PER_SHA:
        parser.error(f"--cli-repeat must be >= 1 and --small-runs >= {2 * RUNS_PER_SHA}")

    with tempfile.TemporaryDirectory(prefix="store-scale-", dir=args.workdir) as work:
        root = Path(work) / "project"
        head = make_project(root, args.benchmarks)
        small_benchmarks = max(1, min(args.benchmarks, args.small_runs // (2 * RUNS_PER_SHA)))
        small = Layout(args.small_runs, small_benchmarks, head)
        large = Layout(args.runs, args.benchmarks, head)
        homes = {"small": Path(work) / "small", "large": Path(work) / "large"}
        build(homes["small"], root, small)
        took = build(homes["large"], root, large)
        print(f"built the {args.runs:,}-run store in {took:.1f} s", flush=True)

        commands = {
            "bench evaluate": lambda layout: ["evaluate", PROJECT, layout.target],
            "bench history --limit 20": lambda layout: [
                "history", PROJECT, layout.target, "--limit", "20",
            ],
        }  # fmt: skip
        cli = {
            name: cli_medians(
                {
                    label: (homes[label], make_args(layout))
                    for label, layout in (("small", small), ("large", large))
                },
                args.cli_repeat,
            )
            for name, make_args in commands.items()
        }
        verdicts = {
            label: bench(homes[label], "evaluate", PROJECT, layout.target).returncode
            for label, layout in (("small", small), ("large", large))
        }
        queries = {
            label: library_queries(homes[label], layout, args.repeat)
            for label, layout in (("small", small), ("large", large))
        }
        in_process = {
            label: api_calls(homes[label], layout, API_REPEAT)
            for label, layout in (("small", small), ("large", large))
        }
        rates = {
            label: append_rate(homes[label], layout, args.appends)
            for label, layout in (("small", small), ("large", large))
        }
        verified = (
            {label: verify_seconds(home) for label, home in homes.items()} if (args.verify) else {}
        )

    small_label, large_label = f"{args.small_runs:,} runs", f"{args.runs:,} runs"
    failures = []
    print(f"\n{datetime.now(UTC):%Y-%m-%d}, {machine()}")
    print(f"\n| measure | {small_label} | {large_label} | ratio | target | pass |")
    print("|---|---:|---:|---:|---|---|")
    for name, times in cli.items():
        ratio = times["large"] / times["small"]
        ok = ratio <= CLI_RATIO_TARGET
        failures += [] if ok else [name]
        print(
            f"| `{name}` wall (median of {args.cli_repeat}) | {times['small']:.3f} s "
            f"| {times['large']:.3f} s | {ratio:.2f} | ratio <= {CLI_RATIO_TARGET} "
            f"| {'yes' if ok else 'NO'} |"
        )
    ok = min(rates.values()) >= APPEND_TARGET
    failures += [] if ok else ["append rate"]
    print(
        f"| committed appends, one process | {rates['small']:,.0f} rows/s "
        f"| {rates['large']:,.0f} rows/s | | >= {APPEND_TARGET:,.0f} rows/s "
        f"| {'yes' if ok else 'NO'} |"
    )
    if verified:
        passed = all(ok for _, ok in verified.values())
        failures += [] if passed else ["bench verify"]
        print(
            f"| `bench verify` wall | {verified['small'][0]:.2f} s | {verified['large'][0]:.1f} s "
            f"| | exit 0 | {'yes' if passed else 'NO'} |"
        )
    print(
        f"\n`bench evaluate` exit code: {verdicts['small']} (small store), "
        f"{verdicts['large']} (large store)"
    )
    print(f"\n| library query (median of {args.repeat}) | {small_label} | {large_label} | ratio |")
    print("|---|---:|---:|---:|")
    for name in queries["small"]:
        low, high = queries["small"][name], queries["large"][name]
        print(f"| `{name}` | {low:.0f} µs | {high:.0f} µs | {high / low:.2f} |")
    print(f"\n| in-process call (median of {API_REPEAT}) | {small_label} | {large_label} | ratio |")
    print("|---|---:|---:|---:|")
    for name in in_process["small"]:
        low, high = in_process["small"][name] / 1e3, in_process["large"][name] / 1e3
        print(f"| `{name}` | {low:.1f} ms | {high:.1f} ms | {high / low:.2f} |")
    if failures:
        print(f"\nFAILED: {', '.join(failures)}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

"""How the store's hot paths scale: a small store against a 1,000,000-run store.

Prints, per query, the median time on a 100-run store and on a large store (default
1,000,000 runs over 100 benchmarks) and their ratio, plus the committed-append rate of
one process. The hot reads should be flat (ratio near 1): they are index searches.

    python packages/benchstone-store/benchmarks/store_scale.py [--runs N] [--benchmarks B]

The large store is bulk-loaded through the store's own row and chain functions inside
big transactions (appending a million rows one transaction at a time would only measure
the append rate for minutes); the result is a normal store that verify() accepts.
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchstone.store import NewEvaluation, NewRun, ReadOnlyStore, Store
from benchstone.store._canonical import GENESIS_HASH, row_hash
from benchstone.store._rows import content_from
from benchstone.store._timefmt import utc_now

PROJECT = "Scale"
RUNS_PER_SHA = 10


def _sha(benchmark: int, generation: int) -> str:
    return hashlib.sha1(f"{benchmark}/{generation}".encode()).hexdigest()


def build(home: Path, runs: int, benchmarks: int) -> None:
    """Bulk-load ``runs`` runs round-robin over ``benchmarks``, then one baseline and
    one evaluation per benchmark through the public API."""
    with Store.open(home) as store:
        store.register(PROJECT, "/src/scale", "sha256:" + "0" * 64)
        conn = store._conn
        columns: list[str] | None = None
        prev = GENESIS_HASH
        batch: list[list[Any]] = []
        for i in range(runs):
            bench = i % benchmarks
            generation = (i // benchmarks) // RUNS_PER_SHA
            values = {
                "project": PROJECT,
                "benchmark": f"bench{bench:03d}",
                "git_sha": _sha(bench, generation),
                "git_dirty": False,
                "seed": i,
                "meta_seed": None if generation == 0 else generation,
                "seed_set": "fresh",
                "repetition": (i // benchmarks) % RUNS_PER_SHA,
                "repetition_total": RUNS_PER_SHA,
                "status": "ok",
                "metric": 1.0 + (i % 97) / 1000,
                "wall_clock": 0.5,
                "metadata": {"i": i},
                "host": "bench-host",
                "created_at": utc_now(),
            }
            content = content_from("runs", "bulk load", values)
            prev = row_hash(prev, content)
            if columns is None:
                columns = [*content, "row_hash"]
            batch.append([*content.values(), prev])
            if len(batch) == 50_000 or i == runs - 1:
                conn.execute("BEGIN IMMEDIATE")
                conn.executemany(
                    f"INSERT INTO runs ({', '.join(columns)}) "
                    f"VALUES ({', '.join('?' * len(columns))})",
                    batch,
                )
                conn.execute("COMMIT")
                batch.clear()
                print(f"  loaded {i + 1:,} runs", file=sys.stderr, end="\r")
        print(file=sys.stderr)
        generations = max(1, runs // benchmarks // RUNS_PER_SHA)
        for bench in range(benchmarks):
            name = f"bench{bench:03d}"
            first = store.runs(PROJECT, name, git_sha=_sha(bench, 0), newest_first=False)
            event = store.set_baseline(
                PROJECT,
                name,
                git_sha=_sha(bench, 0),
                meta_seed=None,
                run_ids=[r.id for r in first[:5]],
                action="establish",
            )
            cand = store.runs(PROJECT, name, git_sha=_sha(bench, generations - 1), limit=5)
            store.append_evaluation(
                NewEvaluation(
                    PROJECT,
                    name,
                    event.id,
                    _sha(bench, generations - 1),
                    [r.id for r in cand],
                    "sigma",
                    0.3,
                    0.4,
                    2.0,
                    1,
                    "REJECT",
                )
            )


def _median_us(call: Callable[[], object], repeat: int) -> float:
    call()  # warm the page cache and statement cache
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1e6


def measure(home: Path, benchmarks: int, repeat: int) -> dict[str, float]:
    target = f"bench{benchmarks // 2:03d}"
    with ReadOnlyStore.open(home) as ro:
        base = ro.baseline(PROJECT, target)
        assert base is not None
        (evaluation,) = ro.evaluations(PROJECT, target)
        sha = evaluation.candidate_sha
        queries: dict[str, Callable[[], object]] = {
            "runs(p, b, limit=20)": lambda: ro.runs(PROJECT, target, limit=20),
            "runs(p, limit=20)": lambda: ro.runs(PROJECT, limit=20),
            "baseline(p, b)": lambda: ro.baseline(PROJECT, target),
            "runs(ids=baseline.run_ids)": lambda: ro.runs(PROJECT, target, ids=base.run_ids),
            "runs(git_sha=S, status=ok)": lambda: ro.runs(
                PROJECT, target, git_sha=sha, status="ok"
            ),
            "evaluations(event, sha)": lambda: ro.evaluations(
                PROJECT, target, baseline_event_id=base.id, candidate_sha=sha
            ),
            "benchmarks(p)": lambda: ro.benchmarks(PROJECT),
        }
        return {name: _median_us(call, repeat) for name, call in queries.items()}


def append_rate(home: Path, count: int) -> float:
    with Store.open(home) as store:
        start = time.perf_counter()
        for i in range(count):
            store.append_run(
                NewRun(
                    project=PROJECT,
                    benchmark="bench000",
                    git_sha=_sha(0, 9999),
                    status="ok",
                    metric=float(i),
                    repetition=i,
                    metadata={"i": i},
                )
            )
        return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--benchmarks", type=int, default=100)
    parser.add_argument("--small-runs", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=300)
    parser.add_argument("--appends", type=int, default=3000)
    parser.add_argument("--verify", action="store_true", help="also time verify() on both")
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(dir=args.workdir) as work:
        small, large = Path(work) / "small", Path(work) / "large"
        # 20 runs per benchmark in the small store, so limit=20 returns as many rows
        small_benchmarks = max(1, min(args.benchmarks, args.small_runs // 20))
        build(small, args.small_runs, small_benchmarks)
        start = time.perf_counter()
        build(large, args.runs, args.benchmarks)
        print(f"bulk load of {args.runs:,} runs: {time.perf_counter() - start:.1f} s")
        small_t = measure(small, small_benchmarks, args.repeat)
        large_t = measure(large, args.benchmarks, args.repeat)
        small_label, large_label = f"{args.small_runs:,} runs", f"{args.runs:,} runs"
        print(f"\n{'query':32} {small_label:>12} {large_label:>14} {'ratio':>7}")
        for name in small_t:
            ratio = large_t[name] / small_t[name]
            print(f"{name:32} {small_t[name]:>10.0f}us {large_t[name]:>12.0f}us {ratio:>7.2f}")
        print(
            f"\nappend_run, one process: {append_rate(small, args.appends):,.0f} commits/s "
            f"(small store), {append_rate(large, args.appends):,.0f} commits/s (large store)"
        )
        if args.verify:
            for label, home in (("small", small), ("large", large)):
                with ReadOnlyStore.open(home) as ro:
                    start = time.perf_counter()
                    report = ro.verify()
                    took = time.perf_counter() - start
                print(f"verify() {label}: ok={report.ok} {report.counts} in {took:.1f} s")


if __name__ == "__main__":
    main()

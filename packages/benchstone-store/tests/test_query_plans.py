"""The hot queries are answered from indexes, whatever the store's size.

Checked with EXPLAIN QUERY PLAN on the exact SQL each method runs (captured with a trace
callback): a plan is a property of the query and schema, so this holds at 1M runs as it
does here, with no timing involved.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from benchstone.store import NewEvaluation, NewRun, Store

SHA = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"


@pytest.fixture
def filled(store: Store, make_run: Callable[..., NewRun]) -> Store:
    for i in range(30):
        store.append_run(make_run(benchmark=f"b{i % 3}", repetition=i))
    event = store.set_baseline(
        "Arborist", "b1", git_sha=SHA, meta_seed=None, run_ids=[2, 5], action="establish"
    )
    store.append_evaluation(
        NewEvaluation("Arborist", "b1", event.id, SHA, [2], "sigma", 1.0, 0.2, 2.0, 1, "REJECT")
    )
    store.register("Arborist", "/a", "h")
    return store


def _plans(store: Store, call: Callable[[], Any]) -> list[str]:
    statements: list[str] = []
    store._conn.set_trace_callback(statements.append)
    try:
        call()
    finally:
        store._conn.set_trace_callback(None)
    plans = []
    raw = sqlite3.connect(store.paths.db)
    for statement in statements:
        detail = [row[3] for row in raw.execute("EXPLAIN QUERY PLAN " + statement)]
        plans.append(" | ".join(detail))
    raw.close()
    return plans


HOT = {
    "history --limit 20": lambda s: s.runs("Arborist", "nsga2", limit=20),
    "project history": lambda s: s.runs("Arborist", limit=20),
    "candidate runs at a SHA": lambda s: s.runs(
        "Arborist", "b1", git_sha=SHA, status="ok", meta_seed=None
    ),
    "baseline runs by id": lambda s: s.runs("Arborist", "b1", ids=[2, 5]),
    "current baseline": lambda s: s.baseline("Arborist", "b1"),
    "baseline history": lambda s: s.baseline_history("Arborist", "b1"),
    "current reference": lambda s: s.reference("Arborist", "b1"),
    "looks at a candidate": lambda s: s.evaluations(
        "Arborist", "b1", baseline_event_id=1, candidate_sha=SHA
    ),
    "benchmarks": lambda s: s.benchmarks("Arborist"),
    "run by id": lambda s: s.run(3),
    "count a benchmark's runs": lambda s: s.count_runs("Arborist", "b1"),
    "project": lambda s: s.project("Arborist"),
}


@pytest.mark.parametrize("name", sorted(HOT))
def test_hot_reads_never_scan_a_table(filled: Store, name: str) -> None:
    plans = _plans(filled, lambda: HOT[name](filled))
    assert plans, "the call ran no SQL"
    for plan in plans:
        assert "SEARCH" in plan, plan
        for table in ("runs", "baseline_events", "reference_events", "evaluations"):
            assert f"SCAN {table}" not in plan, plan


def test_newest_runs_come_in_index_order_without_sorting(filled: Store) -> None:
    (plan,) = _plans(filled, lambda: filled.runs("Arborist", "b1", limit=20))
    assert "SEARCH runs USING INDEX runs_by_benchmark (project=? AND benchmark=?)" in plan
    assert "TEMP B-TREE" not in plan
    (plan,) = _plans(filled, lambda: filled.baseline("Arborist", "b1"))
    assert "TEMP B-TREE" not in plan


def test_writes_find_the_chain_head_and_linked_rows_by_index(
    filled: Store, make_run: Callable[..., NewRun], tmp_path: Path
) -> None:
    (tmp_path / "ref").write_bytes(b"ref")
    digest = filled.put_artifact(tmp_path / "ref")
    writes = [
        lambda: filled.append_run(make_run(benchmark="b1")),
        lambda: filled.set_baseline(
            "Arborist", "b1", git_sha=SHA, meta_seed=None, run_ids=[2, 5], action="promote"
        ),
        lambda: filled.set_reference("Arborist", "b1", digest=digest, run_id=2, action="freeze"),
        lambda: filled.append_evaluation(
            NewEvaluation("Arborist", "b1", 1, SHA, [2, 5], "sigma", 1.0, 0.2, 2.0, 2, "REJECT")
        ),
        lambda: filled.register("Arborist", "/a", "h2"),
        lambda: filled.unregister("Arborist"),
    ]
    for write in writes:
        plans = [p for p in _plans(filled, write) if p]
        assert any("SEARCH" in p for p in plans), plans
        for plan in plans:
            for table in (
                "runs",
                "registrations",
                "baseline_events",
                "reference_events",
                "evaluations",
            ):
                assert f"SCAN {table}" not in plan, plan

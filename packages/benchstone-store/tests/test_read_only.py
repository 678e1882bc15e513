"""ReadOnlyStore: reads everything, never creates, migrates or blocks writers."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Callable
from importlib.metadata import metadata
from pathlib import Path

import pytest

from benchstone.store import (
    SCHEMA_VERSION,
    BaselineEvent,
    NewEvaluation,
    NewRun,
    ReadOnlyStore,
    Registration,
    Run,
    Store,
    StoreError,
)

SHA = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"


def _populate(home: Path, make_run: Callable[..., NewRun], runs: int = 25) -> None:
    with Store.open(home) as store:
        store.register("Arborist", "/src/arborist", "sha256:" + "1" * 64)
        ids = [store.append_run(make_run(metric=1.0 + i / 100)).id for i in range(runs)]
        event = store.set_baseline(
            "Arborist", "nsga2", git_sha=SHA, meta_seed=None, run_ids=ids[:5], action="establish"
        )
        store.append_evaluation(
            NewEvaluation(
                "Arborist",
                "nsga2",
                event.id,
                SHA,
                ids[5:],
                "sigma",
                0.1,
                0.4,
                2.0,
                1,
                "NEEDS_MORE_DATA",
            )
        )


def test_reads_everything_as_typed_objects(home: Path, make_run: Callable[..., NewRun]) -> None:
    _populate(home, make_run)
    with ReadOnlyStore.open(home) as ro:
        (project,) = ro.projects()
        assert isinstance(project, Registration) and project == ro.project("Arborist")
        assert ro.benchmarks("Arborist") == ["nsga2"]
        runs = ro.runs("Arborist", "nsga2", limit=20)
        assert len(runs) == 20 and all(isinstance(r, Run) for r in runs)
        assert runs[0].id == 25 and runs[0].metric == pytest.approx(1.24)
        baseline = ro.baseline("Arborist", "nsga2")
        assert isinstance(baseline, BaselineEvent) and baseline.run_ids == (1, 2, 3, 4, 5)
        assert ro.baseline_history("Arborist", "nsga2") == [baseline]
        assert ro.reference("Arborist", "nsga2") is None
        assert ro.reference_history("Arborist", "nsga2") == []
        (evaluation,) = ro.evaluations("Arborist", "nsga2", candidate_sha=SHA)
        assert evaluation.look == 1 and len(evaluation.run_ids) == 20
        assert ro.run(3) == ro.runs("Arborist", ids=[3])[0]
        assert ro.verify().ok


def test_has_no_write_methods() -> None:
    for name in (
        "append_run",
        "register",
        "unregister",
        "set_baseline",
        "set_reference",
        "put_artifact",
        "append_evaluation",
    ):
        assert not hasattr(ReadOnlyStore, name), name


def test_missing_store_is_an_error_and_nothing_is_created(tmp_path: Path) -> None:
    home = tmp_path / "nowhere"
    with pytest.raises(StoreError) as info:
        ReadOnlyStore.open(home)
    assert str(info.value) == (
        f"no benchstone store at {home / 'benchstone.db'}; run a bench command first"
    )
    assert not home.exists()


def test_uses_benchstone_home_by_default(
    home: Path, make_run: Callable[..., NewRun], monkeypatch: pytest.MonkeyPatch
) -> None:
    _populate(home, make_run, runs=2)
    monkeypatch.setenv("BENCHSTONE_HOME", str(home))
    with ReadOnlyStore.open() as ro:
        assert len(ro.runs("Arborist")) == 2


@pytest.mark.parametrize("version", [0, SCHEMA_VERSION + 1])
def test_other_schema_versions_are_refused_not_migrated(home: Path, version: int) -> None:
    with Store.open(home):
        pass
    db = home / "benchstone.db"
    with sqlite3.connect(db) as conn:
        conn.execute(f"PRAGMA user_version = {version}")
    conn.close()
    with pytest.raises(StoreError) as info:
        ReadOnlyStore.open(home)
    message = str(info.value)
    assert f"schema version {version}" in message and f"version {SCHEMA_VERSION}" in message
    assert "\n" not in message
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == version
    conn.close()


def test_cannot_write_even_through_its_connection(
    home: Path, make_run: Callable[..., NewRun]
) -> None:
    _populate(home, make_run, runs=1)
    with ReadOnlyStore.open(home) as ro, pytest.raises(sqlite3.OperationalError):
        ro._conn.execute("CREATE TABLE x (y)")


def test_open_reader_does_not_block_a_writer(home: Path, make_run: Callable[..., NewRun]) -> None:
    _populate(home, make_run, runs=3)
    with ReadOnlyStore.open(home) as ro:
        ro._conn.execute("BEGIN")
        assert len(ro.runs("Arborist")) == 3  # holds a read snapshot
        with Store.open(home) as store:
            store.append_run(make_run())
        assert len(ro.runs("Arborist")) == 3  # snapshot isolation
        ro._conn.execute("COMMIT")
        assert len(ro.runs("Arborist")) == 4


def test_reads_while_another_process_writes(home: Path, make_run: Callable[..., NewRun]) -> None:
    _populate(home, make_run, runs=1)
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                """
                import sys
                from benchstone.store import NewRun, Store
                with Store.open(sys.argv[1]) as store:
                    for i in range(300):
                        store.append_run(NewRun(project="Arborist", benchmark="nsga2",
                                                git_sha=sys.argv[2], status="ok", metric=i))
                """
            ),
            str(home),
            SHA,
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    seen = []
    with ReadOnlyStore.open(home) as ro:
        while writer.poll() is None:
            latest = ro.runs("Arborist", "nsga2", limit=20)
            seen.append(latest[0].id)
            assert ro.baseline("Arborist", "nsga2") is not None
        assert writer.wait() == 0, writer.stderr.read()
        assert seen == sorted(seen)
        assert len(ro.runs("Arborist")) == 301
        assert ro.verify().ok


def _readme_example() -> str:
    """The reporting example from the README, as shipped in the installed metadata."""
    readme = metadata("benchstone-store").get_payload()  # type: ignore[attr-defined]
    match = re.search(r"<!-- reporting-example -->\s*```python\n(.*?)```", readme, re.S)
    assert match, "README lost its reporting example"
    return match.group(1)


def test_readme_reporting_example_runs(home: Path, make_run: Callable[..., NewRun]) -> None:
    code = _readme_example()
    assert len(code.strip().splitlines()) <= 10
    _populate(home, make_run)
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "BENCHSTONE_HOME": str(home)},
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Arborist/nsga2 baseline a1b2c3d4e5 (5 runs)")
    assert len(lines) == 21 and lines[1].split()[0] == "25"

"""Appending runs and reading them back with filters."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from benchstone.store import NewRun, Run, Store, StoreError

SHA_A = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"
SHA_B = "9a8b7c6d5e4f30211203f4e5d6c7b8a990817263"


def test_every_field_round_trips(store: Store, tmp_path: Path) -> None:
    (tmp_path / "art").write_bytes(b"artifact\n")
    digest = store.put_artifact(tmp_path / "art")
    new = NewRun(
        project="Arborist",
        benchmark="nsga2",
        git_sha=SHA_A,
        git_dirty=True,
        diff_path=tmp_path / "d.diff",
        seed=42,
        meta_seed=4427,
        seed_set="fresh",
        repetition=2,
        repetition_total=5,
        status="ok",
        metric=1.0413,
        metric_source="reported",
        reported_metric=1.0413,
        metric_components={"front": [1, 2]},
        reported_wall_clock=1031.1,
        wall_clock=1031.5,
        cpu_time=2000.25,
        peak_rss=123456789,
        exit_code=0,
        message=None,
        metadata={"host_load": 0.1},
        artifact_digest=digest,
        stdout_log="/logs/out",
        stderr_log="/logs/err",
        corpus_digest="blake3:" + "c" * 64,
        tracked_digest="blake3:" + "d" * 64,
        manifest_hash="sha256:" + "e" * 64,
        host="bench-01",
        started_at=datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
        finished_at="2026-01-02T04:04:05+01:00",
        job_id="job-7",
    )
    run = store.append_run(new)
    assert isinstance(run, Run) and run.id == 1
    stored = store.run(run.id)
    assert stored == run
    expected = new.to_dict() | {
        "diff_path": str(tmp_path / "d.diff"),
        "started_at": "2026-01-02T03:04:05.000006Z",
        "finished_at": "2026-01-02T03:04:05.000000Z",
    }
    got = stored.to_dict()
    assert {k: got[k] for k in expected} == expected
    assert store.run(999) is None


def test_error_run_with_defaults(store: Store, make_run: Callable[..., NewRun]) -> None:
    run = store.append_run(
        NewRun(project="P", benchmark="b", git_sha=SHA_A, status="error", message="boom")
    )
    assert run.metric is None and run.metadata == {} and run.metric_components == {}
    assert run.git_dirty is False


def _fill(store: Store, make_run: Callable[..., NewRun]) -> list[Run]:
    out = []
    for i in range(12):
        out.append(
            store.append_run(
                make_run(
                    benchmark="b1" if i % 2 else "b2",
                    git_sha=SHA_A if i < 6 else SHA_B,
                    status="error" if i % 5 == 0 else "ok",
                    meta_seed=None if i < 3 else 100 + i % 2,
                    repetition=i,
                )
            )
        )
    return out


def test_filters(store: Store, make_run: Callable[..., NewRun]) -> None:
    runs = _fill(store, make_run)
    ids = lambda rs: [r.id for r in rs]  # noqa: E731
    assert ids(store.runs("Arborist")) == [r.id for r in reversed(runs)]
    assert ids(store.runs("Arborist", newest_first=False)) == [r.id for r in runs]
    assert ids(store.runs("Arborist", limit=3)) == [12, 11, 10]
    assert ids(store.runs("Arborist", "b1", limit=2)) == [12, 10]
    assert ids(store.runs("Arborist", "b1", git_sha=SHA_B[:7])) == [12, 10, 8]
    assert ids(store.runs("Arborist", git_sha=SHA_A.upper()[:4])) == [6, 5, 4, 3, 2, 1]
    assert ids(store.runs("Arborist", git_sha=SHA_A)) == [6, 5, 4, 3, 2, 1]
    assert ids(store.runs("Arborist", status="error")) == [11, 6, 1]
    assert ids(store.runs("Arborist", meta_seed=None)) == [3, 2, 1]
    assert ids(store.runs("Arborist", meta_seed=101, newest_first=False)) == [4, 6, 8, 10, 12]
    assert ids(store.runs("Arborist", ids=[5, 1, 5, 99])) == [5, 1]
    assert ids(store.runs("Arborist", "b2", ids=[1, 2, 3])) == [3, 1]
    assert ids(store.runs("Arborist", ids=[])) == []
    assert store.runs("Other") == []
    assert store.runs("Arborist", limit=0) == []


def test_count_runs(store: Store, make_run: Callable[..., NewRun]) -> None:
    _fill(store, make_run)
    assert store.count_runs("Arborist") == 12
    assert store.count_runs("Arborist", "b1") == 6
    assert store.count_runs("Arborist", "none") == 0
    assert store.count_runs("Other") == 0
    with pytest.raises(StoreError, match="invalid benchmark name"):
        store.count_runs("Arborist", "a/b")


def test_since_accepts_datetimes_and_strings(store: Store, make_run: Callable[..., NewRun]) -> None:
    first = store.append_run(make_run())
    second = store.append_run(make_run())
    cut = datetime.fromisoformat(second.created_at)
    assert [r.id for r in store.runs("Arborist", since=cut)] == [second.id]
    assert [r.id for r in store.runs("Arborist", since=second.created_at)] == [second.id]
    plus_two = timezone(timedelta(hours=2))
    assert [r.id for r in store.runs("Arborist", since=cut.astimezone(plus_two))] == [second.id]
    assert len(store.runs("Arborist", since="2000-01-01")) == 2
    assert store.runs("Arborist", since=datetime.now(UTC) + timedelta(days=1)) == []
    assert first.created_at <= second.created_at


def test_benchmarks_lists_names_with_runs(store: Store, make_run: Callable[..., NewRun]) -> None:
    assert store.benchmarks("Arborist") == []
    for name in ("zeta", "alpha", "mid.b-1", "alpha"):
        store.append_run(make_run(benchmark=name))
    store.append_run(make_run(project="Other", benchmark="omega"))
    assert store.benchmarks("Arborist") == ["alpha", "mid.b-1", "zeta"]
    assert store.benchmarks("Other") == ["omega"]


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"status": "fine"}, "status 'fine' is not one of ok, error"),
        ({"git_sha": "HEAD"}, "git_sha 'HEAD' is not a git SHA"),
        ({"git_sha": "A1B2C3D4"}, "is not a git SHA"),
        ({"seed_set": "lucky"}, "seed_set 'lucky'"),
        ({"metric": math.nan}, "metric is NaN; pass None for 'no value'"),
        ({"metric": "1.0"}, "metric must be a number"),
        ({"metric": True}, "metric must be a number"),
        ({"seed": 2**64}, "seed=18446744073709551616 does not fit"),
        ({"seed": 1.5}, "seed must be an integer"),
        ({"metadata": {"x": object()}}, "metadata is not storable as JSON"),
        ({"metadata": [1]}, "metadata must be a mapping"),
        ({"host": 5}, "host must be a string"),
        ({"git_dirty": "yes"}, "git_dirty must be true or false"),
        ({"started_at": "yesterday"}, "started_at 'yesterday' is not an ISO-8601"),
        ({"artifact_digest": "sha256:00"}, "not a store digest"),
        ({"artifact_digest": "sha256:" + "0" * 64}, "is not in the store; put_artifact it first"),
    ],
)
def test_bad_runs_are_refused_in_one_line(
    store: Store, make_run: Callable[..., NewRun], overrides: dict, fragment: str
) -> None:
    with pytest.raises(StoreError) as info:
        store.append_run(make_run(**overrides))
    message = str(info.value)
    assert fragment in message and "\n" not in message
    assert message.startswith("run of Arborist/nsga2") or "name" in message
    assert store.runs("Arborist") == []


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"git_sha": "abc"}, "at least 4 hex"),
        ({"git_sha": "xyz1"}, "not a SHA prefix"),
        ({"since": "soon"}, "not an ISO-8601"),
        ({"since": 5}, "must be a datetime"),
        ({"ids": "12"}, "ids must be a sequence"),
        ({"ids": [1.5]}, "not a run id"),
        ({"status": "good"}, "status 'good'"),
        ({"meta_seed": "1"}, "meta_seed must be an integer or None"),
        ({"limit": -1}, "limit must be a non-negative integer"),
    ],
)
def test_bad_filters_are_refused(store: Store, kwargs: dict, fragment: str) -> None:
    with pytest.raises(StoreError, match=fragment):
        store.runs("Arborist", **kwargs)


def test_append_run_needs_a_new_run(store: Store) -> None:
    with pytest.raises(StoreError, match="append_run needs a NewRun, got dict"):
        store.append_run({"project": "P"})  # type: ignore[arg-type]

"""Registrations, the baseline pointer, references and evaluations: all events."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from benchstone.store import NewEvaluation, NewRun, Store, StoreError

SHA_A = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"
SHA_B = "9a8b7c6d5e4f30211203f4e5d6c7b8a990817263"


def test_registration_events(store: Store, tmp_path: Path) -> None:
    assert store.project("Arborist") is None and store.projects() == []
    first = store.register("Arborist", tmp_path, "sha256:" + "1" * 64)
    assert first.active and first.path == str(tmp_path)
    store.register("Zed", "/z", "sha256:" + "2" * 64)
    again = store.register("Arborist", tmp_path, "sha256:" + "3" * 64)
    assert store.project("Arborist") == again
    assert [r.name for r in store.projects()] == ["Arborist", "Zed"]
    gone = store.unregister("Zed")
    assert not gone.active and gone.path == "/z" and gone.manifest_hash == "sha256:" + "2" * 64
    assert store.project("Zed") is None
    assert [r.name for r in store.projects()] == ["Arborist"]
    with pytest.raises(StoreError, match="project 'Zed' is not registered"):
        store.unregister("Zed")
    with pytest.raises(StoreError, match="project 'Never' is not registered"):
        store.unregister("Never")
    with pytest.raises(StoreError, match="manifest_hash must be a non-empty string"):
        store.register("X", "/x", "")
    assert store.verify().ok


def test_baseline_pointer_is_the_latest_event(
    store: Store, make_run: Callable[..., NewRun]
) -> None:
    assert store.baseline("Arborist", "nsga2") is None
    base = [store.append_run(make_run(repetition=i)) for i in range(3)]
    cand = [store.append_run(make_run(git_sha=SHA_B, meta_seed=4427)) for _ in range(2)]
    first = store.set_baseline(
        "Arborist",
        "nsga2",
        git_sha=SHA_A,
        meta_seed=None,
        run_ids=[base[2].id, base[0].id, base[1].id],
        action="establish",
        notes="initial",
    )
    assert first.run_ids == (1, 2, 3) and first.forced is False and first.notes == "initial"
    second = store.set_baseline(
        "Arborist",
        "nsga2",
        git_sha=SHA_B,
        meta_seed=4427,
        run_ids=(r.id for r in cand),
        action="promote",
        forced=True,
    )
    assert store.baseline("Arborist", "nsga2") == second
    assert store.baseline_history("Arborist", "nsga2") == [first, second]
    assert store.baseline("Arborist", "other") is None
    assert [r.id for r in store.runs("Arborist", ids=second.run_ids)] == [5, 4]


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"run_ids": []}, "run_ids is empty"),
        ({"run_ids": [1, 1]}, "lists run id(s) [1] more than once"),
        ({"run_ids": [1, 99]}, "run id(s) [99] are not runs of Arborist/nsga2"),
        ({"run_ids": [2]}, "run id(s) [2] are not runs of Arborist/nsga2"),
        ({"run_ids": ["1"]}, "not a positive run id"),
        ({"action": "move"}, "action 'move' is not one of establish, promote"),
        ({"git_sha": "nope"}, "is not a git SHA"),
        ({"meta_seed": 2**70}, "does not fit in a signed 64-bit integer"),
    ],
)
def test_bad_baselines_are_refused(
    store: Store, make_run: Callable[..., NewRun], kwargs: dict, fragment: str
) -> None:
    store.append_run(make_run())
    store.append_run(make_run(benchmark="other"))  # id 2 belongs to another benchmark
    args = {
        "git_sha": SHA_A,
        "meta_seed": None,
        "run_ids": [1],
        "action": "establish",
    } | kwargs
    with pytest.raises(StoreError) as info:
        store.set_baseline("Arborist", "nsga2", **args)
    assert fragment in str(info.value)
    assert store.baseline_history("Arborist", "nsga2") == []


def test_reference_freeze_and_replace_rules(
    store: Store, make_run: Callable[..., NewRun], tmp_path: Path
) -> None:
    (tmp_path / "v1").write_bytes(b"v1\n")
    (tmp_path / "v2").write_bytes(b"v2\n")
    d1, d2 = store.put_artifact(tmp_path / "v1"), store.put_artifact(tmp_path / "v2")
    run = store.append_run(make_run(artifact_digest=d1))
    assert store.reference("Arborist", "nsga2") is None
    with pytest.raises(StoreError, match="nothing to replace; freeze a reference first"):
        store.set_reference(
            "Arborist", "nsga2", digest=d1, run_id=None, action="replace", reason="r"
        )
    frozen = store.set_reference("Arborist", "nsga2", digest=d1, run_id=run.id, action="freeze")
    with pytest.raises(StoreError, match=f"already frozen at {d1}"):
        store.set_reference("Arborist", "nsga2", digest=d2, run_id=None, action="freeze")
    for reason in (None, "", "   "):
        with pytest.raises(StoreError, match="reason"):
            store.set_reference(
                "Arborist", "nsga2", digest=d2, run_id=None, action="replace", reason=reason
            )
    with pytest.raises(StoreError, match="is not in the store"):
        store.set_reference(
            "Arborist",
            "nsga2",
            digest="sha256:" + "f" * 64,
            run_id=None,
            action="replace",
            reason="fix",
        )
    with pytest.raises(StoreError, match=r"run id\(s\) \[42\]"):
        store.set_reference(
            "Arborist", "nsga2", digest=d2, run_id=42, action="replace", reason="fix"
        )
    replaced = store.set_reference(
        "Arborist",
        "nsga2",
        digest=d2,
        run_id=None,
        action="replace",
        reason="upstream fixed rounding",
        notes="ticket 12",
    )
    assert store.reference("Arborist", "nsga2") == replaced
    assert store.reference_history("Arborist", "nsga2") == [frozen, replaced]
    assert replaced.reason == "upstream fixed rounding" and replaced.run_id is None
    assert store.verify().ok


def _evaluation(event_id: int | None, sha: str, run_ids: list[int], look: int) -> NewEvaluation:
    return NewEvaluation(
        project="Arborist",
        benchmark="nsga2",
        baseline_event_id=event_id,
        candidate_sha=sha,
        run_ids=run_ids,
        policy="mann_whitney",
        statistic=1.2,
        p_value=0.11,
        threshold=2.0,
        look=look,
        kind="NEEDS_MORE_DATA",
        reason="z below threshold",
        details={"baseline": {"n": 3}},
    )


def test_evaluations_are_the_look_counter(store: Store, make_run: Callable[..., NewRun]) -> None:
    base = store.append_run(make_run())
    cand = store.append_run(make_run(git_sha=SHA_B))
    event = store.set_baseline(
        "Arborist", "nsga2", git_sha=SHA_A, meta_seed=None, run_ids=[base.id], action="establish"
    )
    e1 = store.append_evaluation(_evaluation(event.id, SHA_B, [cand.id], 1))
    e2 = store.append_evaluation(_evaluation(event.id, SHA_B, [cand.id], 2))
    e3 = store.append_evaluation(_evaluation(None, SHA_A, [], 1))
    assert e1.run_ids == (cand.id,) and e1.details == {"baseline": {"n": 3}}
    assert store.evaluations("Arborist", "nsga2") == [e1, e2, e3]
    looks = store.evaluations("Arborist", "nsga2", baseline_event_id=event.id, candidate_sha=SHA_B)
    assert looks == [e1, e2]
    assert store.evaluations("Arborist", "nsga2", candidate_sha=SHA_B[:6]) == [e1, e2]
    assert store.evaluations("Arborist", "nsga2", baseline_event_id=None) == [e3]
    assert store.evaluations("Arborist", "nsga2", baseline_event_id=event.id + 1) == []
    assert store.evaluations("Arborist", "other") == []


@pytest.mark.parametrize(
    ("event_id", "sha", "run_ids", "fragment"),
    [
        (7, SHA_B, [], "baseline_event_id 7 is not a baseline event of Arborist/nsga2"),
        (None, SHA_B, [9], "run id(s) [9] are not runs"),
        (None, "HEAD", [], "candidate_sha 'HEAD' is not a git SHA"),
        (None, SHA_B, "1", "must be a sequence of run ids"),
    ],
)
def test_bad_evaluations_are_refused(
    store: Store, event_id: int | None, sha: str, run_ids: list[int], fragment: str
) -> None:
    with pytest.raises(StoreError) as info:
        store.append_evaluation(_evaluation(event_id, sha, run_ids, 1))
    assert fragment in str(info.value)
    assert store.evaluations("Arborist", "nsga2") == []

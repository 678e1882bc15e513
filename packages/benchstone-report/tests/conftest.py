"""A real store in a tmp home, filled through the store's own write API."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchstone.store import NewEvaluation, NewRun, Store

SHAS = [f"{i:x}" * 40 for i in range(1, 6)]  # five commits, first-seen in this order
VALUES = {0: [10.0, 10.2, 9.9], 1: [10.1, 10.0, 10.3], 2: [8.0, 8.1, 7.9], 3: [8.2, 8.0], 4: [12.0]}


def _verdict(
    store: Store,
    baseline_id: int,
    sha: str,
    run_ids: list[int],
    kind: str,
    reason: str,
    effect: float,
    ci: list[float],
) -> None:
    store.append_evaluation(
        NewEvaluation(
            project="Arborist",
            benchmark="nsga2",
            baseline_event_id=baseline_id,
            candidate_sha=sha,
            run_ids=tuple(run_ids),
            policy="mann_whitney",
            statistic=1.0,
            p_value=0.01,
            threshold=0.05,
            look=1,
            kind=kind,
            reason=reason,
            details={"effect": effect, "effect_ci": ci},
        )
    )


@pytest.fixture
def shas() -> list[str]:
    return SHAS


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """Project Arborist, benchmark nsga2: 12 ok runs + 1 error over 5 commits,
    a baseline established at commit 0 and promoted to commit 2, two verdicts."""
    home = tmp_path / "bshome"
    with Store.open(home) as store:
        store.register("Arborist", tmp_path, "f" * 64)
        ids: dict[int, list[int]] = {}
        for commit, values in VALUES.items():
            for rep, value in enumerate(values):
                run = store.append_run(
                    NewRun(
                        project="Arborist",
                        benchmark="nsga2",
                        git_sha=SHAS[commit],
                        status="ok",
                        metric=value,
                        metric_source="reported_metric",
                        reported_metric=value,
                        repetition=rep,
                        started_at=f"2026-01-0{commit + 1}T10:00:0{rep}Z",
                    )
                )
                ids.setdefault(commit, []).append(run.id)
        store.append_run(
            NewRun(
                project="Arborist",
                benchmark="nsga2",
                git_sha=SHAS[4],
                status="error",
                message="boom | exit 1",
            )
        )
        first = store.set_baseline(
            "Arborist", "nsga2", git_sha=SHAS[0], meta_seed=None, run_ids=ids[0], action="establish"
        )
        _verdict(store, first.id, SHAS[2], ids[2], "PROMOTE", "faster by 20%", 0.2, [0.15, 0.25])
        second = store.set_baseline(
            "Arborist", "nsga2", git_sha=SHAS[2], meta_seed=None, run_ids=ids[2], action="promote"
        )
        _verdict(store, second.id, SHAS[4], ids[4], "REJECT", "slower | by 50%", -0.5, [-0.6, -0.4])
        store.append_run(
            NewRun(
                project="Arborist", benchmark="sorting", git_sha=SHAS[0], status="ok", metric=1.0
            )
        )
    return home

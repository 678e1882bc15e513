"""Measurement hygiene on real projects: warmups, CPU pinning, host identities.

Warmups are real repetitions whose rows the store keeps; pinning is observed from inside
the workload; a foreign host's rows are appended through the store as real rows with
another identity (exactly what a store shared by two machines holds).
"""

from __future__ import annotations

import os
import sys
import textwrap

import pytest

from benchstone import api
from benchstone.runner import RunnerError
from benchstone.store import NewRun, Store

ARGS = "--entry={entry_point} --config={config_path} --output={output_path}"
# Its warmups (repetition_total 2 in these manifests) report 1000: a gate that read one
# would be thrown far off. The CPUs it may run on go into the result's metadata.
RUNNER = textwrap.dedent(
    """\
    import json, os, random, sys
    args = dict(a.split("=", 1) for a in sys.argv[1:])
    config = json.load(open(args["--config"]))
    level = float(open("level.txt").read())
    noise = random.Random(config["seed"]).gauss(0, 0.01)
    metric = 1000.0 if config["repetition_total"] == 2 else level * (1 + noise)
    result = {
        "status": "ok",
        "metric": metric,
        "metadata": {"affinity": sorted(os.sched_getaffinity(0))},
    }
    open(args["--output"], "w").write(json.dumps(result))
    """
)


def _manifest(extra_project: str = "", extra_bench: str = "") -> str:
    return textwrap.dedent(
        f"""\
        [project]
        name = "proj"
        invocation = "{sys.executable} bench/runner.py {ARGS}"
        {extra_project}

        [[benchmarks]]
        name = "plain"
        tier = "quality"
        metric_direction = "minimize"
        repetitions = 3
        baseline_seeds = [1, 2, 3]
        {extra_bench}
        """
    )


@pytest.fixture
def make(project):
    """The conftest project with this module's runner and a given manifest, registered."""

    def setup(extra_project: str = "", extra_bench: str = ""):
        (project.root / "bench" / "runner.py").write_text(RUNNER)
        (project.root / "bench" / "manifest.toml").write_text(_manifest(extra_project, extra_bench))
        project.commit()
        api.register(project.root)
        return project

    return setup


def test_warmups_are_stored_and_never_gated(make, home):
    project = make(extra_bench="warmup_repetitions = 2")
    established = api.establish_baseline("proj", "plain")
    assert [r.warmup for r in established.warmups] == [True, True]
    assert [r.metric for r in established.warmups] == [1000.0, 1000.0]
    assert not any(r.warmup for r in established.runs) and len(established.runs) == 3
    # The pointer names the measured repetitions only.
    assert established.baseline.run_ids == tuple(r.id for r in established.runs)

    project.commit(level=0.8)
    report = api.run("proj", "plain")
    assert len(report.warmups) == 2 and len(report.runs) == 3
    verdict = api.evaluate("proj", "plain")
    assert verdict.kind == "PROMOTE", verdict.reason
    assert set(verdict.candidate_run_ids) == {r.id for r in report.runs}
    assert set(verdict.baseline_run_ids) == {r.id for r in established.runs}
    assert verdict.gate.baseline.max < 2 and verdict.gate.candidate.max < 2

    with Store.open(home) as store:
        rows = store.runs("proj", "plain", newest_first=False)
    assert [r.warmup for r in rows] == [True, True, False, False, False] * 2
    # The warmups ran first, each dispatch's before its measured repetitions.
    assert [r.repetition for r in rows[:5]] == [0, 1, 0, 1, 2]

    timeline = api.timeline("proj", "plain")
    for run, value in zip(timeline.runs, timeline.values, strict=True):
        assert (value is None) == run.warmup


def test_warmups_alone_are_not_enough_to_gate(make, home):
    make(extra_bench="warmup_repetitions = 2")
    api.establish_baseline("proj", "plain")
    with Store.open(home) as store:
        warmup = next(r for r in store.runs("proj", "plain") if r.warmup)
    # At this SHA only the baseline's own runs and the warmups: nothing to gate.
    verdict = api.evaluate("proj", "plain")
    assert warmup.id not in verdict.candidate_run_ids
    assert verdict.kind == "NEEDS_MORE_DATA"


def test_every_repetition_runs_pinned(make, home):
    make(extra_project="cpu_affinity = [0]", extra_bench="warmup_repetitions = 2")
    report = api.run("proj", "plain")
    for run in (*report.warmups, *report.runs):
        assert run.status == "ok", run.message
        assert run.metadata["affinity"] == [0]


def test_benchmark_affinity_wins_over_the_project_one(make, home):
    cpus = sorted(os.sched_getaffinity(0))
    make(extra_project=f"cpu_affinity = {cpus}", extra_bench="cpu_affinity = [0]")
    (run, *_) = api.run("proj", "plain").runs
    assert run.metadata["affinity"] == [0]


def test_unpinned_repetitions_keep_the_harness_cpus(make, home):
    make()
    (run, *_) = api.run("proj", "plain").runs
    assert run.metadata["affinity"] == sorted(os.sched_getaffinity(0))


def test_a_cpu_this_host_lacks_is_refused_before_any_repetition(make, home):
    missing = max(os.sched_getaffinity(0)) + 1000
    make(extra_bench=f"cpu_affinity = [{missing}]")
    with pytest.raises(RunnerError) as caught:
        api.run("proj", "plain")
    message = str(caught.value)
    assert "manifest.toml" in message and "key 'cpu_affinity'" in message
    assert f"CPU {missing} is not available" in message
    with Store.open(home) as store:
        assert store.runs("proj", "plain") == []


def _as_other_host(run, identity_changes: dict[str, str]) -> NewRun:
    """A copy of ``run`` as another machine would have stored it."""
    from benchstone.runner import identity_digest

    identity = dict(run.fingerprint["identity"], **identity_changes)
    values = {name: getattr(run, name) for name in NewRun.FIELDS}
    values.update(
        host_identity=identity_digest(identity),
        fingerprint={"identity": identity, "conditions": run.fingerprint["conditions"]},
        host=identity["hostname"],
    )
    return NewRun(**values)


def _repoint(store: Store, changes: dict[str, str], *, first_only: bool = False) -> None:
    """Point the baseline at copies of its runs (or of its first run, the others kept) as
    a host with ``changes`` to its identity stored them."""
    pointer = store.baseline("proj", "plain")
    runs = store.runs("proj", "plain", ids=pointer.run_ids, newest_first=False)
    moved = runs[:1] if first_only else runs
    copies = [store.append_run(_as_other_host(r, changes)) for r in moved]
    store.set_baseline(
        "proj",
        "plain",
        git_sha=pointer.git_sha,
        meta_seed=None,
        run_ids=tuple(r.id for r in [*copies, *runs[len(moved) :]]),
        action="establish",
    )


def _baseline_from_another_host(home, changes: dict[str, str]) -> None:
    with Store.open(home) as store:
        _repoint(store, changes)


def test_runs_of_different_hosts_are_not_compared(make, home):
    project = make(extra_bench='metric_source = "cpu_time"\nmeasurement = "stored"')
    api.establish_baseline("proj", "plain")
    _baseline_from_another_host(home, {"hostname": "elsewhere", "kernel": "6.1.0-test"})
    project.commit(level=0.8)
    api.run("proj", "plain")
    verdict = api.evaluate("proj", "plain")
    assert verdict.kind == "NEEDS_MORE_DATA"
    assert "baseline measured on host elsewhere (" in verdict.reason
    assert "kernel 6.1.0-test" in verdict.reason
    assert "hostname: elsewhere vs " in verdict.reason
    assert "compare_across_hosts = true" in verdict.reason
    with Store.open(home) as store:
        assert store.evaluations("proj", "plain") == []  # not a look


def test_a_baseline_spread_over_hosts_is_not_compared(make, home):
    project = make(extra_bench='metric_source = "cpu_time"\nmeasurement = "stored"')
    api.establish_baseline("proj", "plain")
    with Store.open(home) as store:
        _repoint(store, {"cpu_count": "64"}, first_only=True)
    project.commit(level=0.8)
    api.run("proj", "plain")
    verdict = api.evaluate("proj", "plain")
    assert verdict.kind == "NEEDS_MORE_DATA"
    assert "the baseline runs were measured on 2 different hosts" in verdict.reason
    assert "64 cores" in verdict.reason


def test_compare_across_hosts_opts_out(make, home):
    project = make(extra_bench="compare_across_hosts = true")
    api.establish_baseline("proj", "plain")
    _baseline_from_another_host(home, {"hostname": "elsewhere", "kernel": "6.1.0-test"})
    project.commit(level=0.8)
    api.run("proj", "plain")
    verdict = api.evaluate("proj", "plain")
    assert verdict.kind == "PROMOTE", verdict.reason


def test_a_reported_quality_score_compares_across_hosts_by_default(make, home):
    # A seeded score does not depend on the machine; only host measurements are split.
    project = make()
    api.establish_baseline("proj", "plain")
    _baseline_from_another_host(home, {"hostname": "elsewhere"})
    project.commit(level=0.8)
    api.run("proj", "plain")
    assert api.evaluate("proj", "plain").kind == "PROMOTE"


@pytest.mark.parametrize("key", ["warmup_repetitions = 1", "cpu_affinity = [0]"])
def test_the_slurm_executor_refuses_what_it_would_not_do(project, home, tmp_path, key):
    (project.root / "bench" / "runner.py").write_text(RUNNER)
    (project.root / "bench" / "manifest.toml").write_text(
        _manifest(extra_bench=f'executor = "slurm"\n{key}')
        + f'\n[slurm]\nspool = "{tmp_path / "spool"}"\n'
    )
    project.commit()
    api.register(project.root)
    with pytest.raises(api.ApiError, match=r"key '\w+' applies to the local executor only"):
        api.run("proj", "plain")
    with Store.open(home) as store:
        assert store.runs("proj", "plain") == []


def test_each_arm_of_a_window_warms_up_pinned_and_is_never_gated(make, home):
    project = make(
        extra_bench='metric_source = "wall_clock"\nwarmup_repetitions = 2\ncpu_affinity = [0]'
    )
    api.establish_baseline("proj", "plain")
    project.commit(level=0.8)
    report = api.run("proj", "plain")
    assert report.measurement == "side_by_side"
    by_arm = {(w.arm, w.window) for w in report.warmups}
    assert by_arm == {("baseline", report.window), ("candidate", report.window)}
    assert len(report.warmups) == 4 and all(w.warmup for w in report.warmups)
    assert all(r.metadata["affinity"] == [0] for r in (*report.warmups, *report.runs))
    verdict = api.evaluate("proj", "plain")
    gated = {*verdict.candidate_run_ids, *verdict.baseline_run_ids}
    assert gated == {r.id for r in report.runs} and len(gated) == 6

"""What a new user hit, through benchstone.api against a real project and store."""

from __future__ import annotations

import re
import statistics
import subprocess
import time
from dataclasses import replace
from pathlib import Path

import pytest

from benchstone import api
from benchstone.api._job_files import JobFiles, new_job_id
from benchstone.api._values import gated_value
from benchstone.store import ReadOnlyStore, Run

FAILING_RUNNER = """\
import sys
print("loading the solver", file=sys.stderr)
print("ValueError: boom-marker in solve()", file=sys.stderr)
sys.exit(3)
"""


def _manifest(project, old: str, new: str) -> None:
    path = project.root / "bench" / "manifest.toml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_gated_value_is_chosen_at_read_time_and_reuses_the_baseline(project, home):
    api.register(project.root)
    established = api.establish_baseline("proj", "plain")
    # `metric` is still written (older readers), from the source gated at write time.
    assert all(r.metric == r.reported_metric for r in established.runs)
    assert all(r.wall_clock and r.cpu_time is not None for r in established.runs)

    # Gate on the harness's wall clock from now on: the same stored baseline runs count
    # (compared as stored: a host timing would by default be re-measured side by side).
    _manifest(
        project,
        'name = "plain"\n',
        'name = "plain"\nmetric_source = "wall_clock"\nmeasurement = "stored"\n',
    )
    project.commit()
    # A judging key only: the lock changes, the stored baseline still compares.
    api.lock("proj", reason="gate on the harness's wall clock")
    api.run("proj", "plain")
    verdict = api.evaluate("proj", "plain")
    assert verdict.kind in ("PROMOTE", "REJECT"), verdict.reason
    assert verdict.metric_source == "wall_clock"
    assert set(verdict.baseline_run_ids) == {r.id for r in established.runs}
    walls = [r.wall_clock for r in established.runs]
    assert verdict.gate.baseline.mean == pytest.approx(statistics.fmean(walls))
    # The history shows the value gated now, not the one baked in at write time.
    found = api.timeline("proj", "plain")
    by_id = dict(zip((r.id for r in found.runs), found.values, strict=True))
    assert [by_id[r.id] for r in established.runs] == walls
    assert found.metric_source == "wall_clock"


def test_gated_value_reads_each_source_from_its_own_column():
    row = Run(
        id=1,
        created_at="t",
        row_hash="h",
        project="p",
        benchmark="b",
        git_sha="s",
        status="ok",
        metric=99.0,
        reported_metric=1.5,
        wall_clock=2.5,
        cpu_time=3.5,
        peak_rss=4096,
        instructions=123456,
    )
    assert [
        gated_value(row, s)
        for s in ("reported", "wall_clock", "cpu_time", "peak_rss", "instructions")
    ] == [1.5, 2.5, 3.5, 4096.0, 123456.0]
    assert gated_value(row.replace(instructions=None), "instructions") is None
    with pytest.raises(api.ApiError, match="metric_source 'speed_of_light' is unknown"):
        gated_value(row, "speed_of_light")


def test_history_of_unknown_names_raises_and_unregistered_history_stays(project, home):
    with pytest.raises(api.ApiError, match="project 'nope' is not registered and has no"):
        api.history("nope", "plain")
    api.register(project.root)
    with pytest.raises(api.ApiError, match="no benchmark 'plian'; did you mean 'plain'"):
        api.history("proj", "plian")
    assert api.history("proj", "plain") == []  # declared, nothing run yet: not an error
    api.run("proj", "plain", n=1)
    api.unregister("proj")
    assert len(api.history("proj", "plain")) == 1  # the store still knows it
    assert api.timeline("proj", "plain").metric_source is None


def test_evaluate_with_only_failed_candidates_says_how_many_and_why(project, home):
    api.register(project.root)
    api.establish_baseline("proj", "plain")
    (project.root / "bench" / "runner.py").write_text(FAILING_RUNNER)
    project.commit()
    api.lock("proj", reason="the runner loads the solver")
    report = api.run("proj", "plain", n=2)
    assert not report.ok_runs
    failures = api.failures(report.runs)
    assert [f.run_id for f in failures] == [r.id for r in report.runs]
    assert failures[0].stderr_tail == (
        "loading the solver",
        "ValueError: boom-marker in solve()",
    )
    assert failures[0].reason == "exit code 3"
    verdict = api.evaluate("proj", "plain")
    # A changed runner is a changed procedure: the old baseline is not compared, and the
    # verdict still says why every candidate failed.
    assert verdict.kind == "NO_BASELINE"
    assert "whose procedure (evaluator files or measurement keys) differs" in verdict.reason
    assert f"all 2 candidate run(s) at {report.git_sha[:10]} failed (2x " in verdict.reason
    assert failures[0].reason in verdict.reason
    with pytest.raises(
        api.ApiError,
        match=r"none of the 2 baseline repetition\(s\) succeeded "
        r"\(2x exit code 3\); the baseline was not set",
    ):
        api.establish_baseline("proj", "plain", n=2)


def test_reject_says_whether_it_is_worse(project, home):
    api.register(project.root)
    api.establish_baseline("proj", "plain")
    project.commit(level=3.0)
    api.run("proj", "plain")
    verdict = api.evaluate("proj", "plain")
    assert verdict.kind == "REJECT" and verdict.gate.effect < -1.5
    document = verdict.to_dict()
    assert "worse" in document and document["worse"] == verdict.worse
    assert document["interval_level"] == pytest.approx(1 - 2 * verdict.gate.alpha)
    if hasattr(verdict.gate, "worse"):  # gates' two-sided regression test has landed
        assert verdict.worse is True
        assert verdict.reason.startswith("significantly worse")
    assert api.evaluate("proj", "speed").worse is None  # not a REJECT: no answer


def test_background_required_dispatches_in_the_background(project, home):
    _manifest(project, 'name = "plain"\n', 'name = "plain"\nbackground_required = true\n')
    project.commit()
    api.register(project.root)
    report = api.run("proj", "plain", n=1)
    assert isinstance(report, api.BackgroundDispatch) and report.runs == ()
    job = _wait(report.job.id)
    assert job.state == "done" and len(job.run_ids) == 1


def test_prune_forgets_finished_and_stale_jobs_and_keeps_their_runs(project, home):
    api.register(project.root)
    done = api.run("proj", "plain", n=1)
    (finished,) = api.jobs(include_finished=True)
    assert finished.state == "done"
    # A job whose process is gone: a record left "running" by a pid that has exited.
    exited = subprocess.Popen(["true"])
    exited.wait()
    files = JobFiles(Path(home) / "jobs")
    with files.locked():
        record = files.load(finished.id)
        stale = replace(record, id=new_job_id(), state="running", pid=exited.pid, finished_at=None)
        files.create(stale)
    assert {j.state for j in api.jobs()} == {"stale"}

    forgotten = api.prune_jobs()
    assert sorted(j.state for j in forgotten) == ["done", "stale"]
    assert api.jobs(include_finished=True) == []
    assert [r.id for r in api.history("proj", "plain")] == [r.id for r in done.runs]
    assert api.prune_jobs() == []


def _wait(job_id: str) -> api.JobInfo:
    deadline = time.monotonic() + 60
    while True:
        info = api.job(job_id)
        if info.state in ("done", "failed", "stale"):
            return info
        assert time.monotonic() < deadline, info
        time.sleep(0.05)


def test_history_filter_matching_nothing_is_an_empty_timeline(project, home):
    api.register(project.root)
    api.run("proj", "plain", n=1)
    assert api.timeline("proj", "plain", git_sha="0000000").runs == ()
    with ReadOnlyStore.open(home) as store:
        assert len(store.runs("proj", "plain")) == 1
    assert re.fullmatch(r"[0-9a-f]{40}", api.history("proj", "plain")[0].git_sha)

"""benchstone.api against a real project: the loop, looks that cost alpha, guards."""

from __future__ import annotations

import pytest

from benchstone import api
from benchstone.runner import ManifestError
from benchstone.store import Store


def test_register_list_unregister(project, home):
    info = api.register(project.root)
    assert info.name == "proj" and info.manifest_hash.startswith("sha256:")
    assert [b.name for b in info.benchmarks] == ["speed", "plain", "exact"]
    (listed,) = api.list_projects()
    assert listed.name == "proj" and listed.benchmarks[0].baseline is None
    api.unregister("proj")
    assert api.list_projects() == []
    with pytest.raises(api.ApiError, match="not registered"):
        api.unregister("proj")


def test_configuration_errors_raise(project, home):
    with pytest.raises(api.ApiError, match="not registered"):
        api.evaluate("proj", "plain")
    api.register(project.root)
    with pytest.raises(ManifestError, match="did you mean 'plain'"):
        api.evaluate("proj", "plian")


def test_verdicts_and_promotion(project, home):
    api.register(project.root)
    assert api.evaluate("proj", "plain").kind == "NO_BASELINE"
    established = api.establish_baseline("proj", "plain")
    assert [r.seed for r in established.runs] == [1, 2, 3]
    assert established.baseline.run_ids == tuple(r.id for r in established.runs)
    assert api.evaluate("proj", "plain").kind == "NEEDS_MORE_DATA"

    project.commit(level=0.8)
    api.run("proj", "plain")
    verdict = api.evaluate("proj", "plain")
    assert verdict.kind == "PROMOTE" and verdict.exit_code == 0
    assert verdict.gate.effect > 0.1
    report = api.promote("proj", "plain", notes="faster")
    assert report.baseline.git_sha == verdict.candidate_sha
    assert set(report.baseline.run_ids) == set(verdict.candidate_run_ids)
    assert api.baseline("proj", "plain").action == "promote"

    project.commit(level=1.0)
    api.run("proj", "plain")
    verdict = api.evaluate("proj", "plain")
    assert verdict.kind == "REJECT" and verdict.exit_code == 1
    with pytest.raises(ValueError, match="refusing to promote"):
        api.promote("proj", "plain")
    forced = api.promote("proj", "plain", force=True)
    assert forced.forced and forced.baseline.forced


def test_looks_cost_alpha_and_same_runs_are_not_a_new_look(project, home):
    api.register(project.root)
    api.establish_baseline("proj", "plain")
    project.commit(level=1.0)  # no real change: the agent keeps re-running
    api.run("proj", "plain")
    first = api.evaluate("proj", "plain")
    again = api.evaluate("proj", "plain")
    assert first.look == again.look == 1
    assert first.new_look and not again.new_look
    assert again.kind == first.kind and again.gate.p_value == first.gate.p_value

    api.run("proj", "plain")
    second = api.evaluate("proj", "plain")
    assert second.look == 2
    assert len(second.candidate_run_ids) == 6  # every run at the SHA is pooled
    assert second.gate.alpha == pytest.approx(first.gate.alpha / 2)
    assert second.gate.threshold > first.gate.threshold

    # A new baseline pointer starts the count again.
    api.establish_baseline("proj", "plain")
    assert api.evaluate("proj", "plain").look == 1


def test_faster_but_wrong_is_never_promoted(project, home):
    api.register(project.root)
    api.run("proj", "exact", seed_set="baseline")
    with Store.open(home) as store:
        (run,) = store.runs("proj", "exact")
        store.set_reference(
            "proj", "exact", digest=run.artifact_digest, run_id=run.id, action="freeze"
        )
    api.establish_baseline("proj", "speed")

    project.commit(level=0.5, answer="41\n")  # twice as fast, wrong answer
    api.run("proj", "speed")
    verdict = api.evaluate("proj", "speed")
    assert verdict.kind == "NEEDS_MORE_DATA" and "'exact'" in verdict.reason

    api.run("proj", "exact", seed_set="baseline")
    assert api.evaluate("proj", "exact").kind == "FAIL"
    verdict = api.evaluate("proj", "speed")
    assert verdict.kind == "REJECT" and "FAIL" in verdict.reason

    project.commit(level=0.5, answer="42\n")  # fast and right
    api.run("proj", "exact", seed_set="baseline")
    assert api.evaluate("proj", "exact").kind == "PASS"
    api.run("proj", "speed")
    assert api.evaluate("proj", "speed").kind == "PROMOTE"


def test_correctness_benchmarks_have_no_baseline(project, home):
    api.register(project.root)
    with pytest.raises(api.ApiError, match="freeze-reference"):
        api.establish_baseline("proj", "exact")
    with pytest.raises(api.ApiError, match="replace-reference"):
        api.promote("proj", "exact")


def test_evaluation_rows_record_the_returned_kind(project, home):
    api.register(project.root)
    api.establish_baseline("proj", "speed")
    project.commit(level=0.5)
    api.run("proj", "speed")
    verdict = api.evaluate("proj", "speed")  # statistically PROMOTE, no correctness run yet
    assert verdict.kind == "NEEDS_MORE_DATA" and verdict.gate.kind == "PROMOTE"
    with Store.open(home) as store:
        (row,) = store.evaluations("proj", "speed")
    assert row.kind == "NEEDS_MORE_DATA" and row.details["gate_kind"] == "PROMOTE"
    assert row.id == verdict.evaluation_id and row.look == 1


def test_a_verdict_on_unsealed_runs_says_so(project, home):
    api.register(project.root)
    api.establish_baseline("proj", "plain")
    project.commit(level=0.8)
    api.run("proj", "plain")
    sealed = api.evaluate("proj", "plain")
    assert sealed.kind == "PROMOTE"
    assert not any("unsealed" in note for note in sealed.notes)

    # The same project measured with sandbox = "none": the verdict names the risk.
    manifest = project.root / "bench" / "manifest.toml"
    text = manifest.read_text().replace("[project]\n", '[project]\nsandbox = "none"\n', 1)
    manifest.write_text(text)
    project.commit()
    api.lock("proj", reason="measure unsealed on a host without bubblewrap")
    api.run("proj", "plain")
    unsealed = api.evaluate("proj", "plain")
    (note,) = [n for n in unsealed.notes if "unsealed" in n]
    assert note.startswith("3 of the 6 compared run(s) ran unsealed (isolation none)")
    assert "install bubblewrap" in note
    assert unsealed.to_dict()["notes"] == list(unsealed.notes)

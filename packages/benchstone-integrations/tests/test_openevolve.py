"""The adapter under OpenEvolve's own Evaluator: real candidates, real benchstone runs.

No LLM is involved: OpenEvolve's Evaluator loads an evaluator.py like the example's and
scores given programs through ``evaluate_program``, the call its evolution loop makes.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import psutil
import pytest
from openevolve.config import EvaluatorConfig
from openevolve.evaluator import Evaluator

from benchstone import api

EXAMPLE = Path(__file__).resolve().parents[3] / "docs" / "examples" / "openevolve"


def evaluator_file(tmp_path: Path, sorting: Any, *, timeout: float = 120) -> Path:
    """The example's evaluator.py, pointed at this test's store and work dir."""
    text = (EXAMPLE / "evaluator.py").read_text()
    configured = text.replace(
        "    timeout_seconds=120,\n",
        f"    timeout_seconds={timeout!r},\n"
        f"    kill_grace_seconds=2,\n"
        f"    home={str(sorting.home)!r},\n"
        f"    work_dir={str(sorting.work_dir)!r},\n",
    )
    assert configured != text
    path = tmp_path / "evaluator.py"
    path.write_text(configured)
    return path


def running_in(directory: Path) -> list[list[str]]:
    """Command lines of every process whose working directory is inside ``directory``."""
    found = []
    for process in psutil.process_iter(["cwd", "cmdline"]):
        cwd = process.info.get("cwd")
        if cwd and Path(cwd).is_relative_to(directory):
            found.append(process.info.get("cmdline") or [])
    return found


def score(evaluator: Evaluator, code: str, name: str) -> tuple[dict, dict]:
    metrics = asyncio.run(evaluator.evaluate_program(code, program_id=name))
    return metrics, evaluator.get_pending_artifacts(name) or {}


def cascade(**overrides) -> EvaluatorConfig:
    options = {
        "timeout": 300,
        "max_retries": 0,
        "cascade_evaluation": True,
        "cascade_thresholds": [0.5],
        "parallel_evaluations": 1,
    }
    return EvaluatorConfig(**{**options, **overrides})


def test_faster_correct_scores_higher_than_slower_correct_and_wrong_scores_zero(
    sorting, tmp_path, candidates
):
    evaluator = Evaluator(cascade(), str(evaluator_file(tmp_path, sorting)))

    fast, fast_artifacts = score(evaluator, candidates.fast, "fast")
    slow, slow_artifacts = score(evaluator, candidates.slow, "slow")
    wrong, wrong_artifacts = score(evaluator, candidates.wrong, "wrong")

    assert fast["correct"] == slow["correct"] == 1.0
    assert fast_artifacts["verdict"] == "PROMOTE", fast_artifacts["reason"]
    assert slow_artifacts["verdict"] == "REJECT", slow_artifacts["reason"]
    assert fast["combined_score"] > slow["combined_score"] > 0.0
    assert fast["effect"] > 0 > slow["effect"]
    assert 0 <= fast["p_value"] <= 1
    # The verdict's reason is the artifact the next prompt shows.
    assert "candidate" in fast_artifacts["reason"] and fast_artifacts["candidate_sha"]

    assert wrong["combined_score"] == 0.0 and wrong["correct"] == 0.0
    assert wrong_artifacts["correctness_verdict"] == "FAIL"
    assert "verdict" not in wrong_artifacts  # stage 2 never ran for a wrong program
    assert api.history("sorting", "sort_speed", home=sorting.home, limit=1000)
    shas = {r.git_sha for r in api.history("sorting", "sort_speed", home=sorting.home)}
    assert wrong_artifacts["candidate_sha"] not in shas


def test_direct_evaluation_configured_from_evaluator_args(sorting, tmp_path, candidates):
    """``from ... import evaluate`` and config.yaml's evaluator_args, without cascade."""
    path = tmp_path / "evaluator.py"
    path.write_text("from benchstone.integrations.openevolve import evaluate\n")
    config = cascade(
        cascade_evaluation=False,
        evaluator_args={
            "project": "sorting",
            "candidate_path": "solution.py",
            "correctness": "sorts_correctly",
            "performance": "sort_speed",
            "home": str(sorting.home),
            "work_dir": str(sorting.work_dir),
        },
    )
    evaluator = Evaluator(config, str(path))
    fast, artifacts = score(evaluator, candidates.fast, "fast")
    wrong, _ = score(evaluator, candidates.wrong, "wrong")
    assert fast["verdict"] == artifacts["verdict"] == "PROMOTE"
    assert fast["combined_score"] >= 0.75 and fast["correct"] == 1.0
    assert wrong["combined_score"] == 0.0


def test_a_hanging_candidate_is_killed_at_the_timeout_and_nothing_is_left(
    sorting, tmp_path, candidates
):
    hanging = candidates.initial.replace(
        '    """Return the values in ascending order (insertion sort)."""\n',
        '    """Return the values in ascending order (insertion sort)."""\n'
        "    import time\n\n    time.sleep(600)\n",
        1,
    )
    assert hanging != candidates.initial
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    # OpenEvolve's own timeout is far away: only the adapter's can end this evaluation.
    evaluator = Evaluator(cascade(timeout=900), str(evaluator_file(tmp_path, sorting, timeout=4)))
    metrics, artifacts = score(evaluator, hanging, "hanging")

    assert metrics["combined_score"] == 0.0 and metrics["timeout"] is True
    assert "timeout of 4 s" in artifacts["error"] and "killed" in artifacts["error"]
    # The answer is ours (OpenEvolve's own timeout would have returned no "error" artifact);
    # OpenEvolve notes the "timeout" flag in its artifacts as it does for its own.
    assert artifacts["failure_stage"] == "evaluation"
    after = {p.pid for p in psutil.Process().children(recursive=True)}
    assert after <= before, [psutil.Process(pid).cmdline() for pid in after - before]
    # The repetition ran in the slot's worktree: nothing may still be working there
    # (a process orphaned by a killed parent is no longer our descendant, so look at all).
    assert running_in(sorting.work_dir) == []
    job = api.jobs(include_finished=True, home=sorting.home)[0]
    assert job.benchmark == "sorts_correctly" and job.state == "failed"
    assert "terminated by SIGTERM" in (job.message or "")


def test_an_unregistered_project_scores_zero_with_the_reason(sorting, tmp_path, candidates):
    text = evaluator_file(tmp_path, sorting).read_text()
    path = tmp_path / "evaluator.py"
    path.write_text(text.replace('project="sorting"', 'project="nosuch"'))
    evaluator = Evaluator(cascade(), str(path))
    metrics, artifacts = score(evaluator, candidates.fast, "fast")
    assert metrics["combined_score"] == 0.0
    assert "project 'nosuch' is not registered" in artifacts["error"]


def test_missing_reference_then_missing_baseline_score_zero_saying_why(
    unprepared, tmp_path, candidates
):
    from benchstone import api

    evaluator = Evaluator(cascade(), str(evaluator_file(tmp_path, unprepared)))
    metrics, artifacts = score(evaluator, candidates.fast, "no-reference")
    assert metrics["combined_score"] == 0.0 and metrics["correct"] == 0.0
    assert artifacts["correctness_verdict"] == "NO_REFERENCE"
    assert artifacts["error"].startswith("sorts_correctly: NO_REFERENCE")

    api.run("sorting", "sorts_correctly", home=unprepared.home)
    api.freeze_reference("sorting", "sorts_correctly", home=unprepared.home)
    metrics, artifacts = score(evaluator, candidates.fast, "no-baseline")
    assert metrics["correct"] == 1.0 and metrics["combined_score"] == 0.0
    assert artifacts["verdict"] == "NO_BASELINE"
    assert artifacts["error"].startswith("sort_speed: NO_BASELINE")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ('candidate_path="solution.py"', "candidate_path '../x.py' must be a file path"),
        ('performance="sort_speed"', "invalid benchmark name 'a/b'"),
    ],
)
def test_bad_settings_fail_when_the_evaluator_loads(sorting, tmp_path, change, message):
    text = evaluator_file(tmp_path, sorting).read_text()
    bad = {
        'candidate_path="solution.py"': 'candidate_path="../x.py"',
        'performance="sort_speed"': 'performance="a/b"',
    }[change]
    path = tmp_path / "evaluator.py"
    path.write_text(text.replace(change, bad))
    with pytest.raises(Exception, match=message.replace("'", ".")):
        Evaluator(cascade(), str(path))


def test_the_example_config_loads_in_openevolve(candidates):
    from openevolve.config import Config

    config = Config.from_yaml(EXAMPLE / "config.yaml")
    assert config.evaluator.cascade_evaluation and config.evaluator.parallel_evaluations == 1
    # benchstone's timeout in evaluator.py must fire before OpenEvolve's.
    assert "timeout_seconds=120" in (EXAMPLE / "evaluator.py").read_text()
    assert config.evaluator.timeout > 120
    assert candidates.initial.count("EVOLVE-BLOCK-START") == 1

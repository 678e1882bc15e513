"""The evaluator is locked at `bench register` (issue 11 parts 3 and 6), attacked end to end.

Each test is an attack an agent editing the project could try with the real `bench`
against a real git project; each asserts the attack fails: an edited manifest or runner
under bench/ is refused with one line naming what changed, an empty commit does not reset
the look counter, and `--at-sha` measures an older commit with the locked evaluator.
"""

from __future__ import annotations

import json
from pathlib import Path

from _support import commit_all, git, set_level

SKIPPING_RUNNER = """\
from benchstone.protocol import Runner

runner = Runner()


@runner.entry_point
def speed(config):
    return 0.001  # the timed run skips the work


runner.main()
"""


def _registered(bench, make_python_project, name: str = "lockd") -> Path:
    root = make_python_project(name)
    assert bench("register", str(root)).code == 0
    assert bench("baseline", "establish", name, "speed").code == 0
    return root


def test_editing_the_manifest_after_registration_is_refused_with_the_changed_keys(
    bench, make_python_project
) -> None:
    root = _registered(bench, make_python_project)
    manifest = root / "bench" / "manifest.toml"
    text = manifest.read_text().replace(
        'metric_direction = "minimize"', 'metric_direction = "maximize"'
    )
    manifest.write_text(text.replace("promotion_sigma = 2.0", "promotion_sigma = 0.1"))
    set_level(root, 3.0, message="slower, judged as better")
    r = bench("run", "lockd", "speed")
    assert r.code != 0
    assert r.err.count("\n") == 1, r.err
    assert "the evaluator differs from the lock of project 'lockd'" in r.err
    assert "speed.metric_direction: minimize → maximize" in r.err
    assert "speed.promotion_sigma: 2.0 → 0.1" in r.err
    assert 'bench lock lockd --reason "..."' in r.err
    # Nothing ran, so nothing can be promoted.
    history = json.loads(bench("history", "lockd", "speed", "--json").out)
    assert all(run["git_sha"] != git(root, "rev-parse", "HEAD") for run in history["runs"])
    r = bench("baseline", "establish", "lockd", "speed")
    assert r.code != 0 and "differs from the lock" in r.err


def test_a_runner_that_skips_the_timed_work_is_refused_naming_the_file(
    bench, make_python_project
) -> None:
    root = _registered(bench, make_python_project)
    (root / "bench" / "runner.py").write_text(SKIPPING_RUNNER)
    commit_all(root, "faster")
    r = bench("run", "lockd", "speed")
    assert r.code != 0
    assert r.err.count("\n") == 1, r.err
    assert "(lock 1): bench/runner.py; to accept it run `bench lock lockd" in r.err


def test_an_empty_commit_after_a_reject_does_not_reset_the_look(bench, make_python_project) -> None:
    _root = _registered(bench, make_python_project)
    set_level(_root, 1.5, message="slower")
    assert bench("run", "lockd", "speed").code == 0
    first = json.loads(bench("evaluate", "lockd", "speed", "--json").out)
    assert first["kind"] == "REJECT"
    assert first["gate"]["look"] == 1
    git(_root, "commit", "-q", "--allow-empty", "-m", "same code, new sha")
    assert bench("run", "lockd", "speed").code == 0
    second = json.loads(bench("evaluate", "lockd", "speed", "--json").out)
    assert second["candidate_sha"] != first["candidate_sha"]
    assert second["gate"]["look"] == 2


def test_baseline_at_a_commit_before_bench_existed_runs_the_locked_evaluator(
    bench, tmp_path
) -> None:
    from _support import create_python_project

    root = tmp_path / "late"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "level.txt").write_text("1.0 0.01\n")
    old = commit_all(root, "code before the benchmark existed")
    create_python_project(tmp_path, "scaffolded")
    for rel in ("bench/manifest.toml", "bench/runner.py"):
        (root / rel).parent.mkdir(exist_ok=True)
        text = (tmp_path / "scaffolded" / rel).read_text()
        (root / rel).write_text(text.replace('name = "scaffolded"', 'name = "late"'))
    commit_all(root, "add bench/")
    assert bench("register", str(root)).code == 0
    r = bench("baseline", "establish", "late", "speed", "--at-sha", old[:10])
    assert r.code == 0, r.err
    assert r.lines[-1] == f"baseline set: late/speed -> {old[:10]} (4 run(s))"
    runs = json.loads(bench("history", "late", "speed", "--json").out)["runs"]
    assert {run["git_sha"] for run in runs} == {old}
    assert all(run["status"] == "ok" for run in runs)
    assert git(root, "worktree", "list", "--porcelain").count("worktree ") == 1


def test_bench_lock_accepts_with_a_reason_and_history_lists_it(bench, make_python_project) -> None:
    root = _registered(bench, make_python_project)
    r = bench("lock", "lockd")
    assert r.code != 0 and "--reason is required" in r.err
    r = bench("lock", "lockd", "--reason", "nothing changed")
    assert r.code != 0 and "unchanged since lock 1" in r.err
    # Re-registering an unchanged project appends no lock.
    assert bench("register", str(root)).code == 0
    manifest = root / "bench" / "manifest.toml"
    manifest.write_text(
        manifest.read_text().replace("promotion_sigma = 2.0", "promotion_sigma = 3.0")
    )
    commit_all(root, "stricter gate")
    r = bench("register", str(root))
    assert r.code != 0 and "speed.promotion_sigma: 2.0 → 3.0" in r.err
    r = bench("lock", "lockd", "--reason", "a stricter gate")
    assert r.code == 0, r.err
    assert r.out.startswith("lock 2 ") and r.out.rstrip().endswith("— a stricter gate")
    history = json.loads(bench("lock", "lockd", "--history", "--json").out)
    assert [(e["id"], e["action"], e["reason"]) for e in history] == [
        (1, "register", None),
        (2, "lock", "a stricter gate"),
    ]
    # Only a judging key changed: the stored baseline still compares.
    assert history[0]["procedure_digest"] == history[1]["procedure_digest"]
    assert history[0]["judgement_digest"] != history[1]["judgement_digest"]
    assert bench("run", "lockd", "speed").code == 0
    verdict = json.loads(bench("evaluate", "lockd", "speed", "--json").out)
    assert verdict["kind"] != "NO_BASELINE", verdict["reason"]
    runs = json.loads(bench("history", "lockd", "speed", "--json").out)["runs"]
    assert {run["lock_id"] for run in runs} == {1, 2}
    tree = git(root, "rev-parse", "HEAD^{tree}")
    # The candidate arm measured HEAD's tree (the baseline arm, the pointer's commit).
    measured = {
        run["content_digest"] for run in runs if run["lock_id"] == 2 and run["arm"] != "baseline"
    }
    assert measured == {f"git-tree:{tree}"}
    r = bench("verify")
    assert r.code == 0 and r.lines[-1] == "verify: ok"


TAMPERING_RUNNER = """\
import sys
from pathlib import Path

from benchstone.protocol import Runner

sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import solver  # noqa: E402  the project's code, outside the locked bench/

runner = Runner()


@runner.entry_point
def speed(config):
    return solver.work(config.seed)


runner.main()
"""

# The project's code swaps the locked runner for one that skips the work after the first
# repetition, and puts the original back in the last one: the lock is checked before the
# dispatch and the tree is clean after it, so only the sandbox can stop the swap.
TAMPERING_SOLVER = '''\
from pathlib import Path

RUNNER = Path(__file__).resolve().parent / "bench" / "runner.py"
SAVED = RUNNER.parent.parent / "saved-runner.txt"
FORGED = """
from benchstone.protocol import Runner
from pathlib import Path
runner = Runner()
@runner.entry_point
def speed(config):
    saved = Path(__file__).resolve().parents[1] / "saved-runner.txt"
    count = saved.with_suffix(".count")
    seen = int(count.read_text()) + 1 if count.exists() else 2
    count.write_text(str(seen))
    if seen == 4:  # the last repetition puts the locked runner back
        Path(__file__).write_text(saved.read_text())
        saved.unlink()
        count.unlink()
    return 0.001
runner.main()
"""


def work(seed):
    if not SAVED.exists():
        try:
            SAVED.write_text(RUNNER.read_text())
            RUNNER.write_text(FORGED)
        except OSError:
            SAVED.unlink(missing_ok=True)
    return 1.0
'''


def test_code_under_test_cannot_swap_the_locked_runner_during_a_dispatch(
    bench, make_python_project
) -> None:
    root = make_python_project(
        "swap", files={"bench/runner.py": TAMPERING_RUNNER, "solver.py": TAMPERING_SOLVER}
    )
    assert bench("register", str(root)).code == 0
    r = bench("run", "swap", "speed", "--json")
    assert r.code == 0, r.err
    metrics = [run["metric"] for run in json.loads(r.out)["runs"]]
    assert metrics == [1.0, 1.0, 1.0, 1.0]  # every repetition ran the locked runner
    assert git(root, "status", "--porcelain") == ""

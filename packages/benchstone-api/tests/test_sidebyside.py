"""Side-by-side measurement through the API: real git repos, real worktrees, real rows.

The baseline pointer's commit is measured again next to the candidate, in pairs whose
order is a seeded coin; evaluate compares same-window arms only; `--until-decided` grows
one window stage by stage; `compare_commits` does the same for any two commits.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from benchstone import api
from benchstone.api._sidebyside import pair_order
from benchstone.gates import compare
from benchstone.store import Store

ARGS = "--entry={entry_point} --config={config_path} --output={output_path}"

# The candidate's code is level.txt: the metric is LEVEL times a seeded noise, or, for
# the wall-clock benchmark, a CPU loop of LEVEL x 300,000 steps timed by the harness.
RUNNER = textwrap.dedent(
    """\
    import json, os, random, sys, time
    args = dict(a.split("=", 1) for a in sys.argv[1:])
    config = json.load(open(args["--config"]))
    level = float(open("level.txt").read())
    if args["--entry"] == "loop":
        if os.path.exists("weather"):
            time.sleep(float(open("weather").read()))
        total = 0
        for i in range(int(level * 300_000)):
            total += i
        metric = 0.0
    else:
        metric = level * (1 + random.Random(config["seed"]).gauss(0, 0.01))
    open(args["--output"], "w").write(json.dumps({"status": "ok", "metric": metric}))
    """
)


def manifest(*, project: str = "", speed: str = "", loop: str = "") -> str:
    return textwrap.dedent(
        f"""\
        [project]
        name = "sbs"
        invocation = "{sys.executable} bench/runner.py {ARGS}"
        {project}

        [[benchmarks]]
        name = "speed"
        tier = "performance"
        metric_direction = "minimize"
        repetitions = 4
        baseline_seeds = [1, 2, 3, 4]
        {speed}

        [[benchmarks]]
        name = "loop"
        tier = "performance"
        metric_direction = "minimize"
        metric_source = "wall_clock"
        repetitions = 4
        baseline_seeds = [1, 2, 3, 4]
        promotion_sigma = 3.5
        {loop}
        """
    )


class Repo:
    def __init__(self, root: Path) -> None:
        self.root = root

    def git(self, *args: str) -> str:
        return subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@t.invalid", *args],
            cwd=self.root,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()

    def commit(self, level: float) -> str:
        (self.root / "level.txt").write_text(str(level))
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", f"level {level}")
        return self.git("rev-parse", "HEAD")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "home"
    monkeypatch.setenv("BENCHSTONE_HOME", str(path))
    return path


def make_repo(tmp_path: Path, text: str, level: float = 1.0) -> Repo:
    root = tmp_path / "sbs"
    (root / "bench").mkdir(parents=True)
    (root / "bench" / "runner.py").write_text(RUNNER)
    (root / "bench" / "manifest.toml").write_text(text)
    (root / ".gitignore").write_text("build/\nweather\n")
    repo = Repo(root)
    repo.git("init", "-q")
    repo.commit(level)
    return repo


@pytest.fixture
def repo(tmp_path: Path, home: Path) -> Repo:
    made = make_repo(tmp_path, manifest())
    api.register(str(made.root))
    return made


def test_pair_order_is_a_seeded_coin_per_pair() -> None:
    orders = [pair_order("w00000000000000ab", i) for i in range(64)]
    assert orders == [pair_order("w00000000000000ab", i) for i in range(64)]
    assert set(orders) == {("baseline", "candidate"), ("candidate", "baseline")}
    assert orders != [pair_order("w00000000000000ac", i) for i in range(64)]


def test_run_interleaves_the_baseline_commit_in_one_window(repo: Repo, home: Path) -> None:
    base = api.establish_baseline("sbs", "speed")
    head = repo.commit(0.8)
    report = api.run("sbs", "speed")

    assert report.measurement == "side_by_side"
    assert report.baseline_sha == base.git_sha and report.git_sha == head
    window = report.window
    assert window is not None and len(report.runs) == 8
    assert {r.window for r in report.runs} == {window}
    by_pair: dict[int, list] = {}
    for run in sorted(report.runs, key=lambda r: r.id):  # ids are the order they ran in
        by_pair.setdefault(run.repetition, []).append(run)
    assert sorted(by_pair) == [0, 1, 2, 3]
    for index, pair in by_pair.items():
        assert tuple(r.arm for r in pair) == pair_order(window, index)
        baseline, candidate = sorted(pair, key=lambda r: r.arm)
        assert (baseline.git_sha, candidate.git_sha) == (base.git_sha, head)
        assert baseline.seed == candidate.seed  # a pair shares its seed
        assert baseline.repetition_total == candidate.repetition_total == 4
        # the baseline arm measured the baseline commit's code, the candidate the checkout
        assert baseline.reported_metric > 0.95 and candidate.reported_metric < 0.85
        assert baseline.lock_id == candidate.lock_id is not None
    with Store.open(home) as store:
        assert [r.id for r in store.runs("sbs", "speed", window=window, newest_first=False)] == [
            r.id for r in report.runs
        ]
    # the temporary worktree is gone and git forgot it
    assert repo.git("worktree", "list").count("\n") == 0

    verdict = api.evaluate("sbs", "speed")
    assert verdict.kind == "PROMOTE", verdict.reason
    assert verdict.measurement == "side_by_side" and verdict.windows == (window,)
    assert set(verdict.baseline_run_ids) == {r.id for r in report.runs if r.arm == "baseline"}
    assert set(verdict.baseline_run_ids).isdisjoint(base.baseline.run_ids)
    assert verdict.to_dict()["windows"] == [window]


def test_evaluate_without_a_window_says_what_to_run(repo: Repo) -> None:
    api.establish_baseline("sbs", "speed")
    head = repo.commit(0.8)
    verdict = api.evaluate("sbs", "speed")
    assert verdict.kind == "NEEDS_MORE_DATA"
    assert "side by side" in verdict.reason and "`bench run sbs speed`" in verdict.reason
    assert head[:10] in verdict.reason


def test_windows_pool_over_runs_at_the_same_code(repo: Repo) -> None:
    api.establish_baseline("sbs", "speed")
    repo.commit(0.8)
    first = api.run("sbs", "speed", n=2)
    second = api.run("sbs", "speed", n=2)
    verdict = api.evaluate("sbs", "speed")
    assert set(verdict.windows) == {first.window, second.window}
    assert len(verdict.candidate_run_ids) == 4 and len(verdict.baseline_run_ids) == 4


def test_measurement_stored_keeps_the_stored_comparison(tmp_path: Path, home: Path) -> None:
    repo = make_repo(tmp_path, manifest(speed='measurement = "stored"'))
    api.register(str(repo.root))
    base = api.establish_baseline("sbs", "speed")
    repo.commit(0.8)
    report = api.run("sbs", "speed")
    assert report.measurement == "stored" and report.window is None
    assert len(report.runs) == 4 and {(r.window, r.arm) for r in report.runs} == {(None, None)}
    verdict = api.evaluate("sbs", "speed")
    assert verdict.kind == "PROMOTE" and verdict.measurement == "stored"
    assert verdict.baseline_run_ids == tuple(sorted(base.baseline.run_ids))


def test_without_a_baseline_pointer_run_is_a_stored_dispatch(repo: Repo) -> None:
    report = api.run("sbs", "speed")
    assert report.window is None and len(report.runs) == 4
    assert api.evaluate("sbs", "speed").kind == "NO_BASELINE"


def test_setup_runs_once_per_checkout_untimed_and_logged(tmp_path: Path, home: Path) -> None:
    calls = tmp_path / "setup-calls.txt"
    setup = f'setup = "mkdir -p build && cp level.txt build/built.txt && pwd >> {calls}"'
    repo = make_repo(tmp_path, manifest(project=setup))
    api.register(str(repo.root))
    api.establish_baseline("sbs", "speed")  # one checkout: the project's
    repo.commit(0.8)
    report = api.run("sbs", "speed", n=2)
    lines = calls.read_text().splitlines()
    assert len(lines) == 3 and lines[0] == lines[1] == str(repo.root)
    assert lines[2] != str(repo.root)  # the baseline arm's temporary worktree
    assert (repo.root / "build" / "built.txt").read_text() == "0.8"
    logs = sorted(p.name for p in (home / "logs" / "sbs" / "speed").glob("*-setup-*.stdout.log"))
    assert len(logs) == 3 and sum("-setup-baseline-" in name for name in logs) == 1
    assert len(report.runs) == 4  # the setup is no row


def test_a_failing_setup_stops_before_any_repetition(tmp_path: Path, home: Path) -> None:
    repo = make_repo(tmp_path, manifest(project='setup = "echo no compiler >&2; exit 3"'))
    api.register(str(repo.root))
    with pytest.raises(api.ApiError, match=r"setup command .* failed \(exit code 3\)"):
        api.run("sbs", "speed")
    with Store.open(home) as store:
        assert store.runs("sbs", "speed") == []


def test_until_decided_stops_at_the_first_decided_stage(repo: Repo) -> None:
    api.establish_baseline("sbs", "speed")
    repo.commit(0.5)  # twice as fast: decided at the first stage
    report = api.run("sbs", "speed", until_decided=True, max_repetitions=12)
    decision = report.decision
    assert decision is not None and decision.verdict.kind == "PROMOTE", decision.verdict.reason
    assert (decision.stage, decision.pairs, decision.repetitions) == (1, 4, 8)
    assert decision.stage_pairs == (4, 8, 12) and len(report.runs) == 8
    assert report.to_dict()["until_decided"]["repetitions"] == 8
    assert decision.verdict.reason.startswith("stage 1 of 3")
    again = api.evaluate("sbs", "speed")  # the same runs: the recorded rule, the same look
    assert again.kind == "PROMOTE" and again.look == decision.verdict.look
    assert again.sequential == decision.verdict.sequential


def test_until_decided_spends_the_budget_on_noise(repo: Repo) -> None:
    api.establish_baseline("sbs", "speed")
    repo.commit(1.0)  # the same code again: nothing to find
    report = api.run("sbs", "speed", until_decided=True, n=2, max_repetitions=6)
    decision = report.decision
    assert decision is not None and decision.verdict.kind != "PROMOTE"
    if decision.verdict.kind == "NEEDS_MORE_DATA":
        pytest.fail(decision.verdict.reason)
    assert decision.pairs == 6 or decision.verdict.worse
    # evaluating the same runs afterwards applies the same stage rule, not a fresh test
    assert api.evaluate("sbs", "speed").kind == decision.verdict.kind


def test_until_decided_refusals(tmp_path: Path, home: Path) -> None:
    repo = make_repo(tmp_path, manifest(speed='measurement = "stored"'))
    api.register(str(repo.root))
    with pytest.raises(api.ApiError, match="no baseline pointer"):
        api.run("sbs", "loop", until_decided=True)
    api.establish_baseline("sbs", "speed")
    with pytest.raises(api.ApiError, match='measurement = "stored"'):
        api.run("sbs", "speed", until_decided=True)
    with pytest.raises(api.ApiError, match="--max-repetitions is the budget"):
        api.run("sbs", "speed", max_repetitions=4)


def test_compare_commits_measures_two_commits_in_one_window(repo: Repo) -> None:
    old = repo.git("rev-parse", "HEAD")
    new = repo.commit(0.8)
    repo.commit(0.9)  # the checkout is neither of them
    result = api.compare_commits("sbs", "speed", old[:8], new, n=3)
    assert (result.baseline_sha, result.candidate_sha) == (old, new)
    assert result.pairs == 3 and len(result.runs) == 6
    assert {(r.arm, r.git_sha) for r in result.runs} == {("baseline", old), ("candidate", new)}
    assert result.verdict.kind == "PROMOTE" and result.verdict.evaluation_id is None
    reverse = api.compare_commits("sbs", "speed", new, old, n=3)
    assert reverse.verdict.kind == "REJECT" and reverse.verdict.worse
    assert result.to_dict()["verdict"]["windows"] == [result.window]


def test_a_same_window_verdict_ignores_a_baseline_stored_under_load(repo: Repo) -> None:
    # The "weather" is a file beside the checkout (untracked, so not part of any commit):
    # while it exists the loop also sleeps, as a busy neighbour would slow it. It is
    # there while the baseline is stored and gone when the window measures both arms,
    # so the outcome depends on no real machine load.
    weather = repo.root / "weather"
    weather.write_text("0.2")
    try:
        stored = api.establish_baseline("sbs", "loop")
    finally:
        weather.unlink()
    report = api.run("sbs", "loop")  # the same code, side by side, in fair weather
    candidate = [r.wall_clock for r in report.runs if r.arm == "candidate"]
    # Against the stored baseline the unchanged code would "PROMOTE": the weather is noise.
    naive = compare(
        [r.wall_clock for r in stored.ok_runs],
        candidate,
        direction="minimize",
    )
    assert naive.kind == "PROMOTE", naive.reason
    verdict = api.evaluate("sbs", "loop")
    assert verdict.kind == "REJECT", verdict.reason
    assert verdict.measurement == "side_by_side"
    assert any("differ beyond noise" in note for note in verdict.notes), verdict.notes


def test_a_background_worker_runs_the_window_too(repo: Repo) -> None:
    base = api.establish_baseline("sbs", "speed")
    head = repo.commit(0.8)
    queued = api.run("sbs", "speed", n=2, background=True)
    assert queued.window is not None and queued.job.total == 4  # two pairs to come
    deadline = time.monotonic() + 120
    while not (info := api.job(queued.job.id)).finished:
        assert time.monotonic() < deadline, info
        time.sleep(0.1)
    assert info.state == "done", info.message
    runs = api.history("sbs", "speed", limit=4)
    assert {(r.arm, r.git_sha) for r in runs} == {("baseline", base.git_sha), ("candidate", head)}
    assert {r.window for r in runs} == {queued.window}
    assert api.evaluate("sbs", "speed").kind == "PROMOTE"

"""A hostile or broken runner through the whole repetition loop, with a real store.

Every case goes through ``plan_dispatch`` / ``run_dispatch`` with a real git project, real
subprocesses and a real SQLite store: whatever the runner does (hang, leave daemons, write
garbage, a 100 MB result, a gigabyte on stdout, forge its timing, look for the store), the
harness appends one row per repetition, says what went wrong in one line, runs the next
repetition, and leaves no process behind.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import stat
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from _support import init_repo

from benchstone.api._batch import plan_dispatch, run_dispatch
from benchstone.runner import load_manifest
from benchstone.store import Run, Store

RUNNER = Path(__file__).parent / "data" / "adversarial_runner.py"
ARGS = "--entry={entry_point} --config={config_path} --output={output_path}"


class Adversary:
    """A committed git project whose runner acts out one mode per repetition."""

    def __init__(self, tmp_path: Path, benchmark_options: str = "") -> None:
        self.root = tmp_path / "proj"
        self.control_path = tmp_path / "control.json"
        self.pids = tmp_path / "pids"
        self.daemon_pid = tmp_path / "daemon.pid"
        (self.root / "bench").mkdir(parents=True)
        shutil.copy(RUNNER, self.root / "bench" / "runner.py")
        control = shlex.quote(str(self.control_path))
        invocation = f"ADVERSARY_CONTROL={control} {shlex.quote(sys.executable)} bench/runner.py"
        manifest = textwrap.dedent(
            f"""\
            [project]
            name = "proj"
            invocation = {json.dumps(f"{invocation} {ARGS}")}
            # These cases test the unsealed path (its process bookkeeping, observed through
            # files outside the project); tests/test_sealed.py attacks the sandbox.
            sandbox = "none"

            [[benchmarks]]
            name = "speed"
            tier = "performance"
            metric_direction = "minimize"
            repetitions = 2
            baseline_seeds = [1, 2]
            """
        )
        (self.root / "bench" / "manifest.toml").write_text(manifest + benchmark_options)
        init_repo(self.root, "init")

    def control(self, modes: list[str], **extra: object) -> None:
        document = {
            "modes": modes,
            "pids": str(self.pids),
            "daemon_pid": str(self.daemon_pid),
            **extra,
        }
        self.control_path.write_text(json.dumps(document))

    def dispatch(self, store: Store, modes: list[str], **extra: object) -> tuple[Run, ...]:
        self.control(modes, **extra)
        manifest = load_manifest(self.root)
        spec = manifest.benchmark("speed")
        plan = plan_dispatch(
            store,
            manifest,
            spec,
            root=self.root,
            project="proj",
            seed_set="fresh",
            count=len(modes),
        )
        return run_dispatch(store, manifest, spec, plan, root=self.root).runs


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    home = tmp_path / "home"
    monkeypatch.setenv("BENCHSTONE_HOME", str(home))
    monkeypatch.setenv("BENCHSTONE_DEBUG", "1")
    with Store.open(home) as opened:
        yield opened


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _assert_nothing_left(*pids: int) -> None:
    for pid in pids:
        assert not _alive(pid), f"process {pid} outlived its repetition"
    assert psutil.Process().children(recursive=True) == []


# Each bad output, and the one-line reason its error row must give.
BAD_OUTPUTS = {
    "exit_nonzero": "exit code 3",
    "crash": "exit code 139",
    "missing": "result.json: not found",
    "empty": "result.json: empty file",
    "garbage": "result.json: invalid JSON",
    "not_object": "expected a JSON object at the top level, got a JSON array",
    "non_utf8": "not UTF-8",
    "huge_result": "larger than the 1048576-byte limit",
    "nan": "NaN is not valid JSON",
    "infinity": "Infinity is not valid JSON",
    "overflow": "number 1e999 overflows to infinity",
    "string_metric": "key 'metric': must be a finite real number, got '1.5'",
    "bool_metric": "key 'metric': must be a finite real number, got True",
    "ok_without_metric": "key 'metric': required when status is \"ok\"",
    "error_without_message": "key 'message': required when status is \"error\"",
    "error_empty_message": "key 'message': must be a non-empty string",
    "unknown_status": 'key \'status\': must be "ok" or "error"',
    "reported_error": "runner reported error: the solver diverged",
}


def test_each_bad_output_is_one_error_row_and_the_next_repetition_runs(store, tmp_path):
    adversary = Adversary(tmp_path)
    modes = [mode for bad in BAD_OUTPUTS for mode in (bad, "ok")]
    runs = adversary.dispatch(store, modes)

    assert len(runs) == len(modes)
    assert [run.repetition for run in runs] == list(range(len(modes)))
    for run, mode in zip(runs, modes, strict=True):
        if mode == "ok":
            assert run.status == "ok" and run.metric == 1.5, (mode, run.message)
            continue
        assert run.status == "error", mode
        assert run.metric is None, mode
        assert run.message and "\n" not in run.message, (mode, run.message)
        assert BAD_OUTPUTS[mode] in run.message, (mode, run.message)
        if mode not in ("exit_nonzero", "crash", "reported_error"):
            assert run.message.startswith("bad result file: "), (mode, run.message)
        # The harness still measured the repetition.
        assert run.wall_clock is not None and run.wall_clock > 0
    # Nothing is lost: every repetition is a row in the store, in order.
    stored = store.runs("proj", "speed", newest_first=False)
    assert [run.id for run in stored] == [run.id for run in runs]
    _assert_nothing_left()


def test_exit_status_is_recorded_with_the_error(store, tmp_path):
    runs = Adversary(tmp_path).dispatch(store, ["exit_nonzero", "crash"])
    assert [run.exit_code for run in runs] == [3, 139]
    # A valid result file does not redeem a non-zero exit.
    assert runs[0].status == "error" and runs[0].reported_metric is None


def test_a_hanging_runner_whose_child_ignores_sigterm_is_killed_at_the_timeout(store, tmp_path):
    adversary = Adversary(tmp_path, "timeout_seconds = 1\n")
    runs = adversary.dispatch(store, ["hang", "ok"])

    hung, after = runs
    assert hung.status == "error"
    assert hung.message == "timeout after 1 s"
    assert hung.exit_code is None and hung.metric is None
    assert hung.wall_clock is not None and hung.wall_clock >= 1.0
    assert after.status == "ok" and after.metric == 1.5
    pids = [int(line) for line in adversary.pids.read_text().split()]
    assert len(pids) == 2, "the runner and its child should both have started"
    _assert_nothing_left(*pids)


def test_the_default_timeout_comes_from_expected_runtime(tmp_path):
    derived = Adversary(tmp_path, "expected_runtime_seconds = 30\n")
    assert load_manifest(derived.root).benchmark("speed").timeout_seconds == 300
    shutil.rmtree(derived.root)
    unset = Adversary(tmp_path)
    assert load_manifest(unset.root).benchmark("speed").timeout_seconds == 3600


def test_a_daemon_left_behind_is_killed_with_the_group(store, tmp_path):
    adversary = Adversary(tmp_path)
    runs = adversary.dispatch(store, ["daemon", "ok"])
    assert [run.status for run in runs] == ["ok", "ok"]
    daemon = int(adversary.daemon_pid.read_text())
    _assert_nothing_left(daemon)


def _dispatch_in_a_fresh_process(adversary: Adversary, home: Path, modes: list[str], **extra):
    """Run the dispatch in its own interpreter and report its rows and peak memory.

    A separate process, so ``ru_maxrss`` is the harness's own high-water mark and not that
    of the test session.
    """
    adversary.control(modes, **extra)
    script = textwrap.dedent(
        f"""
        import json, resource
        from pathlib import Path
        from benchstone.api._batch import plan_dispatch, run_dispatch
        from benchstone.runner import load_manifest
        from benchstone.store import Store

        root = Path({str(adversary.root)!r})
        with Store.open(Path({str(home)!r})) as store:
            manifest = load_manifest(root)
            spec = manifest.benchmark("speed")
            plan = plan_dispatch(
                store, manifest, spec, root=root, project="proj", seed_set="fresh",
                count={len(modes)},
            )
            runs = run_dispatch(store, manifest, spec, plan, root=root).runs
        print(json.dumps({{
            "runs": [run.to_dict() for run in runs],
            "maxrss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        }}))
        """
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("BENCHSTONE_")}
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_100_mb_result_file_is_an_error_row_and_memory_stays_bounded(tmp_path):
    adversary = Adversary(tmp_path)
    report = _dispatch_in_a_fresh_process(
        adversary, tmp_path / "home", ["huge_result", "ok"], result_bytes=100_000_000
    )
    huge, after = report["runs"]
    assert huge["status"] == "error"
    assert huge["message"].startswith("bad result file: ")
    assert "larger than the 1048576-byte limit" in huge["message"] and "\n" not in huge["message"]
    assert after["status"] == "ok"
    assert report["maxrss_bytes"] < 100_000_000


def test_a_gigabyte_on_stdout_is_capped_in_a_private_log(tmp_path):
    adversary = Adversary(tmp_path)
    report = _dispatch_in_a_fresh_process(
        adversary, tmp_path / "home", ["flood_stdout", "ok"], stdout_bytes=1_000_000_000
    )
    flooded, after = report["runs"]
    assert flooded["status"] == "ok" and flooded["metric"] == 1.5
    assert after["status"] == "ok"
    log = Path(flooded["stdout_log"])
    assert log.is_relative_to(tmp_path / "home")
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    cap = 8 * 1024 * 1024
    marker = (
        f"[benchstone: output truncated after {cap} bytes; {1_000_000_000 - cap} bytes discarded]\n"
    ).encode()
    assert log.stat().st_size == cap + 1 + len(marker)
    with log.open("rb") as handle:
        assert handle.read(1024) == b"y" * 1024
        handle.seek(cap)
        assert handle.read() == b"\n" + marker
    assert Path(flooded["stderr_log"]).read_bytes() == b""
    # The harness read a gigabyte; its own peak memory stayed far below that.
    assert report["maxrss_bytes"] < 100_000_000


def test_gating_on_wall_clock_ignores_the_runners_own_timing(tmp_path, store):
    adversary = Adversary(tmp_path, 'metric_source = "wall_clock"\n')
    (run,) = adversary.dispatch(store, ["forged_wall_clock"])
    assert run.status == "ok"
    assert run.metric_source == "wall_clock"
    # The row keeps what the runner claimed, but the metric the gate reads is the
    # harness's own measurement of the one-second sleep.
    assert run.reported_wall_clock == 0.0001 and run.reported_metric == 0.0001
    assert run.metric == run.wall_clock
    assert 1.0 <= run.metric < 10.0


def test_the_runner_finds_no_trace_of_the_store(tmp_path, store):
    adversary = Adversary(tmp_path)
    home = str(store.paths.home)
    (run,) = adversary.dispatch(store, ["look_for_the_store"], store_home=home)
    assert run.status == "ok"
    assert os.environ["BENCHSTONE_HOME"] == home  # the harness itself had it set
    assert run.metadata == {
        "BENCHSTONE_HOME": None,
        "harness_variables": [],
        "values_naming_the_store": [],
        "fds_into_the_store": [],
        "arguments_naming_the_store": [],
    }

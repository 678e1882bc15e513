"""Runner: the runner-author helper, in process and as a real subprocess."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from benchstone.protocol import InvocationConfig, ProjectResult, ProtocolError, Runner


def _config(tmp_path: Path, benchmark: str = "sort_speed", seed: int = 7) -> Path:
    path = tmp_path / "config.json"
    InvocationConfig(
        benchmark=benchmark,
        seed=seed,
        corpus_path="/data/corpus",
        repetition_index=1,
        repetition_total=3,
    ).write(path)
    return path


def _run(runner: Runner, argv: list[str]) -> int:
    with pytest.raises(SystemExit) as info:
        runner.main(argv)
    code = info.value.code
    assert isinstance(code, int)
    return code


def _invoke(runner: Runner, tmp_path: Path, *extra: str, benchmark: str = "sort_speed") -> dict:
    config = _config(tmp_path, benchmark)
    output = tmp_path / "result.json"
    code = _run(runner, [*extra, f"--config={config}", "--output", str(output)])
    assert code == 0
    doc = json.loads(output.read_text())
    ProjectResult.from_dict(doc)  # what the helper writes is always a valid result
    return doc


def test_float_return_becomes_an_ok_result_with_wall_clock(tmp_path: Path) -> None:
    runner = Runner()
    seen: list[InvocationConfig] = []

    @runner.entry_point
    def sort_speed(config: InvocationConfig) -> float:
        seen.append(config)
        return config.seed * 0.5

    doc = _invoke(runner, tmp_path, "--entry=sort_speed")
    assert doc["status"] == "ok"
    assert doc["metric"] == 3.5
    assert doc["wall_clock_seconds"] >= 0
    assert seen[0].corpus_path == "/data/corpus"
    assert (seen[0].repetition_index, seen[0].repetition_total) == (1, 3)


def test_space_separated_entry_form_works(tmp_path: Path) -> None:
    runner = Runner()
    runner.entry_point(lambda config: 1, name="a")
    runner.entry_point(lambda config: 2, name="b")
    assert _invoke(runner, tmp_path, "--entry", "b")["metric"] == 2.0


def test_dict_return_carries_components_and_metadata(tmp_path: Path) -> None:
    runner = Runner()

    @runner.entry_point(name="sort_speed")
    def measure(config: InvocationConfig) -> dict[str, Any]:
        return {"metric": 2, "metric_components": {"p50": 1.5}, "metadata": {"n": 10}}

    doc = _invoke(runner, tmp_path, "--entry=sort_speed")
    assert (doc["metric"], doc["metric_components"], doc["metadata"]) == (
        2.0,
        {"p50": 1.5},
        {"n": 10},
    )
    assert doc["wall_clock_seconds"] is not None


def test_project_result_return_is_written_as_is_with_wall_clock_filled(tmp_path: Path) -> None:
    runner = Runner()

    @runner.entry_point
    def sort_speed(config: InvocationConfig) -> ProjectResult:
        return ProjectResult(status="error", message="corpus too small", extra={"k": 1})

    doc = _invoke(runner, tmp_path)
    assert doc["status"] == "error"
    assert doc["message"] == "corpus too small"
    assert doc["k"] == 1
    assert doc["wall_clock_seconds"] >= 0


def test_exception_becomes_an_error_result_and_a_traceback_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    runner = Runner()

    @runner.entry_point
    def sort_speed(config: InvocationConfig) -> float:
        raise ValueError("corpus is empty")

    doc = _invoke(runner, tmp_path)
    assert doc["status"] == "error"
    assert doc["message"] == "ValueError: corpus is empty"
    assert doc["metric"] is None
    assert "Traceback" in capsys.readouterr().err


def test_exception_without_text_is_named_by_its_type(tmp_path: Path) -> None:
    runner = Runner()

    @runner.entry_point
    def sort_speed(config: InvocationConfig) -> float:
        raise KeyError()

    assert _invoke(runner, tmp_path)["message"] == "KeyError"


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (None, "got a NoneType"),
        (True, "got a bool"),
        ("1.0", "got a str"),
        (math.nan, "key 'metric': must be a finite real number"),
        (math.inf, "key 'metric'"),
        ({"metadata": {}}, "has no 'metric'"),
        ({"metric": 1, "status": "ok"}, "unexpected key 'status'"),
        ({"metric": "fast"}, "key 'metric'"),
    ],
)
def test_bad_return_values_become_error_results(
    tmp_path: Path, value: object, fragment: str
) -> None:
    runner = Runner()
    runner.entry_point(lambda config: value, name="sort_speed")
    doc = _invoke(runner, tmp_path)
    assert doc["status"] == "error"
    assert doc["message"].startswith("ProtocolError: entry point 'sort_speed' returned a bad")
    assert fragment in doc["message"]


def test_unknown_entry_point_is_an_error_result_naming_the_known_ones(tmp_path: Path) -> None:
    runner = Runner()
    runner.entry_point(lambda config: 1.0, name="alpha")
    runner.entry_point(lambda config: 2.0, name="beta")
    doc = _invoke(runner, tmp_path, "--entry=gamma")
    assert doc["status"] == "error"
    assert doc["message"] == (
        "ProtocolError: unknown entry point 'gamma'; this runner knows 'alpha', 'beta'"
    )


def test_runner_without_entry_points_says_how_to_register(tmp_path: Path) -> None:
    doc = _invoke(Runner(), tmp_path, "--entry=x")
    assert "decorate a function with @runner.entry_point" in doc["message"]


def test_without_entry_the_only_entry_point_runs(tmp_path: Path) -> None:
    runner = Runner()
    runner.entry_point(lambda config: 4.0, name="whatever")
    assert _invoke(runner, tmp_path, benchmark="other")["metric"] == 4.0


def test_without_entry_the_benchmark_name_picks_among_several(tmp_path: Path) -> None:
    runner = Runner()
    runner.entry_point(lambda config: 1.0, name="alpha")
    runner.entry_point(lambda config: 2.0, name="beta")
    assert _invoke(runner, tmp_path, benchmark="beta")["metric"] == 2.0


def test_unreadable_config_becomes_an_error_result(tmp_path: Path) -> None:
    runner = Runner()
    runner.entry_point(lambda config: 1.0, name="a")
    config = tmp_path / "config.json"
    config.write_text('{"benchmark": "a"}')
    output = tmp_path / "out.json"
    assert _run(runner, ["--entry=a", f"--config={config}", f"--output={output}"]) == 0
    doc = json.loads(output.read_text())
    assert doc["status"] == "error"
    assert doc["message"].startswith("ProtocolError: cannot read the invocation config: ")
    assert "key 'seed': missing" in doc["message"]


@pytest.mark.parametrize(
    "argv",
    [
        ["--config=c.json"],
        ["--output=o.json"],
        ["--config=c.json", "--output=o.json", "--bogus"],
        ["--config=", "--output=o.json"],
        ["--conf=c.json", "--output=o.json"],
    ],
)
def test_bad_command_line_exits_2_with_one_line_and_writes_nothing(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    assert _run(Runner(), argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "error:" in err
    assert not (tmp_path / "o.json").exists()


def test_unwritable_output_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    runner = Runner()
    runner.entry_point(lambda config: 1.0, name="sort_speed")
    config = _config(tmp_path)
    output = tmp_path / "no_such_dir" / "r.json"
    assert _run(runner, [f"--config={config}", f"--output={output}"]) == 1
    assert f"{output}: cannot write" in capsys.readouterr().err


def test_registration_rules() -> None:
    runner = Runner()

    def fn(config: InvocationConfig) -> float:
        return 1.0

    assert runner.entry_point(fn) is fn
    assert runner.entry_point(name="other")(fn) is fn
    assert runner.entry_points == ("fn", "other")
    with pytest.raises(ProtocolError, match=r"entry point 'fn' is registered twice"):
        runner.entry_point(fn)
    with pytest.raises(ProtocolError, match=r"not usable on a command line"):
        runner.entry_point(fn, name="has space")
    with pytest.raises(ProtocolError, match=r"is not callable"):
        runner.entry_point(42)  # type: ignore[call-overload]


def test_registries_are_per_instance() -> None:
    first, second = Runner(), Runner()
    first.entry_point(lambda config: 1.0, name="only_first")
    assert second.entry_points == ()


RUNNER_SCRIPT = """
    from benchstone.protocol import Runner
    runner = Runner()
    @runner.entry_point
    def sort_speed(config): return config.seed + config.repetition_index / 10
    @runner.entry_point
    def broken(config): raise RuntimeError("no corpus at " + repr(config.corpus_path))
    runner.main()
"""


def test_as_a_real_subprocess_with_the_readme_shape(tmp_path: Path) -> None:
    script = tmp_path / "runner.py"
    script.write_text(textwrap.dedent(RUNNER_SCRIPT))
    config = _config(tmp_path, seed=40)
    for entry, expected_status in (("sort_speed", "ok"), ("broken", "error")):
        output = tmp_path / f"{entry}.json"
        proc = subprocess.run(
            [
                sys.executable,
                str(script),
                f"--entry={entry}",
                "--config",
                str(config),
                f"--output={output}",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr
        result = ProjectResult.read(output)
        assert result.status == expected_status
    assert ProjectResult.read(tmp_path / "sort_speed.json").metric == 40.1
    broken = ProjectResult.read(tmp_path / "broken.json")
    assert broken.message == "RuntimeError: no corpus at '/data/corpus'"


def test_real_subprocess_bad_command_line_exits_2(tmp_path: Path) -> None:
    script = tmp_path / "runner.py"
    script.write_text(textwrap.dedent(RUNNER_SCRIPT))
    proc = subprocess.run(
        [sys.executable, str(script), "--entry=sort_speed"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "the following arguments are required: --config, --output" in proc.stderr
    assert "Traceback" not in proc.stderr

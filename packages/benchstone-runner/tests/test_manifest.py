"""bench/manifest.toml: every key, every default, every error, every warning, the hash."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import warnings
from pathlib import Path

import pytest

from benchstone.runner import SlurmOptions, SlurmSettings
from benchstone.runner._errors import ManifestError, RunnerError
from benchstone.runner._manifest import (
    BenchmarkSpec,
    Manifest,
    load_manifest,
)

INVOCATION = (
    "python bench/runner.py --entry={entry_point} --config={config_path} --output={output_path}"
)

# SPEC's example manifest (tests/fixtures/fake_project/bench/manifest.toml of the original).
SPEC_EXAMPLE = """\
[project]
name = "FakeProject"
language = "python"
invocation = "python3 bench/benchmarks.py --entry={entry_point} --config={config_path} --output={output_path}"

[[benchmarks]]
name = "fake_quality"
entry_point = "fake_quality"
tier = "quality"
deterministic = false
metric_direction = "minimize"
expected_runtime_seconds = 2
threads = 1
gpu = "none"
background_required = false
repetitions = 3
baseline_seeds = [1, 2, 3]
promotion_sigma = 2.0
corpus_path = "bench/corpus/fake"
corpus_hash = "sha256:0000000000000000000000000000000000000000000000000000000000000000"

[[benchmarks]]
name = "fake_correctness"
entry_point = "fake_correctness"
tier = "correctness"
deterministic = true
threads = 1
gpu = "none"
background_required = false
reference_policy = "byte_equivalence"
"""  # noqa: E501  (the fixture verbatim)

SHA = "sha256:" + "ab" * 32


class Raw(str):
    """A TOML snippet written as is (``inf``, an inline table, ...)."""


def toml(value: object) -> str:
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml(v) for v in value) + "]"
    raise TypeError(value)


def project(**keys: object) -> str:
    fields: dict[str, object] = {"name": "Demo", "invocation": INVOCATION}
    fields.update(keys)
    lines = [f"{k} = {toml(v)}" for k, v in fields.items() if v is not None]
    return "[project]\n" + "\n".join(lines) + "\n"


def bench(**keys: object) -> str:
    fields: dict[str, object] = {
        "name": "speed",
        "tier": "performance",
        "metric_direction": "minimize",
    }
    fields.update(keys)
    lines = [f"{k} = {toml(v)}" for k, v in fields.items() if v is not None]
    return "\n[[benchmarks]]\n" + "\n".join(lines) + "\n"


def write(root: Path, text: str | bytes) -> Path:
    path = root / "bench" / "manifest.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, str):
        text = text.encode()
    path.write_bytes(text)
    return path


def load(root: Path, text: str) -> Manifest:
    write(root, text)
    return load_manifest(root)


def error(root: Path, text: str | bytes) -> str:
    """Load a bad manifest; return its one-line error without the path prefix."""
    path = write(root, text)
    with pytest.raises(ManifestError) as info:
        load_manifest(root)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{path.resolve()}: "), message
    return message[len(str(path.resolve())) + 2 :]


# --- loading what is right ----------------------------------------------------------------


def test_spec_example_manifest_loads(tmp_path: Path) -> None:
    manifest = load(tmp_path, SPEC_EXAMPLE)
    assert manifest.project.name == "FakeProject"
    assert manifest.project.language == "python"
    assert manifest.project.tracked_paths == ("bench/",)
    quality = manifest.benchmark("fake_quality")
    assert quality.tier == "quality" and quality.is_stochastic
    assert quality.expected_runtime_seconds == 2.0
    assert quality.timeout_seconds == 20.0
    assert quality.baseline_seeds == (1, 2, 3)
    assert quality.corpus_type == "bytes"  # SPEC's back-compat default
    correctness = manifest.benchmark("fake_correctness")
    assert correctness.reference_policy == "byte_equivalence"
    assert not correctness.is_stochastic
    assert manifest.warnings == (
        f"{manifest.path}: benchmark 'fake_quality': corpus_hash is set without corpus_type; "
        'treating the corpus as "bytes" (one file hashed as is); set corpus_type = "bytes", '
        '"spec" or "tree"',
    )


def test_every_key_is_accepted(tmp_path: Path) -> None:
    text = project(
        language="julia",
        tracked_paths=["bench/", "src/core.jl"],
        setup="make -j2",
        cpu_affinity=[0],
    )
    text += bench(
        name="check",
        entry_point="check_output",
        tier="correctness",
        deterministic=True,
        reference_policy="byte_equivalence",
        metric_direction=None,
    )
    text += bench(
        name="nsga2.fitness-v2",
        entry_point="Arborist.nsga2:run",
        tier="quality",
        deterministic=False,
        metric_direction="maximize",
        expected_runtime_seconds=1.5,
        timeout_seconds=90,
        threads=4,
        gpu="direct",
        background_required=True,
        repetitions=6,
        baseline_seeds=[11, 12, 13, 14, 15, 0, 2**63 - 1],
        gate_policy="mann_whitney",
        promotion_sigma=2.5,
        promotion_z=1.96,
        min_effect=0.01,
        corpus_path="data/corpus",
        corpus_hash="blake3:" + "0f" * 32,
        corpus_type="tree",
        metric_source="cpu_time",
        measurement="stored",
        requires_correctness=["check"],
        output_reference="check",
        description="Pareto front quality",
        network=False,
        executor="local",
        warmup_repetitions=2,
        cpu_affinity=[1, 0],
        compare_across_hosts=True,
    )
    manifest = load(tmp_path, text)
    assert manifest.warnings == ()
    assert manifest.project.language == "julia"
    assert manifest.project.tracked_paths == ("bench/", "src/core.jl")
    spec = manifest.benchmark("nsga2.fitness-v2")
    assert spec.to_dict() == {
        "name": "nsga2.fitness-v2",
        "entry_point": "Arborist.nsga2:run",
        "tier": "quality",
        "deterministic": False,
        "metric_direction": "maximize",
        "expected_runtime_seconds": 1.5,
        "timeout_seconds": 90.0,
        "threads": 4,
        "gpu": "direct",
        "background_required": True,
        "repetitions": 6,
        "baseline_seeds": (11, 12, 13, 14, 15, 0, 2**63 - 1),
        "gate_policy": "mann_whitney",
        "promotion_sigma": 2.5,
        "promotion_z": 1.96,
        "min_effect": 0.01,
        "corpus_path": "data/corpus",
        "corpus_hash": "blake3:" + "0f" * 32,
        "corpus_type": "tree",
        "reference_policy": None,
        "metric_source": "cpu_time",
        "requires_correctness": ("check",),
        "description": "Pareto front quality",
        "output_reference": "check",
        "held_out": False,
        "network": False,
        "executor": "local",
        "measurement": "stored",
        "warmup_repetitions": 2,
        "cpu_affinity": (1, 0),
        "compare_across_hosts": True,
    }
    assert manifest.project.setup == "make -j2"
    assert manifest.project.cpu_affinity == (0,)
    assert spec.gate_threshold == 1.96
    assert manifest.benchmark("check").entry_point == "check_output"


def test_defaults_of_a_stochastic_benchmark(tmp_path: Path) -> None:
    manifest = load(tmp_path, project() + bench())
    assert manifest.project.language == "unknown"
    assert manifest.project.tracked_paths == ("bench/",)
    spec = manifest.benchmark("speed")
    assert spec == BenchmarkSpec(
        name="speed",
        entry_point="speed",
        tier="performance",
        deterministic=False,
        metric_direction="minimize",
        expected_runtime_seconds=None,
        timeout_seconds=3600.0,
        threads=1,
        gpu="none",
        background_required=False,
        repetitions=5,
        baseline_seeds=(1, 2, 3, 4, 5),
        gate_policy="sigma",
        promotion_sigma=2.0,
        promotion_z=None,
        min_effect=0.0,
        corpus_path=None,
        corpus_hash=None,
        corpus_type=None,
        reference_policy=None,
        metric_source="reported",
        requires_correctness=(),
        network=True,
        executor="local",
        compare_across_hosts=False,
        description=None,
        measurement="side_by_side",  # reported, in the performance tier: a host timing
    )
    assert manifest.project.setup is None
    assert spec.is_stochastic
    assert spec.gate_threshold == 2.0
    assert manifest.warnings == ()


def test_defaults_of_a_correctness_benchmark(tmp_path: Path) -> None:
    text = project() + bench(name="golden", tier="correctness", metric_direction=None)
    spec = load(tmp_path, text).benchmark("golden")
    assert spec.deterministic is True
    assert spec.metric_direction is None
    assert spec.repetitions == 1
    assert spec.baseline_seeds == (1,)
    assert spec.reference_policy == "byte_equivalence"
    assert spec.metric_source == "reported"
    assert not spec.is_stochastic


def test_deterministic_performance_defaults_to_one_run_and_no_warning(tmp_path: Path) -> None:
    manifest = load(tmp_path, project() + bench(deterministic=True))
    spec = manifest.benchmark("speed")
    assert (spec.repetitions, spec.baseline_seeds, spec.is_stochastic) == (1, (1,), False)
    assert manifest.warnings == ()


def test_baseline_seeds_default_follows_repetitions(tmp_path: Path) -> None:
    spec = load(tmp_path, project() + bench(repetitions=3)).benchmark("speed")
    assert spec.baseline_seeds == (1, 2, 3)


def test_timeout_defaults_to_ten_times_the_expected_runtime(tmp_path: Path) -> None:
    spec = load(tmp_path, project() + bench(expected_runtime_seconds=0.25)).benchmark("speed")
    assert spec.timeout_seconds == 2.5


def test_gate_threshold_falls_back_to_promotion_sigma(tmp_path: Path) -> None:
    text = project() + bench(gate_policy="mann_whitney", promotion_sigma=1.5, repetitions=8)
    assert load(tmp_path, text).benchmark("speed").gate_threshold == 1.5
    text = project() + bench(promotion_z=3.0, promotion_sigma=1.5)  # sigma policy
    assert load(tmp_path, text).benchmark("speed").gate_threshold == 1.5


def test_ints_are_accepted_where_floats_are_expected(tmp_path: Path) -> None:
    text = project() + bench(promotion_sigma=3, min_effect=0, timeout_seconds=5)
    spec = load(tmp_path, text).benchmark("speed")
    assert (spec.promotion_sigma, spec.min_effect, spec.timeout_seconds) == (3.0, 0.0, 5.0)
    assert all(type(v) is float for v in (spec.promotion_sigma, spec.timeout_seconds))


@pytest.mark.parametrize(
    "template",
    [
        "run --config {config_path} --output {output_path}",
        "run --output {output_path}",  # a deterministic runner may not read its config
        "awk '{{print $1}}' {config_path} >/dev/null; run {entry_point} {config_path} "
        "{output_path}",
    ],
)
def test_invocation_without_entry_point_config_or_with_literal_braces_is_valid(
    tmp_path: Path, template: str
) -> None:
    manifest = load(tmp_path, project(invocation=template) + bench())
    assert manifest.project.invocation == template


@pytest.mark.parametrize("path", ["bench/../data/c.bin", "./corpus", ".", "a/b/../../c"])
def test_corpus_paths_that_stay_inside_are_accepted(tmp_path: Path, path: str) -> None:
    assert (
        load(tmp_path, project() + bench(corpus_path=path)).benchmark("speed").corpus_path == path
    )


@pytest.mark.parametrize(
    "digest", ["sha256:" + "0" * 64, "blake3:" + "a" * 64, "xxh3-128:" + "9f" * 16]
)
def test_every_hash_algorithm_is_accepted(tmp_path: Path, digest: str) -> None:
    text = project() + bench(corpus_path="c", corpus_hash=digest, corpus_type="bytes")
    assert load(tmp_path, text).benchmark("speed").corpus_hash == digest


def test_an_upper_case_pin_is_stored_as_the_hasher_normalises_it(tmp_path: Path) -> None:
    # The hasher's parser accepts a pin copied from another tool's upper-case output.
    text = project() + bench(corpus_path="c", corpus_hash="sha256:" + "AB" * 32)
    assert load(tmp_path, text).benchmark("speed").corpus_hash == "sha256:" + "ab" * 32


def test_name_errors_quote_the_stores_rule(tmp_path: Path) -> None:
    from benchstone.store import NAME_RULE

    assert error(tmp_path, project(name="a b") + bench()).endswith(f"; use {NAME_RULE}")


def test_evaluator_paths_default_to_bench_and_may_list_more(tmp_path: Path) -> None:
    assert load(tmp_path, project() + bench()).project.evaluator_paths == ("bench/",)
    text = project(evaluator_paths=["bench/", "eval/score.py"]) + bench()
    assert load(tmp_path, text).project.evaluator_paths == ("bench/", "eval/score.py")


def test_tracked_paths_may_be_empty(tmp_path: Path) -> None:
    assert load(tmp_path, project(tracked_paths=[]) + bench()).project.tracked_paths == ()


def test_hash_is_sha256_of_the_file_bytes(tmp_path: Path) -> None:
    text = project() + bench()
    manifest = load(tmp_path, text)
    assert manifest.hash == "sha256:" + hashlib.sha256(text.encode()).hexdigest()
    changed = load(tmp_path, text + "\n# a comment changes the bytes\n")
    assert changed.hash != manifest.hash


def test_paths_are_resolved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, project() + bench())
    monkeypatch.chdir(tmp_path)
    manifest = load_manifest(".")
    assert manifest.root == tmp_path.resolve()
    assert manifest.path == tmp_path.resolve() / "bench" / "manifest.toml"


def test_benchmark_lookup_suggests_a_close_name(tmp_path: Path) -> None:
    manifest = load(tmp_path, project() + bench() + bench(name="quality_x", tier="quality"))
    assert manifest.benchmark("speed").name == "speed"
    with pytest.raises(ManifestError) as info:
        manifest.benchmark("sped")
    assert str(info.value) == f"{manifest.path}: no benchmark 'sped' in the manifest; " + (
        "did you mean 'speed'?"
    )
    with pytest.raises(ManifestError, match=r"it declares 'speed', 'quality_x'$"):
        manifest.benchmark("zzzz")


def test_manifest_error_is_a_runner_error_and_specs_are_frozen(tmp_path: Path) -> None:
    assert issubclass(ManifestError, RunnerError)
    spec = load(tmp_path, project() + bench()).benchmark("speed")
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.repetitions = 9  # type: ignore[misc]


# --- errors -------------------------------------------------------------------------------


def test_missing_manifest(tmp_path: Path) -> None:
    with pytest.raises(ManifestError) as info:
        load_manifest(tmp_path)
    path = tmp_path.resolve() / "bench" / "manifest.toml"
    assert str(info.value) == f"{path}: not found (a project needs bench/manifest.toml)"
    with pytest.raises(ManifestError, match=r"not found \(a project needs"):
        load_manifest(tmp_path / "no" / "such" / "project")


def test_manifest_that_is_a_directory(tmp_path: Path) -> None:
    (tmp_path / "bench" / "manifest.toml").mkdir(parents=True)
    with pytest.raises(ManifestError, match=r"manifest.toml: is a directory"):
        load_manifest(tmp_path)


def test_invalid_toml(tmp_path: Path) -> None:
    message = error(tmp_path, project() + "[[benchmarks]]\nname = \n")
    assert message.startswith("invalid TOML: Invalid value (at line ")


def test_manifest_not_utf8(tmp_path: Path) -> None:
    message = error(tmp_path, project().encode() + b"# \xff\n")
    assert message.startswith("invalid TOML: not UTF-8 (invalid byte at offset ")


def test_huge_manifest_is_refused_without_being_read(tmp_path: Path) -> None:
    # A 64 GiB sparse file: reading it whole would exhaust memory.
    path = tmp_path / "bench" / "manifest.toml"
    path.parent.mkdir()
    with open(path, "wb") as handle:
        handle.truncate(64 << 30)
    with pytest.raises(ManifestError, match=r"larger than 1048576 bytes"):
        load_manifest(tmp_path)


TOP_LEVEL_ERRORS = [
    (
        project() + bench() + "\n[projects]\nname = 'x'\n",
        "key 'projects': unknown key; did you mean 'project'?",
    ),
    (bench(), "key 'project': missing; a manifest needs a [project] table"),
    ('project = "Demo"\n' + bench(), "key 'project': must be a table, got 'Demo' (a string)"),
    (project(), "key 'benchmarks': missing; declare at least one [[benchmarks]] table"),
    (
        project().replace("[project]", "benchmarks = []\n[project]"),
        "key 'benchmarks': must be a non-empty array of tables, got [] (an array)",
    ),
    (
        'benchmarks = "speed"\n' + project(),
        "key 'benchmarks': must be a non-empty array of tables, got 'speed' (a string)",
    ),
    (
        "benchmarks = [1]\n" + project(),
        "key 'benchmarks': entry 0 must be a table, got 1 (an integer)",
    ),
]


@pytest.mark.parametrize(("text", "expected"), TOP_LEVEL_ERRORS)
def test_top_level_errors(tmp_path: Path, text: str, expected: str) -> None:
    assert error(tmp_path, text).startswith(expected)


PROJECT_ERRORS = [
    ({"langauge": "julia"}, "[project] key 'langauge': unknown key; did you mean 'language'?"),
    (
        {"owner": "me"},
        "[project] key 'owner': unknown key; known keys are 'name', 'language', 'invocation', "
        "'tracked_paths'",
    ),
    ({"name": None}, "[project] key 'name': missing; set name = \"MyProject\""),
    ({"name": ".hidden"}, "[project] key 'name': is not a valid project name"),
    ({"name": "a b"}, "[project] key 'name': is not a valid project name"),
    ({"name": "a/b"}, "[project] key 'name': is not a valid project name"),
    ({"name": 7}, "[project] key 'name': is not a valid project name (it is used in paths), "),
    ({"language": ""}, "[project] key 'language': must be a non-empty string, got ''"),
    ({"language": 3}, "[project] key 'language': must be a non-empty string, got 3 (an integer)"),
    ({"invocation": None}, "[project] key 'invocation': missing; set the command"),
    ({"invocation": ["run"]}, "[project] key 'invocation': must be a string, got ['run']"),
    (
        {"invocation": "run --config {config_path}"},
        "[project] key 'invocation': lacks the {output_path} placeholder",
    ),
    (
        {"invocation": "run {config_path} {output_path} --seed {seed}"},
        "[project] key 'invocation': has the unknown placeholder {seed}",
    ),
    (
        {"invocation": "run {} {config_path} {output_path}"},
        "[project] key 'invocation': has the unknown placeholder {}",
    ),
    (
        {"invocation": "run {config_path} {output_path} ${HOME"},
        "[project] key 'invocation': is not a valid template (expected '}' before end of string)",
    ),
    (
        {"invocation": "awk '{print}' {config_path} {output_path}"},
        "[project] key 'invocation': has the unknown placeholder {print}",
    ),
    (
        {"invocation": "run {config_path!r} {output_path}"},
        "[project] key 'invocation': placeholder {config_path} has a conversion or format spec",
    ),
    (
        {"invocation": "run {config_path.stem} {output_path}"},
        "[project] key 'invocation': has the unknown placeholder {config_path.stem}",
    ),
    (
        {"tracked_paths": "bench/"},
        "[project] key 'tracked_paths': must be an array, got 'bench/' (a string)",
    ),
    ({"tracked_paths": ["/etc"]}, "[project] key 'tracked_paths': must be relative"),
    ({"tracked_paths": ["../other"]}, "[project] key 'tracked_paths': escapes the project root"),
    ({"tracked_paths": [1]}, "[project] key 'tracked_paths': must be a string path, got 1"),
    (
        {"evaluator_paths": []},
        "[project] key 'evaluator_paths': is empty, got [] (an array); list the evaluator's",
    ),
    ({"evaluator_paths": ["../x"]}, "[project] key 'evaluator_paths': escapes the project root"),
]


@pytest.mark.parametrize(("keys", "expected"), PROJECT_ERRORS)
def test_project_errors(tmp_path: Path, keys: dict[str, object], expected: str) -> None:
    assert error(tmp_path, project(**keys) + bench()).startswith(expected)


BENCHMARK_ERRORS = [
    # unknown keys, with and without a close match
    (
        {"repetiton": 3},
        "benchmark 'speed': key 'repetiton': unknown key; did you mean 'repetitions'?",
    ),
    ({"zzz": 1}, "benchmark 'speed': key 'zzz': unknown key; known keys are 'name', 'entry_point'"),
    # names
    ({"name": None}, "benchmarks[0]: key 'name': missing; set name = \"my_benchmark\""),
    ({"name": "../x"}, "benchmarks[0]: key 'name': is not a valid benchmark name"),
    ({"name": ""}, "benchmarks[0]: key 'name': is not a valid benchmark name"),
    # the store's rule, not a copy: its length limit applies at load time
    ({"name": "x" * 129}, "benchmarks[0]: key 'name': is not a valid benchmark name"),
    # tier and direction
    ({"tier": None}, "benchmark 'speed': key 'tier': missing; set tier to one of 'correctness'"),
    (
        {"tier": "perfomance"},
        "benchmark 'speed': key 'tier': must be one of 'correctness', 'performance', 'quality', "
        "got 'perfomance' (a string); did you mean 'performance'?",
    ),
    (
        {"metric_direction": None},
        "benchmark 'speed': key 'metric_direction': missing (required for tier 'performance'); "
        "set metric_direction to one of 'minimize', 'maximize'",
    ),
    (
        {"metric_direction": "lower"},
        "benchmark 'speed': key 'metric_direction': must be one of 'minimize', 'maximize', "
        "got 'lower' (a string); use one of those",
    ),
    # wrong types, bool as int, int as bool
    (
        {"threads": True},
        "benchmark 'speed': key 'threads': must be an integer >= 1, got True (a boolean); "
        "write a bare integer",
    ),
    ({"threads": "2"}, "benchmark 'speed': key 'threads': must be an integer >= 1, got '2'"),
    ({"threads": 1.5}, "benchmark 'speed': key 'threads': must be an integer >= 1, got 1.5"),
    ({"threads": 0}, "benchmark 'speed': key 'threads': must be an integer >= 1, got 0"),
    ({"repetitions": False}, "benchmark 'speed': key 'repetitions': must be an integer >= 1"),
    ({"repetitions": 0}, "benchmark 'speed': key 'repetitions': must be an integer >= 1"),
    ({"repetitions": 100_001}, "key 'repetitions': must be an integer >= 1 and <= 100000"),
    (
        {"deterministic": 1},
        "benchmark 'speed': key 'deterministic': must be a boolean, got 1 (an integer); "
        "write true or false, unquoted",
    ),
    ({"deterministic": "true"}, "key 'deterministic': must be a boolean, got 'true'"),
    ({"background_required": "no"}, "key 'background_required': must be a boolean"),
    (
        {"expected_runtime_seconds": 0},
        "benchmark 'speed': key 'expected_runtime_seconds': must be a finite number > 0, got 0",
    ),
    ({"expected_runtime_seconds": -1.0}, "key 'expected_runtime_seconds': must be a finite"),
    ({"expected_runtime_seconds": "5"}, "key 'expected_runtime_seconds': must be a finite"),
    ({"expected_runtime_seconds": True}, "key 'expected_runtime_seconds': must be a finite"),
    ({"expected_runtime_seconds": Raw("inf")}, "key 'expected_runtime_seconds': must be a"),
    ({"timeout_seconds": Raw("nan")}, "key 'timeout_seconds': must be a finite number > 0"),
    ({"timeout_seconds": 0}, "key 'timeout_seconds': must be a finite number > 0"),
    ({"promotion_sigma": 0}, "key 'promotion_sigma': must be a finite number > 0"),
    ({"promotion_z": -1}, "key 'promotion_z': must be a finite number > 0"),
    ({"min_effect": -0.1}, "key 'min_effect': must be a finite number >= 0, got -0.1"),
    ({"min_effect": "1%"}, "key 'min_effect': must be a finite number >= 0, got '1%'"),
    ({"description": 5}, "key 'description': must be a non-empty string, got 5"),
    # enums
    ({"gpu": "cuda"}, "key 'gpu': must be one of 'none', 'direct', 'ollama', got 'cuda'"),
    ({"gate_policy": "mann-whitney"}, "did you mean 'mann_whitney'?"),
    ({"metric_source": "wallclock"}, "did you mean 'wall_clock'?"),
    # entry point
    ({"entry_point": "run; rm -rf /"}, "key 'entry_point': must be safe on a shell command"),
    ({"entry_point": ""}, "key 'entry_point': must be a non-empty string"),
    # seeds
    ({"baseline_seeds": 3}, "key 'baseline_seeds': must be an array, got 3 (an integer)"),
    ({"baseline_seeds": []}, "key 'baseline_seeds': is empty, so a baseline would run nothing"),
    ({"baseline_seeds": [1, True]}, "key 'baseline_seeds': each seed must be an integer"),
    ({"baseline_seeds": [-1, 2]}, "key 'baseline_seeds': each seed must be an integer with 0"),
    ({"baseline_seeds": [1.0, 2]}, "key 'baseline_seeds': each seed must be an integer"),
    ({"baseline_seeds": ["1", "2"]}, "key 'baseline_seeds': each seed must be an integer"),
    ({"baseline_seeds": [1, 2, 1]}, "key 'baseline_seeds': lists a seed twice"),
    # corpus
    ({"corpus_path": "/data/c"}, "key 'corpus_path': must be relative to the project root"),
    ({"corpus_path": "~/c"}, "key 'corpus_path': must be relative to the project root"),
    ({"corpus_path": "C:\\data"}, "key 'corpus_path': must be relative to the project root"),
    ({"corpus_path": "../c"}, "key 'corpus_path': escapes the project root with '..'"),
    ({"corpus_path": "a/../../c"}, "key 'corpus_path': escapes the project root with '..'"),
    ({"corpus_path": ""}, "key 'corpus_path': must not be empty"),
    ({"corpus_path": 3}, "key 'corpus_path': must be a string path"),
    # digests: the hasher's parser decides, the loader names the key
    (
        {"corpus_path": "c", "corpus_hash": "0" * 64},
        "key 'corpus_hash': digest '000",
    ),
    (
        {"corpus_path": "c", "corpus_hash": "md5:" + "0" * 32},
        "key 'corpus_hash': digest 'md5:0000",
    ),
    (
        {"corpus_path": "c", "corpus_hash": "blake2:" + "0" * 64},
        "unknown algorithm 'blake2'; did you mean 'blake3'?; copy the pin `bench corpus hash",
    ),
    (
        {"corpus_path": "c", "corpus_hash": "sha256:" + "0" * 63},
        "sha256 needs exactly 64 hex digits after 'sha256:', got 63 characters",
    ),
    (
        {"corpus_path": "c", "corpus_hash": "xxh3-128:" + "0" * 64},
        "xxh3-128 needs exactly 32 hex digits after 'xxh3-128:'",
    ),
    ({"corpus_path": "c", "corpus_hash": 5}, "key 'corpus_hash': digest must be a string"),
    ({"corpus_hash": SHA}, "key 'corpus_hash': requires corpus_path"),
    ({"corpus_type": "tree"}, "key 'corpus_type': requires corpus_path"),
    ({"corpus_path": "c", "corpus_type": "dir"}, "key 'corpus_type': must be one of 'bytes'"),
    # tier-specific keys
    (
        {"reference_policy": "byte_equivalence"},
        "key 'reference_policy': applies to correctness benchmarks only, not tier 'performance'",
    ),
    (
        {"requires_correctness": "golden"},
        "key 'requires_correctness': must be an array, got 'golden'",
    ),
    ({"requires_correctness": [1]}, "key 'requires_correctness': must list benchmark names"),
    # hygiene
    ({"warmup_repetitions": -1}, "key 'warmup_repetitions': must be an integer >= 0"),
    ({"warmup_repetitions": True}, "key 'warmup_repetitions': must be an integer >= 0"),
    ({"cpu_affinity": 0}, "key 'cpu_affinity': must be an array, got 0 (an integer)"),
    ({"cpu_affinity": []}, "key 'cpu_affinity': is empty, got [] (an array); list at least"),
    ({"cpu_affinity": [-1]}, "key 'cpu_affinity': each entry must be a CPU number"),
    ({"cpu_affinity": ["0"]}, "key 'cpu_affinity': each entry must be a CPU number"),
    ({"cpu_affinity": [True]}, "key 'cpu_affinity': each entry must be a CPU number"),
    ({"cpu_affinity": [1, 1]}, "key 'cpu_affinity': lists a CPU twice, got 1 (an integer)"),
    ({"compare_across_hosts": "yes"}, "key 'compare_across_hosts': must be a boolean"),
]


@pytest.mark.parametrize(("keys", "expected"), BENCHMARK_ERRORS)
def test_benchmark_errors(tmp_path: Path, keys: dict[str, object], expected: str) -> None:
    message = error(tmp_path, project() + bench(**keys))
    assert expected in message
    assert message.startswith(("benchmark 'speed': key ", "benchmarks[0]: key "))


def test_error_format_is_path_benchmark_key_problem_value_fix(tmp_path: Path) -> None:
    path = write(tmp_path, project() + bench(threads=True))
    with pytest.raises(ManifestError) as info:
        load_manifest(tmp_path)
    assert str(info.value) == (
        f"{path.resolve()}: benchmark 'speed': key 'threads': must be an integer >= 1, "
        "got True (a boolean); write a bare integer"
    )


def test_unnamed_benchmarks_are_counted_from_zero(tmp_path: Path) -> None:
    message = error(tmp_path, project() + bench() + bench(name=None, tier="quality"))
    assert message.startswith("benchmarks[1]: key 'name': missing")


def test_long_values_are_clipped(tmp_path: Path) -> None:
    message = error(tmp_path, project() + bench(gpu="x" * 5000))
    assert len(message) < 300


CORRECTNESS_ERRORS = [
    (
        {"deterministic": False},
        "key 'deterministic': a correctness benchmark compares output bytes, so it must be "
        "deterministic, got False (a boolean)",
    ),
    ({"reference_policy": "close_enough"}, "key 'reference_policy': must be one of"),
    (
        {"metric_source": "reported"},
        "key 'metric_source': does not apply to correctness benchmarks",
    ),
    (
        {"requires_correctness": ["other"]},
        "key 'requires_correctness': does not apply to correctness benchmarks",
    ),
]


@pytest.mark.parametrize(("keys", "expected"), CORRECTNESS_ERRORS)
def test_correctness_only_rules(tmp_path: Path, keys: dict[str, object], expected: str) -> None:
    text = project() + bench(name="golden", tier="correctness", metric_direction=None, **keys)
    assert expected in error(tmp_path, text)


def test_duplicate_benchmark_names(tmp_path: Path) -> None:
    message = error(tmp_path, project() + bench() + bench(tier="quality"))
    assert message == (
        "benchmark 'speed': key 'name': duplicate, got 'speed' (a string); benchmark names "
        "must be unique within a manifest"
    )


def test_requires_correctness_must_name_a_correctness_benchmark(tmp_path: Path) -> None:
    golden = bench(name="golden", tier="correctness", metric_direction=None)
    other = bench(name="other", tier="quality")
    message = error(tmp_path, project() + golden + other + bench(requires_correctness=["goldne"]))
    assert message == (
        "benchmark 'speed': key 'requires_correctness': names no benchmark of this manifest, "
        "got 'goldne' (a string); did you mean 'golden'?"
    )
    message = error(tmp_path, project() + golden + other + bench(requires_correctness=["other"]))
    assert "names a quality benchmark, not a correctness one, got 'other'" in message
    message = error(tmp_path, project() + other + bench(requires_correctness=["x"]))
    assert message.endswith("this manifest declares no correctness benchmark")
    message = error(tmp_path, project() + golden + bench(requires_correctness=["golden", "golden"]))
    assert "key 'requires_correctness': lists a benchmark twice" in message


def test_requires_correctness_may_name_a_later_benchmark(tmp_path: Path) -> None:
    golden = bench(name="golden", tier="correctness", metric_direction=None)
    manifest = load(tmp_path, project() + bench(requires_correctness=["golden"]) + golden)
    assert manifest.benchmark("speed").requires_correctness == ("golden",)


def test_output_reference_names_a_correctness_benchmark_of_the_manifest(tmp_path: Path) -> None:
    golden = bench(name="golden", tier="correctness", metric_direction=None)
    other = bench(name="other", tier="quality")
    manifest = load(tmp_path, project() + bench(output_reference="golden") + golden)
    assert manifest.benchmark("speed").output_reference == "golden"
    assert manifest.benchmark("golden").output_reference is None
    message = error(tmp_path, project() + golden + bench(output_reference="goldne"))
    assert message == (
        "benchmark 'speed': key 'output_reference': names no benchmark of this manifest, "
        "got 'goldne' (a string); did you mean 'golden'?"
    )
    message = error(tmp_path, project() + golden + other + bench(output_reference="other"))
    assert "key 'output_reference': names a quality benchmark, not a correctness one" in message
    assert message.endswith(
        "name a correctness benchmark (it has an artifact_path and a reference)"
    )
    message = error(tmp_path, project() + golden + bench(output_reference=["golden"]))
    assert "key 'output_reference': must be a non-empty string" in message, message
    own = bench(name="g2", tier="correctness", metric_direction=None, output_reference="golden")
    message = error(tmp_path, project() + golden + own)
    assert message.startswith(
        "benchmark 'g2': key 'output_reference': does not apply to correctness benchmarks"
    )


def test_held_out_corpus_is_never_in_the_tree(tmp_path: Path) -> None:
    manifest = load(tmp_path, project() + bench(held_out=True))
    assert manifest.benchmark("speed").held_out is True
    assert manifest.benchmark("speed").corpus_path is None
    message = error(tmp_path, project() + bench(held_out=True, corpus_path="data"))
    assert message.startswith(
        "benchmark 'speed': key 'corpus_path': does not go with held_out = true"
    )
    assert message.endswith("got 'data' (a string); remove the key")
    message = error(tmp_path, project() + bench(held_out="yes"))
    assert "key 'held_out': must be a boolean" in message, message


def test_unknown_key_check_comes_before_other_errors(tmp_path: Path) -> None:
    message = error(tmp_path, project() + bench(tier="nope", repititions=2))
    assert message.startswith("benchmark 'speed': key 'repititions': unknown key")


# --- warnings -----------------------------------------------------------------------------


def _warnings_of(root: Path, **keys: object) -> tuple[str, ...]:
    manifest = load(root, project() + bench(**keys))
    prefix = f"{manifest.path}: benchmark 'speed': "
    assert all(w.startswith(prefix) and "\n" not in w for w in manifest.warnings)
    return tuple(w[len(prefix) :] for w in manifest.warnings)


def test_repetitions_below_the_floor_warns(tmp_path: Path) -> None:
    assert _warnings_of(tmp_path, repetitions=1, baseline_seeds=[1, 2]) == (
        "repetitions = 1 is below the gate's floor of 2 candidate runs, so evaluate returns "
        "NEEDS_MORE_DATA forever; set repetitions >= 2",
    )


def test_one_baseline_seed_warns(tmp_path: Path) -> None:
    assert _warnings_of(tmp_path, baseline_seeds=[7]) == (
        "baseline_seeds has 1 seed(s), below the gate's floor of 2 baseline runs, so evaluate "
        "returns NEEDS_MORE_DATA forever; list at least 2 seeds",
    )


def test_floors_do_not_apply_to_deterministic_or_correctness(tmp_path: Path) -> None:
    assert _warnings_of(tmp_path, deterministic=True, repetitions=1, baseline_seeds=[3]) == ()
    text = project() + bench(name="golden", tier="correctness", metric_direction=None)
    assert load(tmp_path, text).warnings == ()


def test_mann_whitney_without_promotion_z_warns(tmp_path: Path) -> None:
    assert _warnings_of(tmp_path, gate_policy="mann_whitney", repetitions=6) == (
        'gate_policy = "mann_whitney" without promotion_z; the gate falls back to '
        "promotion_sigma = 2 as its z threshold; set promotion_z to choose it explicitly",
    )


def test_unreachable_mann_whitney_threshold_warns_with_runs_needed(tmp_path: Path) -> None:
    # 3 a side: p >= 1/C(6,3) = 0.05 > Φ(-2) = 0.0228; more candidate runs can still fix it.
    found = _warnings_of(tmp_path, gate_policy="mann_whitney", promotion_z=2.0, repetitions=3)
    assert found == (
        "mann_whitney threshold 2 cannot be reached with 3 baseline and 3 candidate runs, so "
        "evaluate returns NEEDS_MORE_DATA until more candidate runs are added; 4 runs a side "
        "(baseline_seeds and repetitions) would reach it",
    )


def test_seeds_that_can_never_reach_look_two_are_refused_with_seeds_needed(
    tmp_path: Path,
) -> None:
    # One baseline seed: p >= 1/(1 + 100000) even with the most candidate runs, far above
    # Φ(-6)/2 ≈ 4.9e-10, so no re-look could ever PROMOTE.
    text = project() + bench(
        gate_policy="mann_whitney", promotion_z=6.0, repetitions=10, baseline_seeds=[1]
    )
    with pytest.raises(ManifestError) as caught:
        load(tmp_path, text)
    message = str(caught.value)
    assert "benchmark 'speed': key 'baseline_seeds': 1 baseline seed(s) can never reach" in message
    assert "once look 2 halves alpha, even against 100000 candidate runs" in message
    assert message.endswith("list at least 2 baseline seeds")


def test_mann_whitney_reachable_at_first_look_only_warns(tmp_path: Path) -> None:
    # 4 a side: 1/70 = 0.0143 <= 0.0228 at look 1, but > 0.0114 once look 2 halves alpha.
    found = _warnings_of(tmp_path, gate_policy="mann_whitney", promotion_z=2.0, repetitions=4)
    assert found == (
        "mann_whitney threshold 2 is reachable at look 1 only: with 4 baseline and 4 candidate "
        "runs a second look (alpha halved) can never PROMOTE; 5 runs a side would reach it at "
        "look 2",
    )


def test_reachable_mann_whitney_threshold_does_not_warn(tmp_path: Path) -> None:
    assert _warnings_of(tmp_path, gate_policy="mann_whitney", promotion_z=2.0, repetitions=5) == ()


def test_promotion_sigma_above_the_gates_range_is_a_load_time_error(tmp_path: Path) -> None:
    # compare() accepts z <= 37 (Φ(-37) ≈ 5.7e-300 still leaves room for halving per look);
    # 40 used to load and then fail every evaluate. The gate's own rule now refuses it here.
    with pytest.raises(ManifestError) as caught:
        load(tmp_path, project() + bench(promotion_sigma=40))
    assert (
        "benchmark 'speed': key 'promotion_sigma': threshold 40.0 must be a number > 0 and <= 37"
        in (str(caught.value))
    )


def test_corpus_hash_without_type_warns_and_means_bytes(tmp_path: Path) -> None:
    manifest = load(tmp_path, project() + bench(corpus_path="c.bin", corpus_hash=SHA))
    assert manifest.benchmark("speed").corpus_type == "bytes"
    assert (
        len(manifest.warnings) == 1
        and "corpus_hash is set without corpus_type" in (manifest.warnings[0])
    )
    manifest = load(
        tmp_path, project() + bench(corpus_path="c", corpus_hash=SHA, corpus_type="spec")
    )
    assert manifest.warnings == ()


def test_warnings_do_not_go_through_the_warnings_module(tmp_path: Path) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        manifest = load(tmp_path, project() + bench(repetitions=1))
    assert len(manifest.warnings) >= 2
    assert caught == []


# --- executor and [slurm] ---------------------------------------------------------


def test_executor_defaults_to_local_and_a_benchmark_overrides_the_project(tmp_path) -> None:
    manifest = load(tmp_path, project() + bench())
    assert manifest.benchmark("speed").executor == "local"
    assert manifest.slurm is None
    text = (
        project(executor="slurm")
        + bench()
        + bench(name="here", executor="local")
        + '\n[slurm]\nspool = "/shared/spool"\n'
    )
    manifest = load(tmp_path, text)
    assert manifest.benchmark("speed").executor == "slurm"
    assert manifest.benchmark("here").executor == "local"


def test_every_slurm_key(tmp_path: Path) -> None:
    text = (
        project()
        + bench()
        + (
            "\n[slurm]\n"
            'spool = "spool/dir"\n'
            'partition = "bench"\n'
            'account = "lab42"\n'
            'time_limit = "1-02:00:00"\n'
            'extra_args = ["--qos=short", "--constraint=avx2"]\n'
            "exclusive = true\n"
            "max_parallel = 3\n"
            "poll_seconds = 0.5\n"
            "repetitions_per_task = 2\n"
        )
    )
    manifest = load(tmp_path, text)
    assert manifest.slurm == SlurmSettings(
        spool=tmp_path.resolve() / "spool" / "dir",  # relative to the project root
        partition="bench",
        account="lab42",
        time_limit="1-02:00:00",
        extra_args=("--qos=short", "--constraint=avx2"),
        exclusive=True,
        max_parallel=3,
        poll_seconds=0.5,
        repetitions_per_task=2,
    )


def test_slurm_executor_without_a_slurm_table_is_refused(tmp_path: Path) -> None:
    message = error(tmp_path, project() + bench(executor="slurm"))
    assert message == (
        "key 'slurm': missing, but executor = \"slurm\" is set for 'speed'; add a [slurm] "
        'table with at least spool = "/shared/path" (docs/cluster.md)'
    )


def test_bad_slurm_values_name_the_key(tmp_path: Path) -> None:
    base = project() + bench()
    assert error(tmp_path, base + "\n[slurm]\npartition = 'x'\n").startswith(
        "[slurm] key 'spool': missing"
    )
    assert "did you mean 'partition'" in error(
        tmp_path, base + "\n[slurm]\nspool = '/s'\npartiton = 'x'\n"
    )
    assert error(tmp_path, base + "\n[slurm]\nspool = '/s'\ntime_limit = 'soon'\n") == (
        "[slurm] key 'time_limit': is not a Slurm time, got 'soon' (a string); write MM, "
        'HH:MM:SS or D-HH:MM, e.g. "30" or "2:00:00"'
    )
    assert error(tmp_path, base + "\n[slurm]\nspool = '/s'\nextra_args = ['; rm -rf /']\n") == (
        "[slurm] key 'extra_args': must list sbatch options, got '; rm -rf /' (a string); "
        'write each option as one string, e.g. ["--qos=short", "--constraint=avx2"]'
    )
    assert "must be one of 'local', 'slurm'" in error(
        tmp_path, project(executor="cluster") + bench()
    )


def test_threads_become_cpus_per_task() -> None:
    args = SlurmOptions(partition="bench", cpus_per_task=4, exclusive=True).sbatch_args()
    assert args == [
        "--job-name=benchstone",
        "--partition=bench",
        "--nodes=1",
        "--exclusive",
        "--cpus-per-task=4",
    ]


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        ({}, "side_by_side"),
        ({"metric_source": "wall_clock", "tier": "quality"}, "side_by_side"),
        ({"metric_source": "cpu_time"}, "side_by_side"),
        ({"metric_source": "peak_rss"}, "side_by_side"),
        ({"tier": "quality"}, "stored"),  # a seeded quality score does not drift
        ({"metric_source": "instructions"}, "stored"),
        ({"deterministic": True}, "stored"),
        ({"measurement": "stored"}, "stored"),
        ({"tier": "quality", "measurement": "side_by_side"}, "side_by_side"),
    ],
)
def test_measurement_defaults_to_side_by_side_for_host_timings(
    tmp_path: Path, keys: dict[str, object], expected: str
) -> None:
    assert load(tmp_path, project() + bench(**keys)).benchmark("speed").measurement == expected


def test_measurement_and_setup_errors_name_the_key(tmp_path: Path) -> None:
    message = error(tmp_path, project() + bench(measurement="sidebyside"))
    assert "key 'measurement': must be one of 'side_by_side', 'stored'" in message
    assert "did you mean 'side_by_side'?" in message
    message = error(tmp_path, project() + bench(deterministic=True, measurement="side_by_side"))
    assert "key 'measurement'" in message and "deterministic" in message
    text = project() + bench(
        name="g", tier="correctness", metric_direction=None, measurement="stored"
    )
    assert "does not apply to correctness" in error(tmp_path, text)
    message = error(tmp_path, project(setup="") + bench())
    assert "[project] key 'setup': must be a non-empty string" in message


# --- measurement hygiene ------------------------------------------------------------------


def test_warmups_do_not_apply_to_correctness(tmp_path: Path) -> None:
    text = project() + bench(
        name="golden", tier="correctness", metric_direction=None, warmup_repetitions=1
    )
    assert "key 'warmup_repetitions': does not apply to correctness benchmarks" in error(
        tmp_path, text
    )


def test_project_cpu_affinity_shape_is_checked(tmp_path: Path) -> None:
    message = error(tmp_path, project(cpu_affinity=[0, "1"]) + bench())
    assert message.startswith("[project] key 'cpu_affinity': each entry must be a CPU number")


def test_cpus_absent_here_still_load(tmp_path: Path) -> None:
    # Which CPUs exist is the running host's business (runner._affinity), not the loader's.
    spec = load(tmp_path, project() + bench(cpu_affinity=[4095])).benchmark("speed")
    assert spec.cpu_affinity == (4095,)


@pytest.mark.parametrize(
    ("keys", "across"),
    [
        ({}, False),  # performance: a host measurement
        ({"tier": "quality"}, True),  # a reported score does not depend on the machine
        ({"tier": "quality", "metric_source": "wall_clock"}, False),
        ({"tier": "quality", "metric_source": "instructions"}, False),
        ({"compare_across_hosts": True}, True),
        ({"tier": "quality", "compare_across_hosts": False}, False),
    ],
)
def test_compare_across_hosts_defaults_to_the_metric(
    tmp_path: Path, keys: dict[str, object], across: bool
) -> None:
    spec = load(tmp_path, project() + bench(**keys)).benchmark("speed")
    assert spec.compare_across_hosts is across
    assert spec.warmup_repetitions == 0 and spec.cpu_affinity is None


def test_judgement_keys_are_marked_on_the_schema() -> None:
    # What a lock may change and still apply to stored runs (api/_lock.py): the keys that
    # decide how numbers are judged, not how they are measured.
    from benchstone.runner import JUDGEMENT_KEYS as judging

    assert judging == {
        "metric_direction",
        "gate_policy",
        "promotion_sigma",
        "promotion_z",
        "min_effect",
        "metric_source",
        "measurement",
        "requires_correctness",
        "reference_policy",
        "description",
        "compare_across_hosts",
    }

"""The shipped JSON Schemas load and agree with the Python validator.

Non-Python runners validate against the schemas, Python ones against the classes; a
document one accepts and the other refuses would be a protocol split.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from benchstone.protocol import (
    PROTOCOL_VERSION,
    InvocationConfig,
    ProjectResult,
    ProtocolError,
    schema_path,
)


def _validator(name: str) -> jsonschema.Draft202012Validator:
    schema = json.loads(schema_path(name).read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_schema_files_ship_with_the_package_and_are_valid_2020_12() -> None:
    for name in ("invocation_config", "project_result"):
        path = schema_path(name)
        assert path.is_file()
        assert path.name == f"{name}.schema.json"
        schema = json.loads(path.read_text(encoding="utf-8"))
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        _validator(name)


def test_config_schema_pins_the_protocol_version() -> None:
    schema = json.loads(schema_path("invocation_config").read_text(encoding="utf-8"))
    assert schema["properties"]["protocol_version"]["maximum"] == PROTOCOL_VERSION


def test_unknown_schema_name_is_an_error() -> None:
    with pytest.raises(ProtocolError, match=r"schema 'result' does not exist; choose one of"):
        schema_path("result")


RESULT_DOCUMENTS = [
    '{"status": "ok", "metric": 1.0413}',
    '{"status": "ok", "metric": 0}',
    '{"status": "ok", "metric": -7, "message": null}',
    '{"status": "ok", "metric": 1.5, "metric_components": {"a": 1}, "metadata": {"b": [1]},'
    ' "wall_clock_seconds": 0, "message": "fine", "extra_key": [1, 2]}',
    '{"status": "error", "message": "boom"}',
    '{"status": "error", "message": "x", "metric": 3}',
    '{"status": "ok", "metric": 1e308}',
    '{"status": "ok"}',
    '{"status": "ok", "metric": null}',
    '{"status": "ok", "metric": true}',
    '{"status": "ok", "metric": "1.0"}',
    '{"status": "ok", "metric": "1e999"}',
    '{"status": "ok", "metric": 1e999}',
    '{"status": "ok", "metric": -1e999}',
    '{"status": "ok", "metric": 1' + "0" * 400 + "}",
    '{"status": "ok", "metric": [1]}',
    '{"status": "error"}',
    '{"status": "error", "message": ""}',
    '{"status": "error", "message": "  \\t "}',
    '{"status": "error", "message": 5}',
    '{"status": "done", "metric": 1}',
    '{"metric": 1}',
    '{"status": "ok", "metric": 1, "metric_components": [1]}',
    '{"status": "ok", "metric": 1, "metadata": "m"}',
    '{"status": "ok", "metric": 1, "metadata": null, "metric_components": null}',
    '{"status": "ok", "metric": 1, "wall_clock_seconds": -1}',
    '{"status": "ok", "metric": 1, "wall_clock_seconds": false}',
    '{"status": "ok", "metric": 1, "wall_clock_seconds": 2.5}',
    "[]",
    '"ok"',
]


def _python_accepts(path: Path, text: str) -> bool:
    path.write_text(text, encoding="utf-8")
    try:
        ProjectResult.read(path)
    except ProtocolError:
        return False
    return True


@pytest.mark.parametrize("text", RESULT_DOCUMENTS)
def test_result_schema_agrees_with_the_validator(tmp_path: Path, text: str) -> None:
    schema_ok = _validator("project_result").is_valid(json.loads(text))
    assert _python_accepts(tmp_path / "r.json", text) == schema_ok


def test_the_result_corpus_has_both_outcomes(tmp_path: Path) -> None:
    verdicts = {_python_accepts(tmp_path / "r.json", t) for t in RESULT_DOCUMENTS}
    assert verdicts == {True, False}


BASE = (
    '"benchmark": "b", "seed": 1, "corpus_path": "", "repetition_index": 0, "repetition_total": 2'
)
CONFIG_DOCUMENTS = [
    "{" + BASE + "}",
    "{" + BASE + ', "artifact_path": "/tmp/a.bin", "protocol_version": 1}',
    "{" + BASE + ', "artifact_path": null, "future_field": {"x": 1}}',
    '{"benchmark": "b", "seed": 4.0, "corpus_path": "/c", "repetition_index": 1,'
    ' "repetition_total": 2}',
    "{" + BASE + ', "protocol_version": 2}',
    "{" + BASE + ', "protocol_version": 0}',
    "{" + BASE + ', "artifact_path": ""}',
    "{" + BASE + ', "artifact_path": 3}',
    '{"benchmark": "", "seed": 1, "corpus_path": "", "repetition_index": 0, "repetition_total": 1}',
    '{"benchmark": "b", "seed": -1, "corpus_path": "", "repetition_index": 0,'
    ' "repetition_total": 1}',
    '{"benchmark": "b", "seed": true, "corpus_path": "", "repetition_index": 0,'
    ' "repetition_total": 1}',
    '{"benchmark": "b", "seed": 1.5, "corpus_path": "", "repetition_index": 0,'
    ' "repetition_total": 1}',
    '{"benchmark": "b", "seed": 1, "corpus_path": null, "repetition_index": 0,'
    ' "repetition_total": 1}',
    '{"benchmark": "b", "seed": 1, "corpus_path": "", "repetition_index": 0,'
    ' "repetition_total": 0}',
    '{"benchmark": "b", "seed": 1, "corpus_path": "", "repetition_index": 0}',
    "[]",
]


@pytest.mark.parametrize("text", CONFIG_DOCUMENTS)
def test_config_schema_agrees_with_the_validator(tmp_path: Path, text: str) -> None:
    path = tmp_path / "c.json"
    path.write_text(text, encoding="utf-8")
    try:
        InvocationConfig.read(path)
        python_ok = True
    except ProtocolError:
        python_ok = False
    assert python_ok == _validator("invocation_config").is_valid(json.loads(text))


def test_index_below_total_is_the_one_rule_only_the_validator_checks(tmp_path: Path) -> None:
    doc = {
        "benchmark": "b",
        "seed": 1,
        "corpus_path": "",
        "repetition_index": 3,
        "repetition_total": 2,
    }
    assert _validator("invocation_config").is_valid(doc)
    with pytest.raises(ProtocolError, match=r"repetition_index"):
        InvocationConfig.from_dict(doc)

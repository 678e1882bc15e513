"""InvocationConfig: the harness's instructions, validated so a runner can trust them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchstone.protocol import PROTOCOL_VERSION, InvocationConfig, ProtocolError

BASE = {
    "benchmark": "fake_quality",
    "seed": 42,
    "corpus_path": "/abs/path/to/corpus",
    "repetition_index": 0,
    "repetition_total": 5,
    "artifact_path": None,
}


def test_spec_example_loads_and_defaults_protocol_version_to_1() -> None:
    config = InvocationConfig.from_dict(BASE)
    assert config.benchmark == "fake_quality"
    assert config.seed == 42
    assert config.corpus_path == "/abs/path/to/corpus"
    assert (config.repetition_index, config.repetition_total) == (0, 5)
    assert config.artifact_path is None
    assert config.protocol_version == PROTOCOL_VERSION == 1
    assert config.extra == {}


def test_round_trip_through_a_file_keeps_every_field_and_extra(tmp_path: Path) -> None:
    config = InvocationConfig(
        benchmark="c",
        seed=7,
        corpus_path="",
        repetition_index=2,
        repetition_total=3,
        artifact_path="/tmp/run/artifact.bin",
        extra={"host_hint": {"cores": 2}},
    )
    path = tmp_path / "config.json"
    config.write(path)
    on_disk = json.loads(path.read_text())
    assert on_disk["protocol_version"] == 1
    assert on_disk["host_hint"] == {"cores": 2}
    assert InvocationConfig.read(path) == config


def test_missing_required_key_names_it() -> None:
    doc = dict(BASE)
    del doc["seed"]
    with pytest.raises(ProtocolError, match=r"key 'seed': missing"):
        InvocationConfig.from_dict(doc)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("benchmark", ""),
        ("benchmark", 3),
        ("seed", True),
        ("seed", "42"),
        ("seed", -1),
        ("seed", 1.5),
        ("corpus_path", None),
        ("repetition_index", -1),
        ("repetition_total", 0),
        ("artifact_path", ""),
        ("artifact_path", 5),
        ("protocol_version", 0),
        ("protocol_version", "1"),
    ],
)
def test_bad_field_values_are_refused_naming_the_key(key: str, value: object) -> None:
    with pytest.raises(ProtocolError, match=rf"key '{key}'"):
        InvocationConfig.from_dict({**BASE, key: value})


def test_index_must_be_below_total() -> None:
    with pytest.raises(ProtocolError, match=r"must be below repetition_total \(5\), got 5"):
        InvocationConfig.from_dict({**BASE, "repetition_index": 5})


def test_integral_floats_count_as_integers() -> None:
    config = InvocationConfig.from_dict({**BASE, "seed": 42.0, "repetition_total": 5.0})
    assert config.seed == 42 and type(config.seed) is int
    assert type(config.repetition_total) is int


def test_a_newer_protocol_version_is_refused_with_advice() -> None:
    with pytest.raises(ProtocolError, match=r"upgrade benchstone-protocol"):
        InvocationConfig.from_dict({**BASE, "protocol_version": PROTOCOL_VERSION + 1})


def test_read_error_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({**BASE, "seed": "x"}))
    with pytest.raises(ProtocolError) as info:
        InvocationConfig.read(path)
    assert str(info.value).startswith(f"{path}: key 'seed'")

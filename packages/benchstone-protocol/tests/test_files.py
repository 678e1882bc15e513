"""Reading and writing documents: size cap, strict JSON, atomic 0o600 writes."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from benchstone.protocol import MAX_RESULT_BYTES, ProjectResult, ProtocolError, atomic_write_json


def _padded_result(size: int) -> bytes:
    """A valid result document of exactly ``size`` bytes."""
    head = b'{"status": "ok", "metric": 1.5, "metadata": {"pad": "'
    tail = b'"}}'
    return head + b"x" * (size - len(head) - len(tail)) + tail


def test_result_of_exactly_the_limit_is_read(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_bytes(_padded_result(MAX_RESULT_BYTES))
    assert ProjectResult.read(path).metric == 1.5


def test_result_one_byte_over_the_limit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_bytes(_padded_result(MAX_RESULT_BYTES + 1))
    with pytest.raises(ProtocolError, match=r"larger than the 1048576-byte limit") as info:
        ProjectResult.read(path)
    assert str(info.value).startswith(str(path))


def test_huge_result_is_refused_without_being_read(tmp_path: Path) -> None:
    # A 64 GiB sparse file: reading it whole would exhaust memory, so passing proves the
    # size check comes first.
    path = tmp_path / "huge.json"
    with open(path, "wb") as handle:
        handle.truncate(64 << 30)
    with pytest.raises(ProtocolError, match=r"larger than the"):
        ProjectResult.read(path)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "empty file"),
        (b"  \n", "empty file"),
        (b"\xff\xfe{}", "not UTF-8 (invalid byte at offset 0)"),
        (b"[1, 2]", "expected a JSON object at the top level, got a JSON array"),
        (b'"ok"', "expected a JSON object at the top level, got a JSON string"),
        (b'{"status": "ok", "metric": 1', "invalid JSON at line 1 column"),
        (b'{"status": "ok", "metric": NaN}', "NaN is not valid JSON"),
        (b'{"status": "ok", "metric": Infinity}', "Infinity is not valid JSON"),
        (b'{"status": "ok", "metric": -Infinity}', "-Infinity is not valid JSON"),
        (b'{"status": "ok", "metric": 1e999}', "number 1e999 overflows to infinity"),
        (b'{"status": "ok", "metric": "1e999"}', "key 'metric': must be a finite real number"),
        (b'{"status": "ok", "metric": 1, "metric": 2}', "duplicate key 'metric'"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    ],
)
def test_bad_files_are_one_line_errors_naming_the_path(
    tmp_path: Path, content: bytes, problem: str
) -> None:
    path = tmp_path / "result.json"
    path.write_bytes(content)
    with pytest.raises(ProtocolError) as info:
        ProjectResult.read(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ")
    assert problem in message
    assert "\n" not in message


def test_missing_file_and_directory_are_named(tmp_path: Path) -> None:
    with pytest.raises(ProtocolError, match=r"nope.json: not found$"):
        ProjectResult.read(tmp_path / "nope.json")
    with pytest.raises(ProtocolError, match=r"is a directory"):
        ProjectResult.read(tmp_path)


def test_a_utf8_bom_is_tolerated(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_bytes(b'\xef\xbb\xbf{"status": "ok", "metric": 3}')
    assert ProjectResult.read(path).metric == 3.0


def test_write_is_0600_canonical_and_leaves_no_temp_files(tmp_path: Path) -> None:
    path = tmp_path / "result.json"
    ProjectResult(status="ok", metric=1.0, metadata={"b": 1, "a": "é"}).write(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text(encoding="utf-8")
    assert text.endswith("}\n") and not text.endswith("\n\n")
    assert '"a": "é"' in text
    assert list(json.loads(text)) == sorted(json.loads(text))
    assert os.listdir(tmp_path) == ["result.json"]


def test_write_is_byte_deterministic(tmp_path: Path) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    atomic_write_json(a, {"z": 1, "a": [1, 2], "m": {"y": 1, "x": 2}})
    atomic_write_json(b, {"m": {"x": 2, "y": 1}, "a": [1, 2], "z": 1})
    assert a.read_bytes() == b.read_bytes()


def test_atomic_write_replaces_and_honours_mode(tmp_path: Path) -> None:
    path = tmp_path / "doc.json"
    path.write_text("old")
    atomic_write_json(path, {"v": 2}, mode=0o644)
    assert json.loads(path.read_text()) == {"v": 2}
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_failed_write_keeps_the_old_file_and_cleans_up(tmp_path: Path) -> None:
    path = tmp_path / "doc.json"
    path.write_text('{"v": 1}')
    with pytest.raises(ProtocolError, match=r"doc.json: cannot write: the value is not standard"):
        atomic_write_json(path, {"v": float("nan")})
    with pytest.raises(ProtocolError, match=r"cannot write: the value is not standard"):
        atomic_write_json(path, {"v": object()})
    assert path.read_text() == '{"v": 1}'
    assert os.listdir(tmp_path) == ["doc.json"]


def test_write_into_a_missing_directory_names_the_path(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "r.json"
    with pytest.raises(ProtocolError) as info:
        ProjectResult(status="error", message="x").write(target)
    assert str(info.value).startswith(f"{target}: cannot write: ")

"""Result bundles on real files: written atomically, read back validated, damage named."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from benchstone.hasher import digest
from benchstone.runner import (
    Measurements,
    RunnerError,
    list_bundles,
    new_nonce,
    read_bundle,
    write_bundle,
)
from benchstone.runner._bundle import LOG_TAIL_BYTES


def _measurements() -> Measurements:
    return Measurements(
        wall_seconds=1.25,
        cpu_seconds=1.0,
        peak_rss_bytes=12_345_678,
        instructions=987_654_321,
        isolation="bwrap",
        host_fingerprint={"cpu_model": "test cpu", "cores": 2},
        node="node-7",
    )


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    run = tmp_path / "run"
    run.mkdir()
    (run / "artifact.bin").write_bytes(b"\x00artifact bytes\xff" * 1000)
    (run / "stdout.log").write_bytes(b"x" * (LOG_TAIL_BYTES + 10) + b"END-OF-STDOUT")
    (run / "stderr.log").write_text("warning: something\n")
    return run


def _write(spool: Path, run: Path, nonce: str, name: str = "3", job: str = "job-1") -> Path:
    return write_bundle(
        spool,
        job,
        name,
        nonce,
        result={"metrics": {"wall": 1.25}, "status": "ok"},
        measurements=_measurements(),
        artifact=run / "artifact.bin",
        stdout_log=run / "stdout.log",
        stderr_log=run / "stderr.log",
    )


def test_round_trip_keeps_every_part(tmp_path: Path, run_dir: Path) -> None:
    nonce = new_nonce()
    path = _write(tmp_path / "spool", run_dir, nonce)
    assert path == tmp_path / "spool" / "job-1" / "3.bundle"
    bundle = read_bundle(path, nonce=nonce, job="job-1")
    assert bundle.bundle_id == "job-1/3"
    assert bundle.result == {"metrics": {"wall": 1.25}, "status": "ok"}
    assert bundle.measurements == _measurements()
    assert bundle.artifact_path is not None
    assert bundle.artifact_path.read_bytes() == (run_dir / "artifact.bin").read_bytes()
    assert bundle.artifact_digest == digest(run_dir / "artifact.bin", "sha256")
    assert bundle.artifact_bytes == (run_dir / "artifact.bin").stat().st_size
    assert bundle.stdout_tail.endswith("END-OF-STDOUT")
    assert len(bundle.stdout_tail) == LOG_TAIL_BYTES
    assert bundle.stderr_tail == "warning: something\n"
    # The id and seal are stable: a second read (a resumed ingest) sees the same bundle.
    again = read_bundle(path, nonce=nonce)
    assert (again.bundle_id, again.digest) == (bundle.bundle_id, bundle.digest)
    assert list_bundles(tmp_path / "spool", "job-1") == [path]
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".tmp-")]


def test_without_artifact_or_logs(tmp_path: Path) -> None:
    nonce = new_nonce()
    path = write_bundle(
        tmp_path, "j", "0", nonce, result={"status": "error"}, measurements=_measurements()
    )
    bundle = read_bundle(path, nonce=nonce)
    assert (bundle.artifact_path, bundle.artifact_digest, bundle.stdout_tail) == (None, None, "")


def test_second_bundle_of_a_repetition_is_refused(tmp_path: Path, run_dir: Path) -> None:
    nonce = new_nonce()
    path = _write(tmp_path, run_dir, nonce)
    before = read_bundle(path, nonce=nonce).digest
    (run_dir / "stderr.log").write_text("a different attempt\n")
    with pytest.raises(RunnerError, match="already has a bundle; the first one stands"):
        _write(tmp_path, run_dir, nonce)
    assert read_bundle(path, nonce=nonce).digest == before
    assert [p.name for p in path.parent.iterdir()] == ["3.bundle"]


@pytest.mark.parametrize("part", ["manifest.json", "result.json", "artifact"])
def test_torn_bundle_missing_part(tmp_path: Path, run_dir: Path, part: str) -> None:
    nonce = new_nonce()
    path = _write(tmp_path, run_dir, nonce)
    (path / part).unlink()
    with pytest.raises(RunnerError) as err:
        read_bundle(path, nonce=nonce)
    assert str(err.value) == f"{path}: torn bundle: {part} is missing"


def test_torn_bundle_truncated_part(tmp_path: Path, run_dir: Path) -> None:
    nonce = new_nonce()
    path = _write(tmp_path, run_dir, nonce)
    size = (path / "artifact").stat().st_size
    os.truncate(path / "artifact", size // 2)
    with pytest.raises(RunnerError) as err:
        read_bundle(path, nonce=nonce)
    assert f"torn bundle: artifact is {size // 2} bytes, the manifest says {size}" in str(err.value)


def test_foreign_bundle_from_another_job(tmp_path: Path, run_dir: Path) -> None:
    mine, theirs = new_nonce(), new_nonce()
    path = _write(tmp_path, run_dir, theirs)
    with pytest.raises(RunnerError, match="foreign bundle: sealed with another job's nonce"):
        read_bundle(path, nonce=mine)


def test_foreign_bundle_moved_into_another_place(tmp_path: Path, run_dir: Path) -> None:
    """A bundle copied under another repetition's name is not that repetition's result."""
    nonce = new_nonce()
    path = _write(tmp_path, run_dir, nonce, name="1")
    shutil.copytree(path, path.with_name("2.bundle"))
    with pytest.raises(RunnerError, match="foreign bundle: sealed for job-1/1, found at job-1/2"):
        read_bundle(path.with_name("2.bundle"), nonce=nonce)


def test_changed_part_is_a_digest_mismatch(tmp_path: Path, run_dir: Path) -> None:
    nonce = new_nonce()
    path = _write(tmp_path, run_dir, nonce)
    doc = (path / "result.json").read_text().replace("1.25", "0.25")  # same length
    (path / "result.json").write_text(doc)
    with pytest.raises(RunnerError, match=r"digest mismatch: result\.json differs"):
        read_bundle(path, nonce=nonce)


def test_manifest_rewritten_to_match_is_a_digest_mismatch(tmp_path: Path, run_dir: Path) -> None:
    """Fixing up the part digests in the manifest does not help without the nonce."""
    nonce = new_nonce()
    path = _write(tmp_path, run_dir, nonce)
    (path / "result.json").write_text('{"status": "ok", "metrics": {"wall": 0.01}}')
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["parts"]["result.json"] = {
        "size": (path / "result.json").stat().st_size,
        "digest": digest(path / "result.json", "sha256"),
    }
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(RunnerError, match="digest mismatch: the manifest does not match its seal"):
        read_bundle(path, nonce=nonce)


def test_artifact_symlink_is_refused(tmp_path: Path, run_dir: Path) -> None:
    nonce = new_nonce()
    secret = tmp_path / "reference.bin"
    secret.write_bytes(b"the frozen reference")
    (run_dir / "artifact.bin").unlink()
    (run_dir / "artifact.bin").symlink_to(secret)
    with pytest.raises(RunnerError, match="cannot be opened without following links"):
        _write(tmp_path / "spool", run_dir, nonce)
    assert list_bundles(tmp_path / "spool", "job-1") == []
    assert list((tmp_path / "spool" / "job-1").iterdir()) == []


def test_bad_names_are_refused(tmp_path: Path) -> None:
    for job, name in (("../x", "0"), ("j", ".hidden"), ("j", "a/b"), ("", "0")):
        with pytest.raises(RunnerError, match=r"must be 1-128 of \[A-Za-z0-9_.-\]"):
            write_bundle(tmp_path, job, name, "n", result={}, measurements=_measurements())


def test_bad_measurements_name_the_key(tmp_path: Path) -> None:
    nonce = new_nonce()
    bad = Measurements(
        wall_seconds="fast",  # type: ignore[arg-type]
        cpu_seconds=None,
        peak_rss_bytes=None,
        instructions=None,
        isolation="none",
    )
    path = write_bundle(tmp_path, "j", "0", nonce, result={}, measurements=bad)
    with pytest.raises(
        RunnerError, match=r"measurements\.json key .wall_seconds. must be int or float"
    ):
        read_bundle(path, nonce=nonce)


def test_assembly_in_progress_is_not_listed(tmp_path: Path, run_dir: Path) -> None:
    """A worker killed mid-write leaves a .tmp- directory; the reader never sees it."""
    nonce = new_nonce()
    path = _write(tmp_path, run_dir, nonce, name="0")
    partial = path.parent / ".tmp-1-deadbeef"
    partial.mkdir()
    (partial / "result.json").write_text("{")
    assert list_bundles(tmp_path, "job-1") == [path]


def test_oversized_part_is_refused_before_it_is_read(tmp_path: Path, run_dir: Path) -> None:
    nonce = new_nonce()
    path = _write(tmp_path, run_dir, nonce)
    with (path / "stderr.tail").open("ab") as tail:
        tail.truncate(LOG_TAIL_BYTES + 1)
    with pytest.raises(
        RunnerError, match=f"stderr.tail is {LOG_TAIL_BYTES + 1} bytes, over its cap"
    ):
        read_bundle(path, nonce=nonce)

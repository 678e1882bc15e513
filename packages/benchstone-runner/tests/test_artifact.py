"""take_artifact: only a regular file the run wrote, reached without following links."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchstone.runner import RunnerError, take_artifact


def test_a_file_the_run_wrote_is_copied(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    (run_dir / "artifact").mkdir(parents=True)
    (run_dir / "artifact" / "artifact.bin").write_bytes(b"computed\n")
    taken = take_artifact(run_dir / "artifact" / "artifact.bin", run_dir, tmp_path / "taken")
    assert taken.read_bytes() == b"computed\n"


def test_a_symlinked_parent_directory_is_refused(tmp_path: Path) -> None:
    # The run may replace the harness's artifact/ directory by a link to any directory
    # holding a file of the artifact's name: the path still reads "inside the run dir".
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "artifact.bin").write_bytes(b"not the run's\n")
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "artifact").symlink_to(elsewhere)
    with pytest.raises(RunnerError, match=r"artifact_path .*symlink") as caught:
        take_artifact(run_dir / "artifact" / "artifact.bin", run_dir, tmp_path / "taken")
    assert "\n" not in str(caught.value)
    assert not (tmp_path / "taken").exists()


def test_a_path_outside_the_run_dir_is_refused(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (tmp_path / "x.bin").write_bytes(b"x")
    with pytest.raises(RunnerError, match="outside the run directory"):
        take_artifact(run_dir / ".." / "x.bin", run_dir, tmp_path / "taken")

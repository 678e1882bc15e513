from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from benchstone.store import NewRun, Store, StoreError, StorePaths, home_dir, validate_name


@pytest.mark.parametrize("name", ["Arborist", "nsga2_binpack.mean-fitness", "a", "x" * 128])
def test_valid_names_are_returned(name: str) -> None:
    assert validate_name("project", name) == name


@pytest.mark.parametrize(
    "name", ["", ".hidden", "a/b", "..", "a b", "x" * 129, "é", "a\nb", "../etc"]
)
def test_invalid_names_are_refused_in_one_line(name: str) -> None:
    with pytest.raises(StoreError) as info:
        validate_name("benchmark", name)
    message = str(info.value)
    assert "\n" not in message
    assert "benchmark name" in message and repr(name) in message


def test_non_string_name_is_refused() -> None:
    with pytest.raises(StoreError, match="must be a string"):
        validate_name("project", 5)  # type: ignore[arg-type]


def test_every_name_taking_method_validates(store: Store, make_run: Callable[..., NewRun]) -> None:
    bad = "../escape"
    calls = [
        lambda: store.append_run(make_run(project=bad)),
        lambda: store.append_run(make_run(benchmark=bad)),
        lambda: store.runs(bad),
        lambda: store.runs("ok", bad),
        lambda: store.benchmarks(bad),
        lambda: store.baseline(bad, "b"),
        lambda: store.baseline_history("p", bad),
        lambda: store.reference(bad, "b"),
        lambda: store.reference_history("p", bad),
        lambda: store.evaluations(bad, "b"),
        lambda: store.register(bad, "/x", "sha256:00"),
        lambda: store.unregister(bad),
        lambda: store.project(bad),
        lambda: store.paths.logs(bad, "b"),
        lambda: store.paths.diffs("p", bad),
        lambda: store.paths.artifacts(bad, "b"),
    ]
    for call in calls:
        with pytest.raises(StoreError, match="escape"):
            call()


def test_store_paths_layout(tmp_path: Path) -> None:
    paths = StorePaths(tmp_path)
    assert paths.db == tmp_path / "benchstone.db"
    assert paths.blobs == tmp_path / "artifacts" / "sha256"
    assert paths.artifacts("P", "b") == tmp_path / "artifacts" / "projects" / "P" / "b"
    assert paths.logs("P", "b") == tmp_path / "logs" / "P" / "b"
    assert paths.diffs("P", "b") == tmp_path / "diffs" / "P" / "b"
    assert paths.jobs == tmp_path / "jobs"
    assert paths.listings == tmp_path / "listings"
    assert paths.tmp == tmp_path / "tmp"
    # a project called "sha256" cannot reach into the blob tree
    assert not paths.artifacts("sha256", "ab").is_relative_to(paths.blobs)
    assert list(tmp_path.iterdir()) == []  # pure path arithmetic


def test_home_dir_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BENCHSTONE_HOME", str(tmp_path / "h"))
    assert home_dir() == tmp_path / "h"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BENCHSTONE_HOME", "rel")
    assert home_dir() == tmp_path / "rel"


def test_home_dir_default_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """SPEC: $XDG_DATA_HOME/benchstone, else ~/.local/share/benchstone."""
    monkeypatch.delenv("BENCHSTONE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert home_dir() == tmp_path / "xdg" / "benchstone"
    for unusable in ("", "  ", "relative/data"):  # the XDG spec: ignore a relative path
        monkeypatch.setenv("XDG_DATA_HOME", unusable)
        assert home_dir() == tmp_path / "user" / ".local" / "share" / "benchstone"
    monkeypatch.delenv("XDG_DATA_HOME")
    assert home_dir() == tmp_path / "user" / ".local" / "share" / "benchstone"


def test_open_without_home_uses_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("BENCHSTONE_HOME", str(tmp_path / "envhome"))
    with Store.open() as store:
        assert store.paths.home == tmp_path / "envhome"
    assert (tmp_path / "envhome" / "benchstone.db").is_file()

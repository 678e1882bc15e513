"""`bench --version` answers from a constant; it must match the installed distribution."""

from __future__ import annotations

from importlib.metadata import version

from click.testing import CliRunner

from benchstone.cli import main
from benchstone.cli._app import cli
from benchstone.cli._version import VERSION


def test_version_constant_matches_the_distribution() -> None:
    assert version("benchstone-cli") == VERSION


def test_fast_path_and_click_agree(capsys) -> None:
    assert main(["--version"]) == 0
    fast = capsys.readouterr().out
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert fast == result.output == f"bench, version {VERSION}\n"

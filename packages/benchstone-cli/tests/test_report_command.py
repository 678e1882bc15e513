"""`bench report` in-process: one call of benchstone.report, errors as one line."""

from __future__ import annotations

from click.testing import CliRunner

from benchstone.cli._app import cli
from benchstone.store import NewRun, Store


def test_report_markdown_and_unknown_project(home) -> None:
    with Store.open(home) as store:
        store.register("P", "/src/p", "sha256:" + "1" * 64)
        store.append_run(
            NewRun(project="P", benchmark="b", git_sha="a" * 40, status="ok", metric=1.5)
        )
    runner = CliRunner()
    result = runner.invoke(cli, ["report", "--format", "markdown"])
    assert result.exit_code == 0, result.output
    assert "P/b" in result.output


def test_report_unknown_project_is_one_error_line(home, capsys) -> None:
    from benchstone.cli import main

    with Store.open(home) as store:
        store.register("P", "/src/p", "sha256:" + "1" * 64)
    assert main(["report", "--project", "nope"]) == 10
    err = capsys.readouterr().err
    assert err.startswith("Error: ") and err.count("\n") == 1


def test_report_csv_to_a_file(home, tmp_path) -> None:
    with Store.open(home) as store:
        store.register("P", "/src/p", "sha256:" + "1" * 64)
        store.append_run(
            NewRun(project="P", benchmark="b", git_sha="a" * 40, status="ok", metric=2.5)
        )
    out = tmp_path / "runs.csv"
    result = CliRunner().invoke(cli, ["report", "--format", "csv", "--output", str(out)])
    assert result.exit_code == 0, result.output
    header, row = out.read_text().splitlines()[:2]
    assert "git_sha" in header and "2.5" in row

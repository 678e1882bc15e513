"""`bench init`: scaffold a project's bench/manifest.toml and runner."""

from __future__ import annotations

import click

from benchstone.cli._common import command_errors, emit_json, json_option


@click.command(name="init")
@click.argument("path", default=".", type=click.Path(file_okay=False))
@click.option(
    "--runner",
    "runner",
    type=click.Choice(["python", "shell"]),
    default="python",
    show_default=True,
    help="python: bench/runner.py on benchstone.protocol; shell: bench/runner.sh (sh + awk).",
)
@click.option("--name", default=None, help="Project name (default: the directory's name).")
@json_option
@command_errors
def init(path: str, runner: str, name: str | None, as_json: bool) -> int:
    """Create bench/manifest.toml (one benchmark per tier) and a working runner in PATH.

    Refuses, writing nothing, if either file exists.
    """
    from benchstone import api

    report = api.init_project(path, runner=runner, name=name)
    if as_json:
        emit_json(report.to_dict())
        return 0
    for rel in report.files:
        click.echo(f"created {rel}")
    click.echo(
        f"project {report.project}: benchmarks {', '.join(report.benchmarks)} "
        "(performance, quality, correctness)"
    )
    click.echo("next:")
    for step in report.next_steps:
        click.echo(f"  {step}")
    return 0

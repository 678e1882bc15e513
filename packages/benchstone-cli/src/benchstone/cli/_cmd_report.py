"""`bench report`: the store as Markdown (CI job summary), HTML (charts), CSV or JSON."""

from __future__ import annotations

import click

from benchstone.cli._common import command_errors


@click.command()
@click.option("--project", "project", default=None, help="Only this project.")
@click.option(
    "--benchmark", "benchmark", default=None, help="Only this benchmark (needs --project)."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["markdown", "html", "csv", "json"]),
    default="markdown",
    show_default=True,
    help="markdown for a CI job summary or PR comment; html: one offline file with charts.",
)
@click.option(
    "--output",
    "output",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write here instead of stdout.",
)
@command_errors
def report(project: str | None, benchmark: str | None, fmt: str, output: str | None) -> int:
    """Report every benchmark's latest verdict, baseline and trend (reads the store only)."""
    import sys

    from benchstone.report import write_report

    if output is None:
        write_report(sys.stdout, project=project, benchmark=benchmark, fmt=fmt)
    else:
        with open(output, "w", encoding="utf-8", newline="") as out:
            write_report(out, project=project, benchmark=benchmark, fmt=fmt)
    return 0

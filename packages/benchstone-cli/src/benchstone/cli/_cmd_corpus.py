"""`bench corpus hash PATH`, `bench corpus verify PROJECT BENCHMARK` and
`bench corpus import PROJECT BENCHMARK PATH` (held-out corpora)."""

from __future__ import annotations

import click

from benchstone.cli._common import command_errors, echo_lines, emit_json, json_option

ALGORITHM_CHOICES = ("blake3", "sha256", "xxh3-128")
algo_option = click.option(
    "--algo",
    type=click.Choice(ALGORITHM_CHOICES),
    default="blake3",
    show_default=True,
    help="blake3 (default), sha256 (= sha256sum), or xxh3-128 (trusted corpora only).",
)


@click.group()
def corpus() -> None:
    """Pin a corpus (print its manifest lines), check one against its pin, or import a
    held-out corpus into the store."""


@corpus.command(name="hash")
@click.argument("path", type=click.Path(exists=True))
@algo_option
@json_option
@command_errors
def hash_command(path: str, algo: str, as_json: bool) -> int:
    """Print the corpus_hash / corpus_type lines that pin PATH in a manifest."""
    from benchstone import api
    from benchstone.cli._progress import ByteProgress

    progress = ByteProgress("hashing", enabled=False if as_json else None)
    try:
        pin = api.pin_corpus(path, algo=algo, progress=progress)
    finally:
        progress.close()
    if as_json:
        emit_json(pin.to_dict())
        return 0
    echo_lines(list(pin.manifest_lines))
    click.echo(f"# {pin.files} file(s), {pin.bytes} byte(s) at {pin.path}", err=True)
    return 0


@corpus.command(name="verify")
@click.argument("project")
@click.argument("benchmark")
@json_option
@command_errors
def verify_command(project: str, benchmark: str, as_json: bool) -> int:
    """Check BENCHMARK's corpus against its pin: exit 0 ok, 1 drift or missing."""
    from benchstone import api
    from benchstone.cli._progress import ByteProgress

    progress = ByteProgress("verifying", enabled=False if as_json else None)
    try:
        status = api.verify_corpus(project, benchmark, progress=progress)
    finally:
        progress.close()
    code = 0 if status.usable else 1
    if as_json:
        emit_json(dict(status.to_dict(), project=project, benchmark=benchmark))
        return code
    if status.state == "ok":
        click.echo(f"corpus ok: {project}/{benchmark}  {status.path}  {status.actual}")
    elif status.state in ("n/a", "unpinned"):
        click.echo(f"corpus {status.state}: {project}/{benchmark} declares no pinned corpus")
    else:
        click.echo(f"corpus {status.state}: {project}/{benchmark}  {status.describe()}")
    return code


@corpus.command(name="import")
@click.argument("project")
@click.argument("benchmark")
@click.argument("path", type=click.Path(exists=True))
@algo_option
@click.option("--reason", help="Why the inputs changed (required to replace an imported corpus).")
@json_option
@command_errors
def import_command(
    project: str, benchmark: str, path: str, algo: str, reason: str | None, as_json: bool
) -> int:
    """Copy PATH into the store as BENCHMARK's held-out corpus (held_out = true).

    Its runs see it read-only at corpus_path inside the strict sandbox; PATH must lie
    outside the project, and may be deleted afterwards.
    """
    from benchstone import api
    from benchstone.cli._progress import ByteProgress

    progress = ByteProgress("hashing", enabled=False if as_json else None)
    try:
        report = api.import_corpus(
            project, benchmark, path, algo=algo, reason=reason, progress=progress
        )
    finally:
        progress.close()
    if as_json:
        emit_json(report.to_dict())
        return 0
    event = report.event
    verb = "imported" if event.action == "import" else "replaced"
    click.echo(
        f"held-out corpus {verb}: {report.project}/{report.benchmark} -> {event.digest}  "
        f"({event.corpus_type}, {event.files} file(s), {event.bytes} byte(s))"
    )
    return 0

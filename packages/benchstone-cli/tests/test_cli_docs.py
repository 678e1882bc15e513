"""docs/cli.md against the click commands themselves: every command has its section and a
row in the overview table, every option is named in its section, and every documented
command exists. The commands are walked the way click resolves them (``list_commands`` /
``get_command``), so a command added (or a lazily loaded group) is seen as users see it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from benchstone.cli._app import cli

DOCS = Path(__file__).resolve().parents[3] / "docs" / "cli.md"


def _commands(
    group: click.Group, ctx: click.Context, prefix: tuple[str, ...] = ()
) -> Iterator[tuple[str, click.Command]]:
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, name
        if command.hidden:
            continue
        path = (*prefix, name)
        if isinstance(command, click.Group):
            yield from _commands(command, click.Context(command, parent=ctx, info_name=name), path)
        else:
            yield " ".join(path), command


COMMANDS = dict(_commands(cli, click.Context(cli, info_name="bench")))


def _sections() -> dict[str, str]:
    """``## `bench X` `` heading → that section's text, up to the next heading or rule
    outside a code block (console examples have ``# comment`` lines of their own)."""
    sections: dict[str, str] = {}
    current: str | None = None
    fenced = False
    for line in DOCS.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            fenced = not fenced
        found = None if fenced else re.fullmatch(r"## `bench ([a-z][a-z -]*)`", line)
        if found:
            current = found.group(1)
            assert current not in sections, f"{DOCS}: two sections for bench {current}"
            sections[current] = ""
        elif not fenced and (line.startswith("#") or line == "---"):
            current = None
        elif current is not None:
            sections[current] += line + "\n"
    return sections


SECTIONS = _sections()


def _flags(command: click.Command) -> list[str]:
    return [
        flag
        for param in command.params
        if isinstance(param, click.Option) and not param.hidden
        for flag in (*param.opts, *param.secondary_opts)
    ]


def _named(flag: str, text: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", text) is not None


def test_the_walk_sees_the_commands() -> None:
    # A guard on the walk itself: if it found nothing, every test below would pass.
    assert {"register", "run", "evaluate", "baseline establish", "corpus hash"} <= set(COMMANDS)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_has_a_section(name: str) -> None:
    assert name in SECTIONS, f"{DOCS}: no section ## `bench {name}`"


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_option_is_documented_in_its_section(name: str) -> None:
    text = SECTIONS.get(name, "")
    missing = [flag for flag in _flags(COMMANDS[name]) if not _named(flag, text)]
    assert missing == [], f"{DOCS}: bench {name}: options not documented: {missing}"


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_is_in_the_overview_table(name: str) -> None:
    head = DOCS.read_text(encoding="utf-8").split("\n## ", 1)[0]
    anchor = "#bench-" + name.replace(" ", "-")
    assert f"]({anchor})" in head, f"{DOCS}: the command table has no row for bench {name}"


def test_every_documented_command_exists() -> None:
    assert set(SECTIONS) - set(COMMANDS) == set()


def test_the_top_level_options_are_documented() -> None:
    head = DOCS.read_text(encoding="utf-8").split("\n## ", 1)[0]
    for flag in [*_flags(cli), "--help", "-h"]:
        assert _named(flag, head), flag

"""The click-free `bench evaluate` (cli/_fast.py) reads what click reads and answers alike.

It exists for speed only, so it must never be a second definition of the command: every
parameter of the click command is in its table with the same kind, every command line it
takes is parsed by click to the same parameters, the ones it does not take go to click,
and on a real project both paths print the same lines and exit with the same code.
"""

from __future__ import annotations

import json

import click
import pytest
from _support import commit_all, write_level
from click.testing import CliRunner

from benchstone.cli import main
from benchstone.cli._app import cli
from benchstone.cli._fast import FAST_COMMANDS, parse


def _click_params(name: str, args: list[str]) -> dict[str, object]:
    command = cli.commands[name] if name in cli.commands else cli.get_command(None, name)
    return dict(command.make_context(name, list(args)).params)


@pytest.mark.parametrize("name", sorted(FAST_COMMANDS))
def test_the_table_is_the_click_commands_parameters(name: str) -> None:
    spec = FAST_COMMANDS[name]
    command = cli.get_command(click.Context(cli), name)
    assert command is not None
    arguments = tuple(p.name for p in command.params if isinstance(p, click.Argument))
    flags = {
        opt: p.name
        for p in command.params
        if isinstance(p, click.Option) and p.is_flag and p.name != "help"
        for opt in p.opts
    }
    options = {
        opt: (p.name, tuple(p.type.choices))
        for p in command.params
        if isinstance(p, click.Option) and not p.is_flag
        for opt in p.opts
    }
    assert spec.arguments == arguments
    assert spec.flags == flags
    assert spec.options == options


PLAIN = [
    ["evaluate", "p", "b"],
    ["evaluate", "p", "b", "--json"],
    ["evaluate", "--json", "p", "b"],
    ["evaluate", "p", "--allow-dirty", "b", "--warn-only"],
    ["evaluate", "p", "b", "--expect", "PROMOTE"],
    ["evaluate", "--expect", "STALE", "--json", "p", "b", "--allow-dirty"],
]

NOT_PLAIN = [
    ["evaluate"],
    ["evaluate", "p"],
    ["evaluate", "p", "b", "c"],
    ["evaluate", "p", "b", "--help"],
    ["evaluate", "-h"],
    ["evaluate", "p", "b", "--expect=PROMOTE"],
    ["evaluate", "p", "b", "--expect", "promote"],
    ["evaluate", "p", "b", "--expect"],
    ["evaluate", "p", "b", "--json", "--json"],
    ["evaluate", "p", "b", "--jsn"],
    ["evaluate", "p", "b", "--", "x"],
    ["evaluate", "-", "b"],
    ["--help", "evaluate", "p", "b"],
    ["history", "p", "b"],
    [],
]


@pytest.mark.parametrize("args", PLAIN, ids=" ".join)
def test_a_plain_command_line_parses_as_click_parses_it(args: list[str]) -> None:
    parsed = parse(args)
    assert parsed is not None
    _, params = parsed
    assert params == _click_params(args[0], args[1:])


@pytest.mark.parametrize("args", NOT_PLAIN, ids=lambda a: " ".join(a) or "(none)")
def test_anything_else_is_left_to_click(args: list[str]) -> None:
    assert parse(args) is None


def _both(args: list[str]) -> tuple[tuple[int, str, str], tuple[int, str, str]]:
    """``args`` through the entry point (click-free for a plain line) and through click."""
    from benchstone.cli._app import main as click_main

    results = []
    for run in (main, click_main):
        with CliRunner().isolation() as (stdout, stderr, _):
            code = run(list(args))
        results.append((code, stdout.getvalue().decode(), stderr.getvalue().decode()))
    return results[0], results[1]


def test_both_paths_answer_the_same_on_a_real_project(bench, make_python_project) -> None:
    root = make_python_project("fast")  # `speed`: 4 repetitions, 2 sigma, minimize
    assert bench("register", str(root)).code == 0
    assert bench("baseline", "establish", "fast", "speed").code == 0
    write_level(root, 0.5)
    commit_all(root, "twice as fast")
    assert bench("run", "fast", "speed").code == 0
    seen_codes = set()
    for args in (
        ["evaluate", "fast", "speed"],
        ["evaluate", "fast", "speed", "--json"],
        ["evaluate", "fast", "speed", "--expect", "PROMOTE"],
        ["evaluate", "fast", "speed", "--expect", "REJECT"],
        ["evaluate", "fast", "speed", "--expect", "REJECT", "--json"],
        ["evaluate", "fast", "speed", "--warn-only", "--expect", "PROMOTE"],
        ["evaluate", "nosuch", "speed"],
        ["evaluate", "fast", "nosuch", "--json"],
    ):
        assert parse(args) is not None
        fast, slow = _both(args)
        assert fast == slow, args
        seen_codes.add(fast[0])
    assert seen_codes >= {0, 4, 10}  # PROMOTE, a failed --expect, an Error: line
    document = json.loads(_both(["evaluate", "fast", "speed", "--json"])[0][1])
    assert document["kind"] == "PROMOTE"
    write_level(root, 0.5)  # unchanged content: still clean
    (root / "level.txt").write_text("2.0 0.01\n")  # dirty tree: STALE
    fast, slow = _both(["evaluate", "fast", "speed"])
    assert fast == slow and fast[0] == 5


@pytest.mark.parametrize("encoding", ["ascii", "utf-8"])
def test_lines_are_written_as_click_writes_them_whatever_the_stream_encoding(
    encoding: str,
) -> None:
    """A verdict line says "2.44× slower": an ASCII stdout must not turn it into an error."""
    import os
    import subprocess
    import sys

    line = "effect: 2.44× slower (σ ≥ 2)"
    env = {**os.environ, "PYTHONIOENCODING": encoding}
    written = {}
    for name, code in (
        ("ours", "from benchstone.cli._output import echo; echo(LINE); echo(LINE, err=True)"),
        ("click", "import click; click.echo(LINE); click.echo(LINE, err=True)"),
    ):
        done = subprocess.run(
            [sys.executable, "-c", f"LINE = {line!r}\n{code}"], env=env, capture_output=True
        )
        assert done.returncode == 0, done.stderr
        written[name] = (done.stdout, done.stderr)
    assert written["ours"] == written["click"]

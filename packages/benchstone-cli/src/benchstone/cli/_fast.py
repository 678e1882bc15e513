"""`bench evaluate P B [--json] [--expect KIND] [--warn-only] [--allow-dirty]` without click.

Agent loops call `bench evaluate` thousands of times; importing click (and the ``inspect``,
``uuid`` and ``datetime`` it loads) is about a third of such a call's start-up, for a
command line that needs no parsing library. So :func:`fast_main` reads exactly the plain
forms of the command lines in :data:`FAST_COMMANDS` (each option spelled out, once, with
its value as the next word) and hands everything else to the click app unchanged: help,
``--opt=value``, abbreviations, unknown options, a missing or extra argument, an invalid
choice. The click command stays the definition (its help, its errors, docs/cli.md); a
test holds each entry here to the click command's parameters and parses the same command
lines both ways. The command's body is shared (``_cmd_evaluate``), so the answer is the
same whichever parser read the line.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from benchstone.api._exit_codes import VERDICT_EXIT_CODES


class FastCommand:
    """The plain form of one command line: its arguments, flags and choice options.

    A plain class: a NamedTuple or a dataclass would cost more to declare, at every call,
    than parsing the line does."""

    __slots__ = ("arguments", "flags", "options", "run")

    def __init__(
        self,
        *,
        arguments: tuple[str, ...],
        flags: dict[str, str],
        options: dict[str, tuple[str, tuple[str, ...]]],
        run: str,
    ) -> None:
        self.arguments = arguments  # parameter names, in order
        self.flags = flags  # "--warn-only" -> "warn_only"
        self.options = options  # "--expect" -> ("expect", its choices)
        self.run = run  # "module:function", called with the parameters as keywords


FAST_COMMANDS: dict[str, FastCommand] = {
    "evaluate": FastCommand(
        arguments=("project", "benchmark"),
        flags={"--warn-only": "warn_only", "--allow-dirty": "allow_dirty", "--json": "as_json"},
        options={"--expect": ("expect", tuple(sorted(VERDICT_EXIT_CODES)))},
        run="benchstone.cli._cmd_evaluate:evaluate_command",
    ),
}


def parse(args: list[str]) -> tuple[FastCommand, dict[str, Any]] | None:
    """The command and its parameters if ``args`` is a plain form, else None (use click)."""
    if not args or args[0] not in FAST_COMMANDS:
        return None
    command = FAST_COMMANDS[args[0]]
    params: dict[str, Any] = {name: False for name in command.flags.values()}
    params.update({name: None for name, _ in command.options.values()})
    seen: set[str] = set()
    positional: list[str] = []
    words = iter(args[1:])
    for word in words:
        if not word.startswith("-"):
            positional.append(word)
            continue
        if word in seen:
            return None
        seen.add(word)
        if word in command.flags:
            params[command.flags[word]] = True
        elif word in command.options:
            name, choices = command.options[word]
            value = next(words, None)
            if value not in choices:
                return None
            params[name] = value
        else:
            return None
    if len(positional) != len(command.arguments):
        return None
    params.update(zip(command.arguments, positional, strict=True))
    return command, params


def fast_main(args: list[str], *, console: bool) -> int | None:
    """Run ``args`` if it is a plain form; None when the click app must read it."""
    parsed = parse(args)
    if parsed is None:
        return None
    command, params = parsed
    from benchstone.cli._signals import handle_termination, interrupted

    module_name, _, attribute = command.run.partition(":")
    run: Callable[..., int] = getattr(importlib.import_module(module_name), attribute)
    if console:
        handle_termination()
    try:
        return run(**params)
    except KeyboardInterrupt as exc:
        return interrupted(exc)

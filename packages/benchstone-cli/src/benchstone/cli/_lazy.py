"""A click group whose subcommands are imported only when they are invoked.

`bench` answers agent loops thousands of times, and most of its commands pull in their
own corner of the library; a command family that lives in its own module should cost
nothing to a call of another command. This is click's documented lazy-loading pattern
(`LazyGroup`, "Advanced patterns" in the click docs): the group knows each command's
name and where it lives, lists them for `--help`, and imports one on first use.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

import click


class LazyGroup(click.Group):
    """A group with ``lazy_commands``: command name -> ``"package.module:attribute"``."""

    def __init__(self, *args: Any, lazy_commands: Mapping[str, str] | None = None, **kw: Any):
        super().__init__(*args, **kw)
        self.lazy_commands = dict(lazy_commands or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy_commands and cmd_name not in self.commands:
            self.add_command(self._load(cmd_name), cmd_name)
        return super().get_command(ctx, cmd_name)

    def _load(self, cmd_name: str) -> click.Command:
        module_name, _, attribute = self.lazy_commands[cmd_name].partition(":")
        command = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(
                f"lazy command {cmd_name!r}: {self.lazy_commands[cmd_name]} is "
                f"{type(command).__name__}, not a click command"
            )
        return command

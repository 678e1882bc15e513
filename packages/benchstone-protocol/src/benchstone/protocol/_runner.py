"""The runner-author helper: entry points in, a result file out, whatever happens.

The harness can only learn what went wrong from the result file, so after a readable
command line this module always writes one: an unreadable config, an unknown entry point,
an exception or a bad return value all become ``status="error"`` results with a message.
"""

from __future__ import annotations

import argparse
import dataclasses
import numbers
import sys
import time
import traceback
from collections.abc import Callable, Mapping
from typing import Any, NoReturn, TypeVar, overload

from benchstone.protocol._config import InvocationConfig
from benchstone.protocol._errors import ProtocolError
from benchstone.protocol._result import ProjectResult

EntryFunction = TypeVar("EntryFunction", bound=Callable[[InvocationConfig], Any])

_DICT_KEYS = ("metric", "metric_components", "metadata", "wall_clock_seconds")
_EXIT_WRITTEN = 0
_EXIT_UNWRITABLE = 1
_EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad command line is one line on stderr and exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(
            _EXIT_USAGE,
            f"{self.prog}: error: {message}; usage: {self.prog} "
            "[--entry NAME] --config PATH --output PATH\n",
        )


def _non_empty(text: str) -> str:
    if not text:
        raise argparse.ArgumentTypeError("must not be empty")
    return text


class Runner:
    """A registry of entry points and the ``main()`` that dispatches one of them.

    The registry lives on the instance (not the module) so two runners in one process, or a
    test building its own, never see each other's entry points.
    """

    def __init__(self) -> None:
        self._entries: dict[str, Callable[[InvocationConfig], Any]] = {}

    @property
    def entry_points(self) -> tuple[str, ...]:
        """Registered names, in registration order."""
        return tuple(self._entries)

    @overload
    def entry_point(self, func: EntryFunction, *, name: str | None = None) -> EntryFunction: ...

    @overload
    def entry_point(
        self, func: None = None, *, name: str | None = None
    ) -> Callable[[EntryFunction], EntryFunction]: ...

    def entry_point(
        self, func: EntryFunction | None = None, *, name: str | None = None
    ) -> EntryFunction | Callable[[EntryFunction], EntryFunction]:
        """Register ``func`` under ``name`` (default: its ``__name__``); returns it unchanged.

        Works bare (``@runner.entry_point``) and called (``@runner.entry_point(name="x")``).
        """

        def register(target: EntryFunction) -> EntryFunction:
            if not callable(target):
                raise ProtocolError(
                    f"entry point {name!r}: {target!r} is not callable; decorate a function"
                )
            key = name if name is not None else getattr(target, "__name__", None)
            if not isinstance(key, str) or not key or any(ch.isspace() for ch in key):
                raise ProtocolError(
                    f"entry point name {key!r} is not usable on a command line; "
                    "pass name='...' without spaces"
                )
            if key in self._entries:
                raise ProtocolError(
                    f"entry point {key!r} is registered twice; give one of them another "
                    "name with @runner.entry_point(name=...)"
                )
            self._entries[key] = target
            return target

        if func is None:
            return register
        return register(func)

    def main(self, argv: list[str] | None = None) -> NoReturn:
        """Parse ``--entry/--config/--output``, run the entry point, write the result, exit.

        Exit 0 whenever a result file was written (an error result included: the status is
        in the file), 1 when the result file cannot be written, 2 on a bad command line.
        """
        parser = _Parser(
            description="Run one benchmark entry point under the benchstone protocol.",
            allow_abbrev=False,
        )
        parser.add_argument(
            "--entry",
            type=_non_empty,
            metavar="NAME",
            help="entry point to run (default: the only one, else the config's benchmark name)",
        )
        parser.add_argument(
            "--config",
            type=_non_empty,
            required=True,
            metavar="PATH",
            help="InvocationConfig JSON written by the harness",
        )
        parser.add_argument(
            "--output",
            type=_non_empty,
            required=True,
            metavar="PATH",
            help="where to write the ProjectResult JSON",
        )
        args = parser.parse_args(argv)
        result = self._produce(args.entry, args.config)
        try:
            result.write(args.output)
        except ProtocolError as exc:
            print(f"{parser.prog}: error: {exc}", file=sys.stderr)
            raise SystemExit(_EXIT_UNWRITABLE) from None
        raise SystemExit(_EXIT_WRITTEN)

    def _produce(self, entry: str | None, config_path: str) -> ProjectResult:
        try:
            config = InvocationConfig.read(config_path)
        except ProtocolError as exc:
            return _error(f"ProtocolError: cannot read the invocation config: {exc}")
        name = entry or self._default_entry(config)
        func = self._entries.get(name)
        if func is None:
            return _error(self._unknown(name))
        started = time.perf_counter()
        try:
            value = func(config)
        except Exception as exc:
            elapsed = time.perf_counter() - started
            traceback.print_exc(file=sys.stderr)  # the harness keeps stderr in its run log
            return _error(_describe(exc), elapsed)
        elapsed = time.perf_counter() - started
        try:
            return _as_result(name, value, elapsed)
        except ProtocolError as exc:
            return _error(
                f"ProtocolError: entry point {name!r} returned a bad result: {exc}", elapsed
            )

    def _default_entry(self, config: InvocationConfig) -> str:
        """With no ``--entry``: the only entry point, else the one named like the benchmark."""
        if len(self._entries) == 1:
            return next(iter(self._entries))
        return config.benchmark

    def _unknown(self, name: str) -> str:
        if not self._entries:
            return (
                f"ProtocolError: unknown entry point {name!r}: this runner registers none; "
                "decorate a function with @runner.entry_point"
            )
        known = ", ".join(repr(k) for k in self._entries)
        return f"ProtocolError: unknown entry point {name!r}; this runner knows {known}"


def _error(message: str, elapsed: float | None = None) -> ProjectResult:
    return ProjectResult(status="error", message=message, wall_clock_seconds=elapsed)


def _describe(exc: BaseException) -> str:
    """``ExcType: message``, or just ``ExcType`` when the exception says nothing."""
    text = str(exc)
    kind = type(exc).__name__
    return f"{kind}: {text}" if text.strip() else kind


def _metric(value: Any) -> Any:
    """numpy and other numbers.Real scalars become float; anything else is left to validate."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool | int | float):
        try:
            return float(value)
        except (OverflowError, ValueError):
            return value
    return value


def _as_result(name: str, value: Any, elapsed: float) -> ProjectResult:
    """Turn what an entry point returned into a result; our timing fills in wall clock."""
    if isinstance(value, ProjectResult):
        if value.wall_clock_seconds is None:
            return dataclasses.replace(value, wall_clock_seconds=elapsed)
        return value
    if isinstance(value, Mapping):
        unknown = sorted(str(k) for k in value if k not in _DICT_KEYS)
        if unknown:
            raise ProtocolError(
                f"unexpected key {unknown[0]!r} in the returned dict; use "
                f"{', '.join(_DICT_KEYS)}, or return a ProjectResult"
            )
        if "metric" not in value:
            raise ProtocolError("the returned dict has no 'metric'; add the measured number")
        fields = dict(value)
        fields["metric"] = _metric(fields["metric"])
        fields.setdefault("wall_clock_seconds", elapsed)
        return ProjectResult(status="ok", **fields)
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return ProjectResult(status="ok", metric=_metric(value), wall_clock_seconds=elapsed)
    raise ProtocolError(
        f"got a {type(value).__name__}; return a number (the metric), a dict with 'metric', "
        "or a ProjectResult"
    )

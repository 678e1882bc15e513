"""The machinery under the manifest schema: one TOML table being checked, and value kinds.

A kind knows one TOML type and its range (an integer >= 1, a choice, a digest) and how to
say it in the docs' type column; a ``Key`` adds a key's default, its doc line and the rule
that ties it to the keys before it. The schema itself (which keys exist) is the spec
records in ``_manifest``: their fields are the table, so adding a key is one entry.
Every error is one line: ``<path>: <where>key 'k': problem, got v; what would be right``.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Mapping
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any, Final, Protocol

from benchstone.runner._errors import ManifestError
from benchstone.store import Record, field

MISSING: Final = object()

_ARTICLED_TYPES: Final = (
    (bool, "a boolean"),
    (int, "an integer"),
    (float, "a float"),
    (str, "a string"),
    (list, "an array"),
    (dict, "a table"),
)


def show(value: object) -> str:
    """``repr`` clipped to one short line, with the TOML type it was written as."""
    text = repr(value)
    if len(text) > 80:
        text = text[:77] + "..."
    kind = next((name for typ, name in _ARTICLED_TYPES if isinstance(value, typ)), None)
    return f"{text} ({kind or 'a ' + type(value).__name__})"


def choices(values: tuple[str, ...] | list[str]) -> str:
    return ", ".join(repr(v) for v in values)


def did_you_mean(word: object, candidates: tuple[str, ...] | list[str]) -> str | None:
    if not isinstance(word, str):
        return None
    close = difflib.get_close_matches(word, candidates, n=1)
    return f"did you mean {close[0]!r}?" if close else None


class Table:
    """One TOML table being validated, with the context every message needs.

    ``where`` is the message prefix after the path: ``"[project] "``, ``"benchmark 'x': "``
    or ``""`` for the top level. Warnings collected here carry the same prefix.
    """

    def __init__(
        self, path: Path, where: str, data: Mapping[str, Any], warnings: list[str] | None = None
    ) -> None:
        self.path = path
        self.where = where
        self.data = data
        self.warnings: list[str] = [] if warnings is None else warnings

    def error(
        self, key: str, problem: str, value: object = MISSING, right: str | None = None
    ) -> ManifestError:
        message = f"{self.path}: {self.where}key {key!r}: {problem}"
        if value is not MISSING:
            message += f", got {show(value)}"
        if right:
            message += f"; {right}"
        return ManifestError(message)

    def warn(self, text: str) -> None:
        self.warnings.append(f"{self.path}: {self.where}{text}")

    def reject_unknown(self, known: tuple[str, ...]) -> None:
        for key in self.data:
            if key not in known:
                right = did_you_mean(key, known) or f"known keys are {choices(known)}"
                raise self.error(key, "unknown key", right=right)

    def has(self, key: str) -> bool:
        return key in self.data

    def require(self, key: str, right: str) -> object:
        if key not in self.data:
            raise self.error(key, "missing", right=right)
        return self.data[key]


# --- value kinds: one TOML type and its range each ------------------------------------


class Kind(Protocol):
    """Checks one raw TOML value; ``doc`` is how the docs' type column says it."""

    @property
    def doc(self) -> str: ...

    def parse(self, table: Table, key: str, value: object) -> Any: ...


class Text(Record):
    right: str | None = None  # what to write instead, when the value is not a string
    doc: str = "string"

    def parse(self, table: Table, key: str, value: object) -> str:
        if not isinstance(value, str) or not value.strip():
            raise table.error(key, "must be a non-empty string", value, self.right)
        return value


class Choice(Record):
    values: tuple[str, ...]

    @property
    def doc(self) -> str:
        return " \\| ".join(f'`"{v}"`' for v in self.values)

    def parse(self, table: Table, key: str, value: object) -> str:
        if not isinstance(value, str) or value not in self.values:
            right = did_you_mean(value, self.values) or "use one of those"
            raise table.error(key, f"must be one of {choices(self.values)}", value, right)
        return value


class Boolean(Record):
    doc: str = "boolean"

    def parse(self, table: Table, key: str, value: object) -> bool:
        if not isinstance(value, bool):
            raise table.error(key, "must be a boolean", value, "write true or false, unquoted")
        return value


class Integer(Record):
    minimum: int
    maximum: int | None = None

    @property
    def doc(self) -> str:
        if self.maximum is None:
            return f"integer ≥ {self.minimum}"
        return f"integer, {self.minimum} to {self.maximum}"

    def parse(self, table: Table, key: str, value: object) -> int:
        rule = f"an integer >= {self.minimum}"
        if self.maximum is not None:
            rule += f" and <= {self.maximum}"
        if isinstance(value, bool) or not isinstance(value, int):
            raise table.error(key, f"must be {rule}", value, "write a bare integer")
        if value < self.minimum or (self.maximum is not None and value > self.maximum):
            raise table.error(key, f"must be {rule}", value)
        return value


class Number(Record):
    """A finite number; ints count as floats, booleans and strings do not."""

    minimum: float
    inclusive: bool

    @property
    def doc(self) -> str:
        return f"number {'≥' if self.inclusive else '>'} {self.minimum:g}"

    def parse(self, table: Table, key: str, value: object) -> float:
        rule = f"a finite number {'>=' if self.inclusive else '>'} {self.minimum:g}"
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise table.error(key, f"must be {rule}", value, "write a bare number")
        number = float(value)
        in_range = number >= self.minimum if self.inclusive else number > self.minimum
        if not math.isfinite(number) or not in_range:
            raise table.error(key, f"must be {rule}", value)
        return number


def relative_path_problem(text: str) -> str | None:
    """Why ``text`` is not a relative path that stays inside the project, or None."""
    if not text:
        return "must not be empty"
    if "\0" in text:
        return "must not contain a NUL character"
    if text.startswith("~") or PurePosixPath(text).is_absolute() or PureWindowsPath(text).anchor:
        return "must be relative to the project root"
    depth = 0
    for part in PurePosixPath(text).parts:
        depth += -1 if part == ".." else 0 if part == "." else 1
        if depth < 0:
            return "escapes the project root with '..'"
    return None


class RelativePath(Record):
    doc: str = "string"

    def parse(self, table: Table, key: str, value: object) -> str:
        if not isinstance(value, str):
            raise table.error(key, "must be a string path", value, "write a relative path")
        problem = relative_path_problem(value)
        if problem:
            raise table.error(
                key, problem, value, "write a path relative to the project root, inside it"
            )
        return value


def _array(table: Table, key: str, value: object) -> list[Any]:
    if not isinstance(value, list):
        raise table.error(key, "must be an array", value, "write [ ... ]")
    return value


class RelativePaths(Record):
    doc: str = "array of strings"

    def parse(self, table: Table, key: str, value: object) -> tuple[str, ...]:
        return tuple(RelativePath().parse(table, key, item) for item in _array(table, key, value))


class Names(Record):
    """Distinct strings naming other entries (checked against them later)."""

    doc: str = "array of names"

    def parse(self, table: Table, key: str, value: object) -> tuple[str, ...]:
        names: list[str] = []
        for item in _array(table, key, value):
            if not isinstance(item, str):
                raise table.error(key, "must list benchmark names", item, "write quoted names")
            if item in names:
                raise table.error(key, "lists a benchmark twice", item, "list each once")
            names.append(item)
        return tuple(names)


class Seeds(Record):
    limit: int
    most: int

    @property
    def doc(self) -> str:
        return "array of distinct integers, each 0 ≤ s < 2**63"

    def parse(self, table: Table, key: str, value: object) -> tuple[int, ...]:
        items = _array(table, key, value)
        if not items:
            raise table.error(
                key,
                "is empty, so a baseline would run nothing",
                items,
                "list at least one seed, or remove the key for [1, ..., repetitions]",
            )
        if len(items) > self.most:
            raise table.error(key, f"lists {len(items)} seeds", right=f"list at most {self.most}")
        seen: set[int] = set()
        for seed in items:
            if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < self.limit:
                raise table.error(
                    key,
                    "each seed must be an integer with 0 <= seed < 2**63",
                    seed,
                    "write bare integers",
                )
            if seed in seen:
                raise table.error(
                    key,
                    "lists a seed twice (identical runs hide the real spread)",
                    seed,
                    "make the seeds distinct",
                )
            seen.add(seed)
        return tuple(items)


class Digest(Record):
    """``ALGO:HEX``, by the hasher's own parser (the one digest rule); stored normalised."""

    doc: str = '`"ALGO:HEX"`'

    def parse(self, table: Table, key: str, value: object) -> str:
        # Imported here, for manifests that pin a corpus: `bench history` reads manifests
        # and would otherwise load the whole hasher (its C extension included) for nothing.
        from benchstone.hasher import HasherError, parse_digest

        try:
            algo, digits = parse_digest(value)
        except HasherError as exc:
            raise table.error(
                key, str(exc), right="copy the pin `bench corpus hash PATH` prints"
            ) from None
        return f"{algo}:{digits}"


# --- keys: a kind, a default, a doc line, a rule --------------------------------------


class Required(Record):
    """No default: the key must be written; ``right`` says how."""

    right: str


class Derived(Record):
    """A default computed from the keys before it; ``doc`` says it for the docs."""

    compute: Callable[[Mapping[str, Any]], Any]
    doc: str


#: A rule between keys: sees the table, this key's name, the values parsed so far and this
#: key's value (its default when absent); returns the value to keep or raises ``table.error``.
Check = Callable[[Table, str, Mapping[str, Any], Any], Any]


class Key(Record):
    kind: Kind
    default: Any
    doc: str
    check: Check | None = None
    default_doc: str | None = None
    #: The key decides how numbers are judged, not how they are measured: a lock that
    #: changes only such keys still applies to the stored runs (api/_lock.py).
    judgement: bool = False

    @property
    def default_text(self) -> str:
        """The docs' default column."""
        if self.default_doc is not None:
            return self.default_doc
        if isinstance(self.default, Required):
            return "required"
        if isinstance(self.default, Derived):
            return self.default.doc
        if self.default is None:
            return "none"
        return f"`{toml_literal(self.default)}`"


def toml_literal(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, tuple | list):
        return "[" + ", ".join(toml_literal(v) for v in value) + "]"
    return repr(value)


_KEY: Final = "benchstone.manifest.key"


def key(
    kind: Kind,
    default: Any,
    doc: str,
    *,
    check: Check | None = None,
    default_doc: str | None = None,
    judgement: bool = False,
) -> Any:
    """One row of the schema, as a record field: its name is the TOML key."""
    spec = Key(kind, default, doc, check, default_doc, judgement)
    if isinstance(default, Required | Derived):
        return field(metadata={_KEY: spec})
    return field(default=default, metadata={_KEY: spec})


def keys_of(spec_class: type[Record]) -> tuple[tuple[str, Key], ...]:
    """The schema rows of a spec record, in parse order."""
    return tuple((name, spec_class.METADATA[name][_KEY]) for name in spec_class.FIELDS)


def parse_table(
    spec_class: type, table: Table, given: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Every key of ``spec_class`` read from ``table``: unknown keys first, then in order,
    each value checked by its kind, defaulted, then held to its rule.

    ``given`` is context the defaults and rules may read beside the keys parsed so far
    (a benchmark's defaults can come from its ``[project]``); it is not part of the result.
    """
    rows = keys_of(spec_class)
    table.reject_unknown(tuple(name for name, _ in rows))
    values: dict[str, Any] = dict(given or {})
    for name, row in rows:
        if table.has(name):
            value = row.kind.parse(table, name, table.data[name])
        elif isinstance(row.default, Required):
            raise table.error(name, "missing", right=row.default.right)
        elif isinstance(row.default, Derived):
            value = row.default.compute(values)
        else:
            value = row.default
        if row.check is not None:
            value = row.check(table, name, values, value)
        values[name] = value
    return {name: values[name] for name, _ in rows}

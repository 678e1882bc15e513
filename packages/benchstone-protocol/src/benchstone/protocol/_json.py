"""Reading and writing protocol documents as strict, standard JSON.

Python's json module accepts ``NaN``/``Infinity`` and silently keeps the last of duplicate
keys; both let a runner smuggle a non-number or an ambiguous field past validation, so the
parser here refuses them. Files are read with a hard size cap (never whole when too big)
and written atomically so a reader never sees half a document.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import stat
import tempfile
from pathlib import Path
from typing import Any

from benchstone.protocol._errors import ProtocolError

_REPR_LIMIT = 80


def clip(text: str) -> str:
    """Cut text to one short piece, so an error message stays readable whatever it quotes."""
    return text if len(text) <= _REPR_LIMIT else text[: _REPR_LIMIT - 3] + "..."


def short_repr(value: object) -> str:
    """repr() (always one line: it escapes newlines) clipped to a readable length."""
    return clip(repr(value))


def json_type(value: object) -> str:
    """The JSON name of a value's type: messages speak to authors in any language."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def loads_strict(text: str, source: str) -> Any:
    """Parse standard JSON only: no NaN/Infinity tokens, no overflowing numbers, no duplicates."""

    def reject_constant(token: str) -> Any:
        raise ProtocolError(f"{source}: {token} is not valid JSON; write a finite number or null")

    def finite_float(token: str) -> float:
        value = float(token)
        if not math.isfinite(value):
            raise ProtocolError(
                f"{source}: number {clip(token)} overflows to infinity; write a finite number"
            )
        return value

    def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        obj: dict[str, Any] = {}
        for key, value in pairs:
            if key in obj:
                raise ProtocolError(
                    f"{source}: duplicate key {short_repr(key)} in a JSON object; "
                    "write each key once"
                )
            obj[key] = value
        return obj

    try:
        return json.loads(
            text,
            parse_constant=reject_constant,
            parse_float=finite_float,
            object_pairs_hook=unique_keys,
        )
    except json.JSONDecodeError as exc:
        raise ProtocolError(
            f"{source}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    except RecursionError:
        raise ProtocolError(f"{source}: JSON nested too deeply to read") from None
    except ValueError as exc:  # e.g. an integer literal with too many digits
        raise ProtocolError(f"{source}: invalid JSON: {exc}") from None


def read_bounded(path: Path, limit: int) -> bytes:
    """Read at most ``limit`` bytes, refusing bigger files before reading them.

    The size is checked on the open descriptor and the read is capped at ``limit + 1`` bytes,
    so a file that grows (or lies about its size, like /proc files) still cannot push more
    than the cap into memory.
    """
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise ProtocolError(f"{path}: not found") from None
    except OSError as exc:
        raise ProtocolError(f"{path}: cannot read: {exc.strerror}") from None
    if stat.S_ISDIR(info.st_mode):
        raise ProtocolError(f"{path}: is a directory; expected a JSON file")
    if not stat.S_ISREG(info.st_mode):
        raise ProtocolError(f"{path}: not a regular file; expected a JSON file")
    too_big = f"{path}: larger than the {limit}-byte limit; a protocol document is a few KiB"
    if info.st_size > limit:
        raise ProtocolError(too_big)
    try:
        with open(path, "rb") as handle:
            if os.fstat(handle.fileno()).st_size > limit:
                raise ProtocolError(too_big)
            data = handle.read(limit + 1)
    except FileNotFoundError:
        raise ProtocolError(f"{path}: not found") from None
    except OSError as exc:
        raise ProtocolError(f"{path}: cannot read: {exc.strerror}") from None
    if len(data) > limit:
        raise ProtocolError(too_big)
    return data


def read_json_object(path: Path, limit: int) -> dict[str, Any]:
    """One bounded, UTF-8, standard-JSON object from ``path``, or a one-line ProtocolError."""
    data = read_bounded(path, limit)
    if not data.strip():
        raise ProtocolError(f"{path}: empty file; expected a JSON object")
    try:
        # utf-8-sig: a leading BOM (common from Windows tools) is tolerated, as RFC 8259 allows.
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ProtocolError(
            f"{path}: not UTF-8 (invalid byte at offset {exc.start}); write the JSON as UTF-8"
        ) from None
    value = loads_strict(text, str(path))
    if not isinstance(value, dict):
        raise ProtocolError(
            f"{path}: expected a JSON object at the top level, got a JSON {json_type(value)}"
        )
    return value


def dumps(obj: Any) -> bytes:
    """Canonical bytes for a document: sorted keys, standard JSON only, one trailing newline."""
    text = json.dumps(obj, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False)
    return (text + "\n").encode("utf-8")


def atomic_write_json(path: str | os.PathLike[str], obj: Any, *, mode: int = 0o600) -> None:
    """Write ``obj`` as JSON so that ``path`` holds either the old content or all of the new.

    The temp file lives in the destination directory (``os.replace`` is only atomic within a
    filesystem), is fsynced before the rename, and gets ``mode`` explicitly (umask does not
    apply), since configs and results may carry paths a user wants private.
    """
    target = Path(path)
    try:
        payload = dumps(obj)
    except (TypeError, ValueError) as exc:
        raise ProtocolError(
            f"{target}: cannot write: the value is not standard JSON ({exc})"
        ) from None
    directory = target.parent
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise ProtocolError(f"{target}: cannot write: {exc.strerror}") from None
    try:
        try:
            os.fchmod(fd, mode)
            view = memoryview(payload)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp_name, target)
    except OSError as exc:
        _remove_quietly(tmp_name)
        raise ProtocolError(f"{target}: cannot write: {exc.strerror}") from None
    except BaseException:
        _remove_quietly(tmp_name)
        raise
    _fsync_directory(directory)


def _remove_quietly(name: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(name)


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable; some filesystems cannot open directories, which is fine."""
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)

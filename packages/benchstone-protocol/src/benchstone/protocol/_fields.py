"""Field validators shared by both documents.

Each returns the normalised value or raises a ProtocolError naming the key, the value and
what would be right. Documents add the file path when they are read from disk, so the
messages here start at the key.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping
from typing import Any

from benchstone.protocol._errors import ProtocolError
from benchstone.protocol._json import json_type, short_repr

_FLOAT_MAX = sys.float_info.max


def bad(key: str, problem: str, value: object) -> ProtocolError:
    """The one message shape of this package: key, problem, the value seen."""
    return ProtocolError(
        f"key {key!r}: {problem}, got {short_repr(value)} (a JSON {json_type(value)})"
    )


def is_real(value: object) -> bool:
    """int or float but not bool: JSON's true/false are never numbers."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def finite_number(key: str, value: object, *, minimum: float | None = None) -> float:
    """A finite real number as float; ints beyond the float range count as overflow."""
    rule = "a finite real number" if minimum is None else f"a finite number >= {minimum:g}"
    if not is_real(value):
        raise bad(key, f"must be {rule}", value)
    assert isinstance(value, int | float)
    if isinstance(value, int) and abs(value) > _FLOAT_MAX:
        raise ProtocolError(
            f"key {key!r}: an integer beyond the float range (about 1.8e308) overflows; "
            f"must be {rule}"
        )
    number = float(value)
    if not math.isfinite(number):
        raise bad(key, f"must be {rule}", value)
    if minimum is not None and number < minimum:
        raise bad(key, f"must be {rule}", value)
    return number


def integer(key: str, value: object, *, minimum: int) -> int:
    """An integer; 3.0 counts, as JSON (and JSON Schema) do not tell 3 from 3.0."""
    rule = f"an integer >= {minimum}"
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise bad(key, f"must be {rule}", value)
    if value < minimum:
        raise bad(key, f"must be {rule}", value)
    return value


def string(key: str, value: object, *, non_empty: bool = False) -> str:
    if not isinstance(value, str):
        raise bad(key, "must be a string", value)
    if non_empty and not value.strip():
        raise bad(key, "must be a non-empty string", value)
    return value


def json_object(key: str, value: object) -> dict[str, Any]:
    """A JSON object (string keys, JSON values all the way down) as a fresh dict.

    Checked deeply because these values are written back to disk: a NaN or a set hidden in
    metadata would otherwise only fail later, far from the code that put it there.
    """
    if not isinstance(value, Mapping):
        raise bad(key, "must be a JSON object", value)
    try:
        return _json_value(key, value)
    except RecursionError:
        raise ProtocolError(f"key {key!r}: nested too deeply to be written as JSON") from None


def _json_value(where: str, value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return finite_number(where, value)
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise ProtocolError(
                    f"key {where!r}: object keys must be strings, got {short_repr(k)}"
                )
            out[k] = _json_value(f"{where}.{k}", v)
        return out
    if isinstance(value, list | tuple):
        return [_json_value(f"{where}[{i}]", v) for i, v in enumerate(value)]
    raise ProtocolError(
        f"key {where!r}: {type(value).__name__} is not a JSON value, got {short_repr(value)}; "
        "use null, booleans, numbers, strings, arrays and objects"
    )

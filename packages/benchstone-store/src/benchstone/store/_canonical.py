"""Canonical JSON and the row-hash chain: the byte format docs/store.md specifies."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

GENESIS_HASH = "0" * 64


def canonical_json(value: Any) -> str:
    """Sorted keys, no whitespace, ASCII only.

    ASCII-only output makes the hashed bytes independent of any text encoding choice.
    Non-finite floats are written as Python's ``Infinity`` / ``-Infinity`` / ``NaN``
    tokens: a gate's equivalent z is legitimately infinite when its p-value underflows,
    and a verdict must still be recordable.
    """
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def row_hash(prev_hash: str, content: Mapping[str, Any]) -> str:
    """sha256 over ``prev_hash + "\\n" + canonical_json(content)``, as lowercase hex.

    Chaining each row to its predecessor means an edit anywhere, or a removed row in the
    middle of a table, changes a hash that verify recomputes.
    """
    payload = prev_hash + "\n" + canonical_json(dict(content))
    return hashlib.sha256(payload.encode("ascii")).hexdigest()

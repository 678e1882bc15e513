"""Validation of the names and SHAs that end up in paths and SQL range queries."""

from __future__ import annotations

import re

from ._errors import StoreError

MAX_NAME_LENGTH = 128
_NAME = re.compile(r"[A-Za-z0-9_.-]+")
_SHA = re.compile(r"[0-9a-f]{4,64}")
_SHA_PREFIX_MIN = 4
#: What a legal name is, in words: the one rule every package quotes (the manifest loader too).
NAME_RULE = f"1-{MAX_NAME_LENGTH} characters from A-Z a-z 0-9 _ . - and no leading dot"


def validate_name(kind: str, name: str) -> str:
    """Return ``name`` if it is safe as one path component, else raise StoreError.

    Project and benchmark names become directory names under ``$BENCHSTONE_HOME``; a
    slash, ``..`` or a leading dot would let a manifest steer writes outside its own
    folder or hide them.
    """
    if not isinstance(name, str):
        raise StoreError(f"{kind} name must be a string, got {type(name).__name__} {name!r}")
    if (
        not name
        or len(name) > MAX_NAME_LENGTH
        or name.startswith(".")
        or _NAME.fullmatch(name) is None
    ):
        raise StoreError(f"invalid {kind} name {name!r}: use {NAME_RULE}")
    return name


def validate_sha(field: str, value: str) -> str:
    """A full or abbreviated lowercase hex git object name, as git prints it."""
    if not isinstance(value, str) or _SHA.fullmatch(value) is None:
        raise StoreError(
            f"{field} {value!r} is not a git SHA: expected 4-64 lowercase hex characters"
        )
    return value


def sha_prefix_range(field: str, prefix: str) -> tuple[str, str]:
    """Bounds ``[low, high)`` that select every SHA starting with ``prefix``.

    A range instead of ``LIKE 'abc%'`` keeps the (project, benchmark, git_sha) index
    usable whatever the connection's LIKE settings; every hex digit sorts below "g", so
    ``prefix + "g"`` is an exclusive upper bound.
    """
    if not isinstance(prefix, str):
        raise StoreError(f"{field} must be a string, got {type(prefix).__name__}")
    lowered = prefix.lower()
    if len(lowered) < _SHA_PREFIX_MIN or _SHA.fullmatch(lowered) is None:
        raise StoreError(
            f"{field} {prefix!r} is not a SHA prefix: expected at least "
            f"{_SHA_PREFIX_MIN} hex characters"
        )
    return lowered, lowered + "g"

"""Digest strings: ALGO:HEX, validated and normalised."""

from __future__ import annotations

import pytest

from benchstone.hasher import ALGORITHMS, DEFAULT_ALGORITHM, HasherError, parse_digest


def test_constants() -> None:
    assert ALGORITHMS == ("sha256", "blake3", "xxh3-128")
    assert DEFAULT_ALGORITHM == "blake3"


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("sha256:" + "ab" * 32, ("sha256", "ab" * 32)),
        ("blake3:" + "0F" * 32, ("blake3", "0f" * 32)),
        ("xxh3-128:" + "9" * 32, ("xxh3-128", "9" * 32)),
    ],
)
def test_valid(text: str, parsed: tuple[str, str]) -> None:
    assert parse_digest(text) == parsed


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("ab" * 32, "no algorithm prefix"),
        ("md5:" + "0" * 32, "unknown algorithm 'md5'"),
        ("SHA256:" + "0" * 64, "unknown algorithm 'SHA256'"),
        ("sha256:" + "0" * 63, "exactly 64 hex digits"),
        ("xxh3-128:" + "0" * 64, "exactly 32 hex digits"),
        ("blake3:" + "g" * 64, "exactly 64 hex digits"),
        ("blake3: " + "0" * 63, "exactly 64 hex digits"),
        ("blake3:", "exactly 64 hex digits"),
    ],
)
def test_invalid(text: str, complaint: str) -> None:
    with pytest.raises(HasherError, match=complaint) as info:
        parse_digest(text)
    assert "\n" not in str(info.value)


def test_not_a_string() -> None:
    with pytest.raises(HasherError, match="must be a string"):
        parse_digest(b"blake3:00")


def test_a_misspelt_algorithm_gets_a_suggestion() -> None:
    with pytest.raises(HasherError) as info:
        parse_digest("blake2:" + "0" * 64)
    assert str(info.value).endswith("unknown algorithm 'blake2'; did you mean 'blake3'?")
    with pytest.raises(HasherError, match=r"'md5'; use one of sha256, blake3, xxh3-128$"):
        parse_digest("md5:" + "0" * 32)


def test_a_huge_string_is_clipped_in_the_message() -> None:
    # Every caller (the manifest loader among them) prints this message on one line.
    for text in ("x" * 100_000, "blake3:" + "0" * 100_000, "y" * 100_000 + ":00"):
        with pytest.raises(HasherError) as info:
            parse_digest(text)
        assert len(str(info.value)) < 300

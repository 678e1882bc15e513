"""The three digest algorithms, their ``ALGO:HEX`` strings, and who computes each.

Why three: ``sha256`` keeps SPEC-era pins valid (a file's digest is what ``sha256sum``
prints); ``blake3`` is cryptographic and fast on many cores, so it is the default for
new pins; ``xxh3-128`` is faster still but not cryptographic, so it suits only corpora
that nobody adversarial can write to.
"""

from __future__ import annotations

from types import MappingProxyType

from benchstone.hasher import _native
from benchstone.hasher._errors import HasherError

TYPE_CHECKING = False  # instead of importing typing (see _types); checkers read True
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Protocol

    class Hasher(Protocol):
        def update(self, data: bytes, /) -> object: ...
        def digest(self) -> bytes: ...


ALGORITHMS: tuple[str, ...] = ("sha256", "blake3", "xxh3-128")
DEFAULT_ALGORITHM = "blake3"

DIGEST_SIZES = MappingProxyType({"sha256": 32, "blake3": 32, "xxh3-128": 16})
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
_CHOICES = ", ".join(ALGORITHMS)


def check_algorithm(algo: object) -> str:
    """Return ``algo`` if it names one of ALGORITHMS, else raise HasherError."""
    if not isinstance(algo, str) or algo not in DIGEST_SIZES:
        raise HasherError(f"unknown hash algorithm {algo!r}: use one of {_CHOICES}")
    return algo


def parse_digest(text: object) -> tuple[str, str]:
    """Split ``ALGO:HEX`` into (algo, lowercase hex), checking both parts.

    Hex digits are accepted in either case and returned in lower case, so a pin typed
    from another tool's output still compares equal to ours. This is the one digest rule:
    the manifest loader, listings and verify all call it, so a message names the string
    (clipped to a line) and says what would be right.
    """
    if not isinstance(text, str):
        raise HasherError(
            f"digest must be a string like 'blake3:<64 hex digits>', not {type(text).__name__}"
        )
    algo, sep, digits = text.partition(":")
    if not sep:
        raise HasherError(
            f"digest {_clip(text)} has no algorithm prefix: write ALGO:HEX with ALGO one of "
            f"{_CHOICES}"
        )
    if algo not in DIGEST_SIZES:
        import difflib  # the error path only

        close = difflib.get_close_matches(algo, ALGORITHMS, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"use one of {_CHOICES}"
        raise HasherError(f"digest {_clip(text)}: unknown algorithm {_clip(algo)}; {hint}")
    want = 2 * DIGEST_SIZES[algo]
    if len(digits) != want or not _HEX_DIGITS.issuperset(digits):
        raise HasherError(
            f"digest {_clip(text)}: {algo} needs exactly {want} hex digits after '{algo}:',"
            f" got {len(digits)} characters"
        )
    return algo, digits.lower()


def _clip(text: str) -> str:
    """``repr`` cut to a line's worth: a pasted file must not become a 1 MB message."""
    shown = repr(text)
    return shown if len(shown) <= 80 else shown[:77] + "..."


def format_digest(algo: str, raw: bytes) -> str:
    return f"{algo}:{raw.hex()}"


def native_spec(algo: str) -> tuple[int | Callable[[], Hasher], int]:
    """What the C extension takes for ``algo``: a native algorithm number or a factory.

    BLAKE3 and XXH3 run inside the extension (vendored C, no GIL at all). SHA-256 comes
    from hashlib, whose OpenSSL code releases the GIL while it hashes; it is imported
    here, on first use, because ``import hashlib`` costs more than the rest of the
    package and most pins never use SHA-256.
    """
    if algo == "blake3":
        return _native.BLAKE3, 32
    if algo == "xxh3-128":
        return _native.XXH3_128, 16
    import hashlib

    return hashlib.sha256, 32


def new_hasher(algo: str) -> Hasher:
    """A streaming hash object from the algorithm's own Python library.

    The reference tree digest (listing checks) uses these: an implementation independent
    of the C extension. Imported on first use, like hashlib above.
    """
    if algo == "blake3":
        import blake3

        return blake3.blake3()
    if algo == "xxh3-128":
        import xxhash

        return xxhash.xxh3_128()
    import hashlib

    return hashlib.sha256()

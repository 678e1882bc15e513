"""Which entries a corpus may hold, and the refusal for those it may not.

Only regular files and directories: a symbolic link can point outside the corpus (or
change target without any file changing), and a FIFO, socket or device has no content
to pin. The C walk reports every such entry, in bytewise order; the policy is here.
"""

from __future__ import annotations

import os
from types import MappingProxyType

from benchstone.hasher._errors import HasherError

_NO_CONTENT = "it has no content to pin: remove it"
_KINDS = MappingProxyType(
    {
        "l": ("a symbolic link", "it can point outside the corpus: replace it with a copy"),
        "p": ("a FIFO (named pipe)", _NO_CONTENT),
        "s": ("a socket", _NO_CONTENT),
        "c": ("a character device", _NO_CONTENT),
        "b": ("a block device", _NO_CONTENT),
        "?": ("not a regular file", _NO_CONTENT),
    }
)


def refusal(root: str, odd: list[tuple[bytes, str]]) -> HasherError:
    """The error for a corpus holding ``odd`` entries: the first named, the rest counted."""
    rel, kind = odd[0]
    what, advice = _KINDS.get(kind, _KINDS["?"])
    more = f" (and {len(odd) - 1} more entries that are not regular files)" if odd[1:] else ""
    where = os.path.join(root, os.fsdecode(rel))
    return HasherError(f"{where}: is {what}, which a corpus may not hold; {advice}{more}")

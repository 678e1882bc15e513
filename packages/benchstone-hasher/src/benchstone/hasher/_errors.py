"""The one exception of benchstone.hasher, and how OS errors become it.

Callers (the runner, the CLI) print a HasherError as one ``Error: ...`` line, so every
message names the path at fault and what would make it right; an OSError from the C
extension never escapes as a traceback.
"""

from __future__ import annotations

import errno
import os


class HasherError(Exception):
    """A corpus, digest string or listing that cannot be hashed, parsed or read."""


def _hint(code: int | None) -> str:
    if code in (errno.EACCES, errno.EPERM):
        return "make it readable by this user or remove it from the corpus"
    if code == errno.ENOENT:
        return "it disappeared while being hashed: is something writing to the corpus?"
    if code == errno.ELOOP:
        return "it is a symbolic link: replace it with a copy of its target"
    if code == errno.ENAMETOOLONG:
        return "shorten the path"
    if code == errno.EMFILE or code == errno.ENFILE:
        return "raise the open-file limit (ulimit -n)"
    return "check the file and try again"


def from_os_error(exc: OSError, action: str) -> HasherError:
    """``cannot <action> <path>: <reason>; <what to do>`` for an OSError from a walk or read."""
    name = exc.filename
    path = os.fsdecode(name) if isinstance(name, (bytes, str)) else "(unknown path)"
    reason = exc.strerror or str(exc)
    return HasherError(f"cannot {action} {path}: {reason}; {_hint(exc.errno or None)}")

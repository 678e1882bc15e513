"""Landlock: deny a process (and all it starts) the harness's paths, without privileges.

The fallback when bubblewrap is missing. Landlock is an allow-list, so "everything except
the store" is written as: grant every sibling along the way from ``/`` down to each hidden
path, and nothing on the way itself. The ancestors of a hidden path thereby lose their
own rights too (no new entries directly in, say, ``$HOME``); their other children keep
all of theirs. Applied in the child between fork and exec (``preexec_fn``), so it binds
the benchmark's shell and every descendant, never the harness.
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Iterable
from pathlib import Path

_SYS_CREATE_RULESET = 444
_SYS_ADD_RULE = 445
_SYS_RESTRICT_SELF = 446
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS = 38
# Filesystem rights per ABI version: 13 in v1, REFER in v2, TRUNCATE in v3, IOCTL_DEV in v5.
_RIGHTS_BY_ABI = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 4: (1 << 15) - 1}
_RIGHTS_V5 = (1 << 16) - 1
# Rights that make sense on a non-directory (Landlock refuses directory rights on files).
_FILE_RIGHTS = (1 << 0) | (1 << 1) | (1 << 2) | (1 << 14) | (1 << 15)


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def abi_version() -> int:
    """The kernel's Landlock ABI version, 0 where Landlock is absent or disabled."""
    if not sys.platform.startswith("linux"):
        return 0
    try:
        libc = _libc()
        libc.syscall.restype = ctypes.c_long
        version = libc.syscall(
            ctypes.c_long(_SYS_CREATE_RULESET), None, ctypes.c_size_t(0), ctypes.c_uint32(1)
        )
    except (OSError, AttributeError):
        return 0
    return max(int(version), 0)


def grants(hidden: Iterable[Path], visible: Iterable[Path] = ()) -> list[Path]:
    """The paths to grant in full so that all but the ``hidden`` ones stay usable.

    A ``visible`` path inside a hidden one (the run dir under the store) is granted too,
    and nothing else on the way to it inside the hidden path.
    """
    hide = {Path(os.path.abspath(p)) for p in hidden}
    show = {Path(os.path.abspath(p)) for p in visible}
    towards_hidden = {a for t in hide for a in [t, *t.parents]}
    towards_visible = {a for t in show for a in [t, *t.parents]}
    granted: list[Path] = []
    pending = [Path("/")]
    while pending:
        directory = pending.pop()
        if directory.is_symlink():
            # A rule on a link would be a rule on its target (pytest's "-current" links
            # point at ancestors of the store). Following a link needs no right; the
            # target is checked where it lives.
            continue
        inside_hidden = directory in hide or any(h in directory.parents for h in hide)
        if directory in show:
            granted.append(directory)
            continue
        if inside_hidden:
            if directory not in towards_visible:
                continue
        elif directory not in towards_hidden:
            granted.append(directory)
            continue
        try:
            entries = os.listdir(directory)
        except OSError:
            continue
        pending.extend(directory / name for name in entries)
    return granted


def restrict_self(granted: list[Path], abi: int) -> None:
    """Confine the calling process to ``granted``; meant for ``preexec_fn`` (no allocation
    beyond ctypes, raises OSError so ``subprocess`` reports it to the parent)."""
    rights = _RIGHTS_BY_ABI.get(abi, _RIGHTS_V5)
    libc = _libc()
    libc.syscall.restype = ctypes.c_long
    attr = _RulesetAttr(rights)
    ruleset = libc.syscall(
        ctypes.c_long(_SYS_CREATE_RULESET),
        ctypes.byref(attr),
        ctypes.c_size_t(ctypes.sizeof(attr)),
        ctypes.c_uint32(0),
    )
    if ruleset < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset failed")
    try:
        for path in granted:
            try:
                fd = os.open(path, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC)
            except OSError:
                continue
            try:
                is_dir = os.path.isdir(path) and not os.path.islink(path)
                rule = _PathBeneathAttr(rights if is_dir else rights & _FILE_RIGHTS, fd)
                if (
                    libc.syscall(
                        ctypes.c_long(_SYS_ADD_RULE),
                        ctypes.c_int(ruleset),
                        ctypes.c_int(_RULE_PATH_BENEATH),
                        ctypes.byref(rule),
                        ctypes.c_uint32(0),
                    )
                    < 0
                ):
                    raise OSError(ctypes.get_errno(), f"landlock_add_rule failed for {path}")
            finally:
                os.close(fd)
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "PR_SET_NO_NEW_PRIVS failed")
        if (
            libc.syscall(
                ctypes.c_long(_SYS_RESTRICT_SELF), ctypes.c_int(ruleset), ctypes.c_uint32(0)
            )
            < 0
        ):
            raise OSError(ctypes.get_errno(), "landlock_restrict_self failed")
    finally:
        os.close(ruleset)

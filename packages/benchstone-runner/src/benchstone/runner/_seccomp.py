"""The socket filter of the strict sandbox: no AF_UNIX (or any non-IP) socket, no io_uring.

A held-out run has no network (its own network namespace), and its filesystem is read-only
but for the run directory and a private ``/tmp``. One way out is left by those two alone:
a Unix socket another process of the same user listens on, anywhere on the host (in the
project tree, in ``$HOME``): connecting to a socket file needs no write permission on its
filesystem, so a read-only mount does not stop it. Nor does a network namespace stop
``AF_VSOCK`` (to the hypervisor). So the strict sandbox installs this seccomp filter
(through bubblewrap's ``--seccomp FD``): ``socket()`` is refused (EACCES) for every family
but IPv4, IPv6 and netlink, which the namespace confines; ``io_uring_setup`` is refused too,
since io_uring's socket operations would bypass the filter. ``socketpair`` (an anonymous,
connected pair: nowhere to send to) stays allowed, so pipes-like uses keep working.

Classic BPF, assembled here: a dozen instructions, one per line below.
"""

from __future__ import annotations

import contextlib
import errno
import os
import platform
import struct
from collections.abc import Iterator

from benchstone.runner._errors import RunnerError

# linux/filter.h, linux/seccomp.h, linux/audit.h
_LD_W_ABS = 0x20  # BPF_LD | BPF_W | BPF_ABS
_JEQ_K = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
_JGE_K = 0x35  # BPF_JMP | BPF_JGE | BPF_K
_RET_K = 0x06  # BPF_RET | BPF_K
_ALLOW = 0x7FFF0000
_KILL_PROCESS = 0x80000000
_ERRNO = 0x00050000
_NR, _ARCH, _ARG0 = 0, 4, 16  # offsets in struct seccomp_data (little-endian low word)
_X32_BIT = 0x40000000
_ALLOWED_FAMILIES = (2, 10, 16)  # AF_INET, AF_INET6, AF_NETLINK

# machine -> (AUDIT_ARCH_*, __NR_socket, __NR_io_uring_setup)
_ARCHES = {
    "x86_64": (0xC000003E, 41, 425),
    "aarch64": (0xC00000B7, 198, 425),
}


def supported() -> bool:
    return platform.machine() in _ARCHES


def program() -> bytes:
    """The filter as ``struct sock_filter[]`` bytes, for this machine's syscall numbers."""
    machine = platform.machine()
    if machine not in _ARCHES:
        raise RunnerError(
            f"the strict sandbox of held-out corpora filters sockets by syscall number, known "
            f"for {', '.join(_ARCHES)}, not {machine}"
        )
    arch, nr_socket, nr_io_uring = _ARCHES[machine]
    deny = _ERRNO | errno.EACCES
    families = len(_ALLOWED_FAMILIES)
    # (code, jt, jf, k); jumps count instructions after the next one.
    code: list[tuple[int, int, int, int]] = [
        (_LD_W_ABS, 0, 0, _ARCH),
        (_JEQ_K, 1, 0, arch),
        (_RET_K, 0, 0, _KILL_PROCESS),  # a foreign ABI (32-bit): its numbers differ
        (_LD_W_ABS, 0, 0, _NR),
        (_JGE_K, 4 + families, 0, _X32_BIT),  # x32 numbers: refuse
        (_JEQ_K, 3 + families, 0, nr_io_uring),
        (_JEQ_K, 1, 0, nr_socket),
        (_RET_K, 0, 0, _ALLOW),
        (_LD_W_ABS, 0, 0, _ARG0),  # socket(domain, ...)
    ]
    for index, family in enumerate(_ALLOWED_FAMILIES):
        code.append((_JEQ_K, families - index, 0, family))
    code.append((_RET_K, 0, 0, deny))
    code.append((_RET_K, 0, 0, _ALLOW))
    return b"".join(struct.pack("=HBBI", *instruction) for instruction in code)


@contextlib.contextmanager
def program_fd() -> Iterator[int]:
    """A readable descriptor holding :func:`program`, positioned at its start (bwrap reads
    it to the end), closed on the way out."""
    fd = os.memfd_create("benchstone-seccomp", os.MFD_CLOEXEC)
    try:
        os.write(fd, program())
        os.lseek(fd, 0, os.SEEK_SET)
        yield fd
    finally:
        os.close(fd)

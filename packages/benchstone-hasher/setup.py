"""Build benchstone.hasher._native: our hot loop plus the vendored BLAKE3 and xxHash C code.

Metadata lives in pyproject.toml; this file exists only because the extension needs
decisions setuptools cannot express declaratively:

- BLAKE3's SIMD kernels: on x86-64 its hand-written assembly (.S) files, which the
  compiler assembles and blake3_dispatch.c picks among at run time (SSE2 up to
  AVX-512); on AArch64 the NEON intrinsics; elsewhere the portable C only. So a wheel
  built here runs on any CPU of its architecture.
- xxHash's x86 dispatcher (xxh_x86dispatch.c) chooses SSE2/AVX2/AVX-512 XXH3 kernels at
  run time on x86-64; other architectures use xxhash.h's compile-time default.
- Object files go to a fresh temporary directory per build: several benchstone
  packages' test sessions build this wheel at the same time from the same tree, and
  a shared build/ directory would let them overwrite each other's objects.

Only gcc or clang and the Python headers are needed: no Rust, no system libraries.
"""

from __future__ import annotations

import atexit
import platform
import shutil
import sys
import tempfile

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

if sys.platform == "win32":
    raise SystemExit("benchstone-hasher needs a POSIX system (Linux, macOS, a BSD); not Windows")

BLAKE3 = "vendor/blake3"
XXHASH = "vendor/xxhash"

_machine = platform.machine().lower()
_is_64bit = sys.maxsize > 2**32
X86_64 = _machine in ("x86_64", "amd64") and _is_64bit
AARCH64 = _machine in ("aarch64", "arm64") and _is_64bit

sources = [
    "csrc/_native.c",  # includes vendor/blake3/blake3.c itself
    f"{BLAKE3}/blake3_dispatch.c",
    f"{BLAKE3}/blake3_portable.c",
    f"{XXHASH}/xxhash.c",
]
macros: list[tuple[str, str | None]] = []
if X86_64:
    sources += [
        f"{BLAKE3}/blake3_sse2_x86-64_unix.S",
        f"{BLAKE3}/blake3_sse41_x86-64_unix.S",
        f"{BLAKE3}/blake3_avx2_x86-64_unix.S",
        f"{BLAKE3}/blake3_avx512_x86-64_unix.S",
        f"{XXHASH}/xxh_x86dispatch.c",
    ]
    macros.append(("BENCHSTONE_XXH_DISPATCH", "1"))
elif AARCH64:
    sources.append(f"{BLAKE3}/blake3_neon.c")
else:
    macros += [
        ("BLAKE3_NO_SSE2", "1"),
        ("BLAKE3_NO_SSE41", "1"),
        ("BLAKE3_NO_AVX2", "1"),
        ("BLAKE3_NO_AVX512", "1"),
        ("BLAKE3_USE_NEON", "0"),
    ]


class BuildExt(build_ext):
    """build_ext that also assembles .S files."""

    def build_extension(self, ext: Extension) -> None:
        if ".S" not in self.compiler.src_extensions:
            self.compiler.src_extensions.append(".S")
        super().build_extension(ext)


_scratch = tempfile.mkdtemp(prefix="benchstone-hasher-build-")
atexit.register(shutil.rmtree, _scratch, ignore_errors=True)

setup(
    options={"build": {"build_base": _scratch}},
    ext_modules=[
        Extension(
            "benchstone.hasher._native",
            sources=sources,
            include_dirs=[BLAKE3, XXHASH],
            define_macros=macros,
            extra_compile_args=["-O3", "-pthread", "-std=gnu11"],
            extra_link_args=["-pthread"],
        )
    ],
    cmdclass={"build_ext": BuildExt},
)

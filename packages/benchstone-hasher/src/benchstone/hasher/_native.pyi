from collections.abc import Callable
from os import PathLike

BLAKE3: int
XXH3_128: int

_Path = str | bytes | PathLike[str] | PathLike[bytes]
_Algo = int | Callable[[], object]

def hash_tree(
    root: _Path,
    algo: _Algo,
    digest_size: int,
    header: bytes,
    threads: int,
    bufsize: int,
    progress: Callable[[int], object] | None,
    interval_ns: int,
    want_files: bool,
    /,
) -> tuple[bytes | None, list[tuple[bytes, int, bytes]], list[tuple[bytes, str]], int]: ...
def hash_file(
    path: _Path,
    algo: _Algo,
    digest_size: int,
    threads: int,
    block: int,
    parallel_min: int,
    progress: Callable[[int], object] | None,
    interval_ns: int,
    /,
) -> tuple[int, bytes]: ...
def build_info() -> dict[str, object]: ...

"""Speed and memory of benchstone.hasher against the tools people would otherwise use.

Run with the packages installed:  python benchmarks/hasher.py [--workdir DIR] [--runs N]

It builds its inputs (a 1 GiB file of random bytes; 20,000 files of 100-8,000 random
bytes in 200 folders) under a temporary directory (or --workdir), reads them once to warm
the page cache, then runs every command of a case in turn, --runs times (interleaved, so
that a noisy neighbour hurts both sides alike), and prints one Markdown table: median wall
time of each side, their ratio, the target, our whole-process peak RSS and whether the
target was met. Both sides run as child processes (ours as ``python -c``), timed from
spawn to exit, with peak RSS from os.wait4, so interpreter start-up and imports count.

It installs nothing. b3sum and xxhsum are Debian packages: without them the comparisons
that need them are reported as skipped (apt-get install b3sum xxhash).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

MIB = 1 << 20
RSS_LIMIT_MIB = 64


@dataclass(frozen=True)
class Sample:
    wall: float  # seconds
    rss_mib: float  # peak resident set size of the child (and its waited-for children)


@dataclass(frozen=True)
class Case:
    name: str
    data: Path  # what both sides read: warmed before the case
    ours: list[str]
    reference: list[str] | None  # None: the tool is missing
    reference_label: str
    max_ratio: float  # ours / reference must be at most this
    missing: str = ""


def run(command: list[str]) -> Sample:
    """One run of ``command``: wall time from spawn to exit and the child's peak RSS."""
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        err = child.stderr.read().decode(errors="replace") if child.stderr else ""
        raise SystemExit(f"benchmark command failed ({child.returncode}): {command}\n{err}")
    if child.stderr:
        child.stderr.close()
    scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB on Linux
    return Sample(wall, usage.ru_maxrss * scale / MIB)


def warm(paths: list[Path]) -> None:
    """Read every input once so that every run reads from the page cache."""
    for path in paths:
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for file in files:
            with open(file, "rb") as src:
                while src.read(MIB):
                    pass


def make_big_file(path: Path, size: int) -> None:
    with open(path, "wb") as out:
        for _ in range(size // MIB):
            out.write(os.urandom(MIB))
        out.write(os.urandom(size % MIB))


def make_tree(root: Path, files: int, folders: int) -> None:
    rng = random.Random(20261127)
    for i in range(files):
        folder = root / f"d{i % folders:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"f{i:05d}.bin").write_bytes(rng.randbytes(rng.randint(100, 8000)))


def ours(path: Path, algo: str) -> list[str]:
    code = f"from benchstone.hasher import digest; digest({str(path)!r}, {algo!r})"
    return [sys.executable, "-c", code]


HASHLIB_LOOP = """
import hashlib, sys
h = hashlib.sha256()
with open(sys.argv[1], "rb", buffering=0) as f:
    while block := f.read(1 << 20):
        h.update(block)
print(h.hexdigest())
"""

NAIVE_TREE = """
import hashlib, os, sys
root = sys.argv[1]
paths = [os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs]
outer = hashlib.sha256()
for path in sorted(paths):
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    outer.update(os.path.relpath(path, root).encode() + b"\\0" + digest.encode() + b"\\n")
print(outer.hexdigest())
"""


def size_label(size: int) -> str:
    return f"{size / (1 << 30):g} GiB" if size >= 1 << 30 else f"{size / MIB:g} MiB"


def cases(big: Path, tree: Path, files: int) -> list[Case]:
    b3sum, xxhsum = shutil.which("b3sum"), shutil.which("xxhsum")
    file_label = f"{size_label(big.stat().st_size)} file"
    tree_label = f"{files:,} files"
    need_b3 = "" if b3sum else "b3sum missing: apt-get install b3sum"
    tree_b3 = f"find {tree} -type f -print0 | sort -z | xargs -0 b3sum > /dev/null"
    return [
        Case(
            f"{file_label}, blake3",
            big,
            ours(big, "blake3"),
            [b3sum, str(big)] if b3sum else None,
            "b3sum FILE",
            1.0,
            need_b3,
        ),
        Case(
            f"{file_label}, xxh3-128",
            big,
            ours(big, "xxh3-128"),
            ["cat", str(big)],
            "cat FILE > /dev/null",
            1.3,
        ),
        Case(
            f"{file_label}, xxh3-128 (for reference)",
            big,
            ours(big, "xxh3-128"),
            [xxhsum, "-H2", str(big)] if xxhsum else None,
            "xxhsum -H2 FILE",
            float("inf"),
            "" if xxhsum else "xxhsum missing: apt-get install xxhash",
        ),
        Case(
            f"{file_label}, sha256",
            big,
            ours(big, "sha256"),
            [sys.executable, "-c", HASHLIB_LOOP, str(big)],
            "hashlib loop, 1 MiB reads",
            1.1,
        ),
        Case(
            f"{tree_label}, blake3 tree",
            tree,
            ours(tree, "blake3"),
            ["sh", "-c", tree_b3] if b3sum else None,
            "find \\| sort -z \\| xargs -0 b3sum",
            0.75,
            need_b3,
        ),
        Case(
            f"{tree_label}, blake3 tree",
            tree,
            ours(tree, "blake3"),
            [sys.executable, "-c", NAIVE_TREE, str(tree)],
            "naive Python (read, sha256, outer sha256)",
            0.25,
        ),
    ]


def measure(case: Case, runs: int) -> tuple[list[Sample], list[Sample]]:
    mine: list[Sample] = []
    theirs: list[Sample] = []
    run(case.ours)  # one unmeasured run of each side: code and data in cache
    if case.reference:
        run(case.reference)
    for _ in range(runs):
        mine.append(run(case.ours))
        if case.reference:
            theirs.append(run(case.reference))
    return mine, theirs


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{cpu}, {cores} CPUs, {platform.system()} {platform.release()}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--workdir", type=Path, help="where to build the inputs (default: a temp dir)"
    )
    parser.add_argument("--runs", type=int, default=7, help="measured runs per command (>= 5)")
    parser.add_argument("--file-mib", type=int, default=1024, help="size of the big file")
    parser.add_argument("--files", type=int, default=20000, help="files in the tree")
    args = parser.parse_args(argv)
    if args.runs < 5:
        parser.error("--runs must be at least 5: the table reports medians")

    from benchstone.hasher import _native  # the installed package, or fail here

    base = Path(tempfile.mkdtemp(prefix="benchstone-hasher-bench-", dir=args.workdir))
    try:
        big, tree = base / "big.bin", base / "tree"
        print(f"building inputs under {base} ...", file=sys.stderr)
        make_big_file(big, args.file_mib * MIB)
        make_tree(tree, args.files, max(1, args.files // 100))
        rows = []
        for case in cases(big, tree, args.files):
            label = case.reference_label.replace("\\|", "|")
            print(f"measuring: {case.name} vs {label}", file=sys.stderr)
            warm([case.data])
            mine, theirs = measure(case, args.runs)
            rows.append((case, mine, theirs))
        print_table(rows, args, _native.build_info())
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return 0


def print_table(rows: list[tuple[Case, list[Sample], list[Sample]]], args, info) -> None:
    print(f"\n{datetime.date.today().isoformat()} - {machine()}")
    print(
        f"Python {platform.python_version()}; BLAKE3 C {info['blake3']} (SIMD degree"
        f" {info['blake3_simd_degree']}), xxHash {info['xxhash']}; median of {args.runs} runs\n"
    )
    print("| case | ours | reference | ratio | target | our peak RSS | pass |")
    print("|---|---:|---|---:|---:|---:|:---:|")
    for case, mine, theirs in rows:
        wall = statistics.median(s.wall for s in mine)
        rss = max(s.rss_mib for s in mine)
        rss_ok = rss <= RSS_LIMIT_MIB
        if not theirs:
            print(
                f"| {case.name} | {wall:.3f} s | {case.reference_label}: skipped ({case.missing})"
                f" | | | {rss:.0f} MiB | {'yes' if rss_ok else 'NO'} |"
            )
            continue
        ref = statistics.median(s.wall for s in theirs)
        ratio = wall / ref
        target = "-" if case.max_ratio == float("inf") else f"<= {case.max_ratio:.2f}x"
        ok = ratio <= case.max_ratio and rss_ok
        print(
            f"| {case.name} | {wall:.3f} s | {case.reference_label}: {ref:.3f} s | {ratio:.2f}x"
            f" | {target} | {rss:.0f} MiB | {'yes' if ok else 'NO'} |"
        )
    print(f"\nPeak RSS target: <= {RSS_LIMIT_MIB} MiB for every run of ours (largest shown).")


if __name__ == "__main__":
    sys.exit(main())

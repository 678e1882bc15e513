"""Instruction counts measured for real: a C program compiled here, run under real valgrind."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from benchstone.runner import RunnerError, execute
from benchstone.runner._instructions import instrument, require_valgrind, total_instructions

pytestmark = pytest.mark.skipif(
    shutil.which("valgrind") is None or shutil.which("cc") is None,
    reason="needs valgrind and cc (CI installs both)",
)

# Parent loops N times, then forks; the child execs this same program to loop M times,
# so a count that misses forks or execs would not scale with M.
_WORK_C = r"""
#include <stdlib.h>
#include <unistd.h>
#include <sys/wait.h>
static volatile unsigned long sink;
static void work(long n) { for (long i = 0; i < n; i++) sink += (unsigned long)i * 3u; }
int main(int argc, char **argv) {
    long n = atol(argv[1]);
    long m = argc > 2 ? atol(argv[2]) : 0;
    work(n);
    if (m > 0) {
        pid_t pid = fork();
        if (pid == 0) {
            char arg[32];
            snprintf(arg, sizeof arg, "%ld", m);
            execl(argv[0], argv[0], arg, (char *)0);
            _exit(127);
        }
        int status;
        waitpid(pid, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return 3;
    }
    return 0;
}
"""


@pytest.fixture(scope="module")
def work_binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src_dir = tmp_path_factory.mktemp("work")
    source = src_dir / "work.c"
    source.write_text("#include <stdio.h>\n" + _WORK_C)
    binary = src_dir / "work"
    subprocess.run(["cc", "-O1", "-o", str(binary), str(source)], check=True)
    return binary


def _run(tmp_path: Path, command: str, out_dir: Path) -> str | None:
    """Run ``command`` under cachegrind through the real ``execute``; its failure line."""
    result = execute(
        instrument(command, out_dir),
        cwd=tmp_path,
        env=dict(os.environ),
        timeout=120,
        stdout_log=out_dir / "stdout.log",
        stderr_log=out_dir / "stderr.log",
    )
    return result.failure


def _count(tmp_path: Path, command: str, tag: str) -> int:
    out_dir = tmp_path / f"cg-{tag}"
    out_dir.mkdir()
    assert _run(tmp_path, command, out_dir) is None, (out_dir / "stderr.log").read_text()
    return total_instructions(out_dir)


def test_counts_scale_with_the_loop_and_include_forked_exec_children(
    work_binary: Path, tmp_path: Path
) -> None:
    base = _count(tmp_path, f"{work_binary} 0", "0")
    one = _count(tmp_path, f"{work_binary} 2000000", "1n")
    two = _count(tmp_path, f"{work_binary} 4000000", "2n")
    # The loop's cost is linear: doubling N doubles what it adds over the empty run.
    assert (two - base) / (one - base) == pytest.approx(2.0, rel=0.001)
    # Half the work moved into a forked child that execs is still counted: the total is
    # the 2N run's plus one more program start-up (less than the empty run, which also
    # pays for the shell); a count that missed the child would be near the 1N run's.
    split = _count(tmp_path, f"{work_binary} 2000000 2000000", "split")
    assert 0 < split - two < base


def test_a_three_percent_change_is_detected_far_above_the_jitter(
    work_binary: Path, tmp_path: Path
) -> None:
    runs = [_count(tmp_path, f"{work_binary} 3000000 1000000", f"r{i}") for i in range(3)]
    changed = _count(tmp_path, f"{work_binary} 3120000 1000000", "changed")
    jitter = (max(runs) - min(runs)) / min(runs)
    assert jitter < 0.001
    assert changed / max(runs) > 1.025


def test_a_python_workload_is_counted_and_its_work_shows(tmp_path: Path) -> None:
    python = f"{sys.executable} -I -S -c"
    small = _count(tmp_path, f"{python} 'sum(range(200000))'", "small")
    large = _count(tmp_path, f"{python} 'sum(range(400000))'", "large")
    assert small > 1_000_000
    assert large > small * 1.01


def test_shell_syntax_in_the_command_keeps_its_meaning(work_binary: Path, tmp_path: Path) -> None:
    # A pipeline and a quoted argument: instrument must not re-split the project's command.
    out_dir = tmp_path / "cg-shell"
    out_dir.mkdir()
    marker = tmp_path / "it ran"
    command = f"{work_binary} 1000 | cat && echo 'a b' > '{marker}'"
    assert _run(tmp_path, command, out_dir) is None
    assert marker.read_text() == "a b\n"
    # sh, work, cat and echo's sh: at least the shell, the program and cat left a file each.
    assert len(list(out_dir.glob("cachegrind.out.*"))) >= 3
    # Valgrind's banner went to its log files, not the project's stderr.
    assert (out_dir / "stderr.log").read_text() == ""
    assert any("Cachegrind" in p.read_text() for p in out_dir.glob("valgrind.*.log"))


def test_no_output_file_is_an_error_naming_the_directory(tmp_path: Path) -> None:
    with pytest.raises(RunnerError, match=r"no cachegrind\.out\.\* file"):
        total_instructions(tmp_path)


def test_a_file_without_summary_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "cachegrind.out.12").write_text("events: Ir\nfl=x.c\n1 20\n")
    with pytest.raises(RunnerError, match=r"cachegrind\.out\.12: no 'summary:' line"):
        total_instructions(tmp_path)


def test_a_malformed_summary_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "cachegrind.out.1").write_text("events: Ir\nsummary: lots\n")
    with pytest.raises(RunnerError, match=r"no integer Ir count"):
        total_instructions(tmp_path)
    (tmp_path / "cachegrind.out.1").write_text("summary: 5\n")
    with pytest.raises(RunnerError, match=r"no 'events:' line naming Ir"):
        total_instructions(tmp_path)


def test_ir_is_taken_by_its_events_position(tmp_path: Path) -> None:
    (tmp_path / "cachegrind.out.1").write_text("events: Dr Ir Dw\nsummary: 1 700 3\n")
    (tmp_path / "cachegrind.out.2").write_text("events: Ir\nsummary: 300\n")
    assert total_instructions(tmp_path) == 1000


def test_missing_valgrind_names_the_package(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RunnerError, match=r"apt-get install valgrind"):
        require_valgrind()
    monkeypatch.undo()
    assert Path(require_valgrind()).name == "valgrind"

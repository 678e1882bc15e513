"""Instruction counts measured for real: a C program compiled here, run under real valgrind."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from benchstone.runner import InstructionLog, RunnerError, Sandbox, execute
from benchstone.runner._instructions import require_valgrind

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


def _run(
    tmp_path: Path, command: str, out_dir: Path, *, sandbox: Sandbox | None = None
) -> tuple[str | None, int | RunnerError]:
    """Run ``command`` under cachegrind through the real ``execute``: its failure line, and
    its count (or the RunnerError saying why there is none)."""
    with InstructionLog() as counts:
        result = execute(
            counts.instrument(command),
            cwd=tmp_path,
            env=dict(os.environ),
            timeout=120,
            stdout_log=out_dir / "stdout.log",
            stderr_log=out_dir / "stderr.log",
            sandbox=sandbox,
            pass_fds=counts.pass_fds,
        )
        try:
            return result.failure, counts.total()
        except RunnerError as exc:
            return result.failure, exc


def _count(tmp_path: Path, command: str, tag: str, *, sandbox: Sandbox | None = None) -> int:
    out_dir = tmp_path / f"cg-{tag}"
    out_dir.mkdir()
    failure, count = _run(tmp_path, command, out_dir, sandbox=sandbox)
    assert failure is None, (out_dir / "stderr.log").read_text()
    assert isinstance(count, int), count
    return count


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
    failure, count = _run(tmp_path, command, out_dir)
    assert failure is None and isinstance(count, int) and count > 0
    assert marker.read_text() == "a b\n"
    # Valgrind's banner went to its log socket, not the project's stderr; nothing was
    # written in the working directory.
    assert (out_dir / "stderr.log").read_text() == ""
    assert not list(tmp_path.glob("cachegrind.out.*"))


# The code under test tries to write valgrind's log itself: through the descriptor, by
# reopening it through /proc, and by printing a summary line on its own stderr.
_FORGER = """
import os, sys
fd = int(sys.argv[1])
line = b"==1== I   refs:      1\\n"
for attempt in (lambda: os.write(fd, line),
                lambda: os.write(os.open(f"/proc/self/fd/{fd}", os.O_WRONLY), line),
                lambda: os.close(fd)):
    try:
        attempt()
        print("succeeded", file=sys.stderr)
    except OSError as exc:
        print(exc.errno, file=sys.stderr)
sys.stderr.buffer.write(line)
"""


@pytest.mark.parametrize("level", ["none", "auto"])
def test_the_code_under_test_cannot_write_the_log_it_is_counted_by(
    tmp_path: Path, level: str
) -> None:
    script = tmp_path / "forger.py"
    script.write_text(_FORGER)
    out_dir = tmp_path / "cg-forger"
    out_dir.mkdir()
    with InstructionLog() as probe:
        fd = probe.fd  # the same slot every log takes
    command = f"{sys.executable} -I -S {script} {fd}"
    failure, count = _run(tmp_path, command, out_dir, sandbox=Sandbox(level=level))
    assert failure is None, (out_dir / "stderr.log").read_text()
    errors = (out_dir / "stderr.log").read_text().splitlines()
    assert errors[:3] == ["9", "6", "9"], errors  # EBADF, ENXIO (a socket), EBADF
    assert isinstance(count, int) and count > 1_000_000  # Python's start-up, not 1


def test_a_program_replaced_by_exec_after_its_work_is_an_error(
    work_binary: Path, tmp_path: Path
) -> None:
    out_dir = tmp_path / "cg-exec"
    out_dir.mkdir()
    program = 'import os; sum(range(300000)); os.execv("/bin/true", ["true"])'
    command = f"{sys.executable} -I -S -c '{program}'"
    failure, count = _run(tmp_path, command, out_dir)
    assert failure is None
    assert isinstance(count, RunnerError)
    assert "started 2 program(s) under valgrind and reported 1 count(s)" in str(count)
    assert "replaced by exec" in str(count)


def test_a_program_killed_before_it_reports_is_an_error(tmp_path: Path) -> None:
    # Killed from outside (a signal a process sends itself still runs valgrind's exit).
    out_dir = tmp_path / "cg-killed"
    out_dir.mkdir()
    ready = tmp_path / "ready"
    program = f"import time; open({str(ready)!r}, 'w').close(); time.sleep(60)"
    command = (
        f'{sys.executable} -I -S -c "{program}" & '
        f"while [ ! -e {ready} ]; do sleep 0.1; done; kill -9 $!; wait; true"
    )
    failure, count = _run(tmp_path, command, out_dir)
    assert failure is None
    assert isinstance(count, RunnerError) and "reported 0 count(s)" in str(count), count


def test_a_command_not_under_valgrind_is_an_error(tmp_path: Path) -> None:
    out_dir = tmp_path / "cg-none"
    out_dir.mkdir()
    with InstructionLog() as counts:
        execute(
            "true",
            cwd=tmp_path,
            env=dict(os.environ),
            timeout=60,
            stdout_log=out_dir / "stdout.log",
            stderr_log=out_dir / "stderr.log",
            pass_fds=counts.pass_fds,
        )
        with pytest.raises(RunnerError, match=r"valgrind reported no program"):
            counts.total()


def test_missing_valgrind_names_the_package(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RunnerError, match=r"apt-get install valgrind"):
        require_valgrind()
    monkeypatch.undo()
    assert Path(require_valgrind()).name == "valgrind"

"""execute() against real shells, real process trees and real pipes."""

from __future__ import annotations

import json
import shlex
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from benchstone.runner._errors import RunnerError
from benchstone.runner._execute import Execution, child_environment, execute

PY = shlex.quote(sys.executable)


def run(tmp_path: Path, command: str, **options: object) -> Execution:
    logs = tmp_path / "logs"
    logs.mkdir(exist_ok=True)
    options.setdefault("timeout", 30.0)
    options.setdefault("kill_grace", 0.5)
    return execute(
        command,
        cwd=tmp_path,
        env=child_environment(),
        stdout_log=logs / "out.log",
        stderr_log=logs / "err.log",
        **options,  # type: ignore[arg-type]
    )


def python(code: str) -> str:
    """A shell word running ``code`` with this interpreter."""
    return f"{PY} -c {shlex.quote(textwrap.dedent(code))}"


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def read_pids(path: Path) -> list[int]:
    return [int(line) for line in path.read_text().split()]


def wait_for_file(path: Path) -> str:
    """Shell snippet: block until ``path`` exists (the child's own handshake, not a timer)."""
    return f"while [ ! -s {shlex.quote(str(path))} ]; do sleep 0.02; done"


def own_children() -> list[psutil.Process]:
    return psutil.Process().children(recursive=True)


# --- exit status, logs, failure strings ---------------------------------------------


def test_exit_code_output_and_private_logs(tmp_path: Path) -> None:
    result = run(tmp_path, "echo out; echo err >&2; printf 'no newline'; exit 3")
    assert result.returncode == 3
    assert result.signal is None
    assert not result.timed_out
    assert result.failure == "exit code 3"
    out, err = tmp_path / "logs/out.log", tmp_path / "logs/err.log"
    assert out.read_bytes() == b"out\nno newline"
    assert err.read_bytes() == b"err\n"
    assert result.stdout_bytes == len(b"out\nno newline")
    assert result.stderr_bytes == 4
    assert not result.stdout_truncated and not result.stderr_truncated
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert stat.S_IMODE(err.stat().st_mode) == 0o600


def test_clean_exit_has_no_failure(tmp_path: Path) -> None:
    result = run(tmp_path, "true")
    assert result.returncode == 0
    assert result.failure is None
    assert result.wall_seconds >= 0
    assert result.cpu_seconds is not None and result.cpu_seconds >= 0
    assert result.peak_rss_bytes is not None


def test_existing_log_is_replaced_and_made_private(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "out.log").write_text("old content that is longer\n")
    (logs / "out.log").chmod(0o644)
    run(tmp_path, "echo new")
    assert (logs / "out.log").read_text() == "new\n"
    assert stat.S_IMODE((logs / "out.log").stat().st_mode) == 0o600


def test_shell_killed_by_signal_is_reported(tmp_path: Path) -> None:
    result = run(tmp_path, "kill -s KILL $$")
    assert result.signal == signal.SIGKILL
    assert result.returncode is None
    assert not result.timed_out
    assert result.failure == "killed by SIGKILL"


def test_failure_strings() -> None:
    base = dict(
        returncode=0,
        signal=None,
        timed_out=False,
        wall_seconds=1.0,
        cpu_seconds=0.5,
        peak_rss_bytes=1,
        stdout_bytes=0,
        stderr_bytes=0,
        stdout_truncated=False,
        stderr_truncated=False,
    )
    assert Execution(**base).failure is None  # type: ignore[arg-type]
    timed = {**base, "returncode": None, "timed_out": True, "timeout_seconds": 30.0}
    assert Execution(**timed).failure == "timeout after 30 s"  # type: ignore[arg-type]
    signalled = {**base, "returncode": None, "signal": 11}
    assert Execution(**signalled).failure == "killed by SIGSEGV"  # type: ignore[arg-type]
    assert Execution(**{**base, "returncode": 2}).failure == "exit code 2"  # type: ignore[arg-type]


def test_on_start_gets_the_shell_pid(tmp_path: Path) -> None:
    seen: list[int] = []
    run(tmp_path, "echo $$", on_start=seen.append)
    assert seen == [int((tmp_path / "logs/out.log").read_text())]


# --- the child's environment and file descriptors ------------------------------------


def test_child_environment_drops_every_benchstone_variable() -> None:
    base = {"PATH": "/bin", "BENCHSTONE_HOME": "/store", "BENCHSTONE_X": "1", "HOME": "/h"}
    assert child_environment(base) == {"PATH": "/bin", "HOME": "/h"}
    assert base["BENCHSTONE_HOME"] == "/store"  # the caller's mapping is left alone


def test_child_does_not_see_benchstone_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BENCHSTONE_HOME", str(tmp_path / "store"))
    monkeypatch.setenv("BENCHSTONE_MAX_THREADS", "3")
    run(tmp_path, "env")
    output = (tmp_path / "logs/out.log").read_text()
    assert "PATH=" in output
    assert "BENCHSTONE" not in output


def test_child_stdout_and_stderr_are_pipes_not_paths(tmp_path: Path) -> None:
    code = """
        import json, os
        links = {}
        for fd in os.listdir("/proc/self/fd"):
            try:
                links[fd] = os.readlink(f"/proc/self/fd/{fd}")
            except FileNotFoundError:  # the descriptor listdir itself used
                pass
        print(json.dumps(links))
    """
    result = run(tmp_path, python(code))
    assert result.failure is None
    links = json.loads((tmp_path / "logs/out.log").read_text())
    assert links["1"].startswith("pipe:")
    assert links["2"].startswith("pipe:")
    assert links["0"] == "/dev/null"
    assert not any("logs" in target for target in links.values())


# --- measurement --------------------------------------------------------------------


def test_wall_clock_covers_a_sleep(tmp_path: Path) -> None:
    assert run(tmp_path, "sleep 1").wall_seconds >= 1.0


def test_cpu_time_of_a_busy_child(tmp_path: Path) -> None:
    busy = python("""
        import time
        while time.process_time() < 0.3:
            pass
    """)
    result = run(tmp_path, busy)
    assert result.cpu_seconds is not None
    assert result.cpu_seconds >= 0.29


def test_cpu_time_includes_a_daemon_the_harness_killed(tmp_path: Path) -> None:
    flag = tmp_path / "burned"
    daemon = python(f"""
        import os, time
        while time.process_time() < 0.3:
            pass
        open({str(flag)!r}, "w").write("1")
        time.sleep(60)
    """)
    command = f"setsid {daemon} >/dev/null 2>&1 </dev/null & {wait_for_file(flag)}"
    result = run(tmp_path, command)
    assert result.failure is None
    assert result.cpu_seconds is not None
    assert result.cpu_seconds >= 0.29


def test_peak_rss_of_a_big_child(tmp_path: Path) -> None:
    big = python("""
        import time
        block = b"x" * 200_000_000
        time.sleep(0.2)
    """)
    result = run(tmp_path, big)
    assert result.failure is None
    assert result.peak_rss_bytes is not None
    assert result.peak_rss_bytes >= 150_000_000


def test_peak_rss_sums_the_tree(tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    ready.mkdir()
    child = """
        import os, sys, time
        block = b"x" * 100_000_000
        open(os.path.join({ready!r}, str(os.getpid())), "w").close()
        while len(os.listdir({ready!r})) < 2:
            time.sleep(0.01)
        time.sleep(0.5)
    """.format(ready=str(ready))
    result = run(tmp_path, f"{python(child)} & {python(child)} & wait")
    assert result.failure is None
    assert result.peak_rss_bytes is not None
    # Each child alone peaks at ~100 MB: more than that is only seen by summing the tree.
    assert result.peak_rss_bytes >= 180_000_000


# --- output caps ----------------------------------------------------------------------


def test_output_past_the_cap_is_counted_and_dropped(tmp_path: Path) -> None:
    result = run(tmp_path, "seq 1 100000; seq 1 10 >&2", log_cap_bytes=1000)
    full = subprocess.run(["seq", "1", "100000"], capture_output=True, check=True).stdout
    assert result.stdout_bytes == len(full)
    assert result.stdout_truncated and not result.stderr_truncated
    log = (tmp_path / "logs/out.log").read_bytes()
    marker = (
        f"[benchstone: output truncated after 1000 bytes; {len(full) - 1000} bytes discarded]\n"
    )
    assert log[:1000] == full[:1000]
    tail = log[1000:].decode()
    assert tail in (marker, "\n" + marker)
    assert log.endswith(marker.encode())
    assert (tmp_path / "logs/err.log").read_bytes() == b"".join(
        f"{n}\n".encode() for n in range(1, 11)
    )


def test_a_gigabyte_of_output_keeps_the_harness_small(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    script = textwrap.dedent(f"""
        import json, resource
        from pathlib import Path
        from benchstone.runner._execute import child_environment, execute
        result = execute(
            "head -c 1000000000 /dev/zero",
            cwd=Path({str(tmp_path)!r}),
            env=child_environment(),
            timeout=120,
            stdout_log=Path({str(logs / "out.log")!r}),
            stderr_log=Path({str(logs / "err.log")!r}),
            log_cap_bytes=1 << 20,
        )
        print(json.dumps({{
            "stdout_bytes": result.stdout_bytes,
            "truncated": result.stdout_truncated,
            "failure": result.failure,
            "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        }}))
    """)
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    report = json.loads(done.stdout)
    assert report["failure"] is None
    assert report["stdout_bytes"] == 1_000_000_000
    assert report["truncated"] is True
    log = (logs / "out.log").read_bytes()
    marker = b"\n[benchstone: output truncated after 1048576 bytes; 998951424 bytes discarded]\n"
    assert log == b"\0" * (1 << 20) + marker
    # The harness read 1 GB; its own peak memory stays far below that.
    assert report["maxrss_kib"] * 1024 < 100_000_000


# --- timeouts and leftovers -----------------------------------------------------------


def test_timeout_kills_a_tree_that_ignores_sigterm(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    stubborn = python(f"""
        import os, signal, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        with open({str(pids)!r}, "a") as f:
            f.write(f"{{os.getpid()}}\\n")
        time.sleep(60)
    """)
    # One stubborn child stays in the group; one leaves it with setsid.
    command = f"{stubborn} & setsid {stubborn} & echo $$ >> {shlex.quote(str(pids))}; wait"
    shells: list[int] = []
    result = run(tmp_path, command, timeout=2.0, kill_grace=0.5, on_start=shells.append)
    assert result.timed_out
    assert result.returncode is None
    assert result.failure == "timeout after 2 s"
    assert result.wall_seconds >= 2.0
    recorded = read_pids(pids)
    assert len(recorded) == 3, "the children did not start within the timeout"
    for pid in [*recorded, *shells]:
        assert not alive(pid), f"process {pid} survived the timeout"
    assert own_children() == []


def test_a_daemon_is_killed_when_the_command_exits(tmp_path: Path) -> None:
    pidfile = tmp_path / "daemon.pid"
    # A proper daemon: fork, setsid, fork again, stdio on /dev/null; the command waits only
    # until the daemon has written its pid, then exits 0.
    daemon = python(f"""
        import os, sys, time
        if os.fork():
            sys.exit(0)
        os.setsid()
        if os.fork():
            os._exit(0)
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        with open({str(pidfile)!r} + ".tmp", "w") as f:
            f.write(str(os.getpid()))
        os.rename({str(pidfile)!r} + ".tmp", {str(pidfile)!r})
        time.sleep(60)
    """)
    result = run(tmp_path, f"{daemon}; {wait_for_file(pidfile)}; exit 0")
    assert result.failure is None
    pid = int(pidfile.read_text())
    assert not alive(pid)
    assert own_children() == []


def test_a_background_job_holding_stdout_does_not_hang_execute(tmp_path: Path) -> None:
    pidfile = tmp_path / "job.pid"
    result = run(tmp_path, f"setsid sleep 60 & echo $! > {shlex.quote(str(pidfile))}; echo done")
    assert result.failure is None
    assert (tmp_path / "logs/out.log").read_text() == "done\n"
    assert not alive(int(pidfile.read_text()))
    assert own_children() == []


def test_interrupt_kills_the_tree_and_is_reraised(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    pidfile = tmp_path / "child.pid"
    command = f"sleep 60 & echo $! > {shlex.quote(str(pidfile))}; wait"
    script = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        from benchstone.runner._execute import child_environment, execute
        try:
            execute(
                {command!r},
                cwd=Path({str(tmp_path)!r}),
                env=child_environment(),
                timeout=60,
                stdout_log=Path({str(logs / "out.log")!r}),
                stderr_log=Path({str(logs / "err.log")!r}),
            )
        except KeyboardInterrupt:
            print("interrupted")
            sys.exit(0)
        print("not interrupted")
    """)
    harness = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        while not pidfile.exists() or not pidfile.read_text().strip():
            assert harness.poll() is None, "the harness exited before starting the child"
            time.sleep(0.02)
        harness.send_signal(signal.SIGINT)
        out, _ = harness.communicate(timeout=30)
    finally:
        harness.kill()
        harness.wait()
    assert out.strip() == "interrupted"
    assert not alive(int(pidfile.read_text()))


def test_an_interrupt_between_fork_and_popen_returning_kills_the_tree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A Ctrl-C can land after Popen forked and before it returned (seen under load, in
    # about half the tries): the harness then has no Popen to end the command by. The
    # signal's timing is forced here; the shell, its child and the kill are real.
    pidfile = tmp_path / "child.pid"
    shells: list[int] = []
    original = subprocess.Popen._execute_child  # type: ignore[attr-defined]

    def interrupted(self: subprocess.Popen, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)
        shells.append(self.pid)
        while not pidfile.exists() or not pidfile.read_text().strip():
            time.sleep(0.01)
        raise KeyboardInterrupt

    monkeypatch.setattr(subprocess.Popen, "_execute_child", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path, f"sleep 60 & echo $! > {shlex.quote(str(pidfile))}; wait")
    monkeypatch.undo()
    assert not alive(shells[0])
    assert not alive(int(pidfile.read_text()))
    assert own_children() == []


def test_an_exception_from_on_start_kills_the_tree(tmp_path: Path) -> None:
    started: list[int] = []

    def explode(pid: int) -> None:
        started.append(pid)
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        run(tmp_path, "sleep 60", on_start=explode)
    assert not alive(started[0])
    assert own_children() == []


# --- bad input ----------------------------------------------------------------------


@pytest.mark.parametrize("timeout", [0, -1.0, float("nan")])
def test_bad_timeout_is_one_line(tmp_path: Path, timeout: float) -> None:
    with pytest.raises(RunnerError, match="timeout") as caught:
        run(tmp_path, "true", timeout=timeout)
    assert "\n" not in str(caught.value)


def test_missing_working_directory(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(RunnerError, match="working directory") as caught:
        execute(
            "true",
            cwd=missing,
            env={},
            timeout=5,
            stdout_log=tmp_path / "o",
            stderr_log=tmp_path / "e",
        )
    assert str(missing) in str(caught.value)


def test_missing_log_directory_names_the_log(tmp_path: Path) -> None:
    log = tmp_path / "no-such-dir" / "out.log"
    with pytest.raises(RunnerError, match="cannot open the log file") as caught:
        execute("true", cwd=tmp_path, env={}, timeout=5, stdout_log=log, stderr_log=log)
    assert str(log) in str(caught.value)
    assert "\n" not in str(caught.value)

"""The attacks of issue 11 against real ``execute()`` with a real store.

Each attack runs once unsandboxed (``sandbox="none"``: it must succeed, or the test proves
nothing) and once at each isolation level (bwrap namespaces, the Landlock fallback), where
it must fail.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from benchstone.runner import RunnerError, Sandbox, harness_paths, seal_environment
from benchstone.runner._execute import Execution, child_environment, execute
from benchstone.runner._landlock import abi_version
from benchstone.runner._sandbox import bwrap_path
from benchstone.store import Store

needs_bwrap = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap missing")
needs_landlock = pytest.mark.skipif(abi_version() == 0, reason="kernel without Landlock")
LEVELS = [
    pytest.param("bwrap", marks=needs_bwrap),
    pytest.param("landlock", marks=needs_landlock),
]
ISOLATION = {"bwrap": "namespaces", "landlock": "landlock", "none": "none"}


@pytest.fixture
def store_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A real store at $BENCHSTONE_HOME, and the platform default moved under tmp_path."""
    home = tmp_path / "home" / "benchstone"
    monkeypatch.setenv("BENCHSTONE_HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    Store.open(home).register("honest", tmp_path, "0" * 64)
    default = tmp_path / "xdg" / "benchstone"
    default.mkdir(parents=True)
    (default / "reference.bin").write_text("frozen reference")
    return home


def attack(tmp_path: Path, level: str, code: str, *, timeout: float = 30.0) -> Execution:
    """Run the Python ``code`` as the benchmark command, the store hidden at ``level``."""
    run_dir = tmp_path / "run"
    run_dir.mkdir(exist_ok=True)
    script = run_dir / "attack.py"
    script.write_text(textwrap.dedent(code))
    result = execute(
        f"{shlex.quote(sys.executable)} {shlex.quote(str(script))}",
        cwd=run_dir,
        env=child_environment(),
        timeout=timeout,
        kill_grace=0.5,
        stdout_log=tmp_path / "out.log",
        stderr_log=tmp_path / "err.log",
        sandbox=Sandbox(
            level=level,
            hidden=harness_paths(Path(os.environ["BENCHSTONE_HOME"])),
            writable=(run_dir,),
        ),
    )
    assert result.isolation == ISOLATION[level]
    return result


def stolen(tmp_path: Path) -> str:
    return (tmp_path / "out.log").read_text()


PROC_SNOOP = """
    import os
    pid = os.getppid()
    while pid > 1:
        try:
            env = open(f"/proc/{pid}/environ", "rb").read()
            if b"BENCHSTONE_HOME=" in env:
                print("environ", pid)
            for fd in os.listdir(f"/proc/{pid}/fd"):
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
                if "benchstone.db" in target:
                    print("fd", target)
            pid = int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[1])
        except OSError:
            break
"""


def test_proc_snooping_finds_the_store_without_a_sandbox(store_home: Path, tmp_path: Path) -> None:
    keep_open = Store.open(store_home)  # the harness holds the database open, as a batch does
    attack(tmp_path, "none", PROC_SNOOP)
    keep_open.close()
    # (/proc/PID/environ shows the environment at exec; a harness started with
    # BENCHSTONE_HOME set shows it there too, and the same walk reads it.)
    assert f"fd {store_home}/benchstone.db" in stolen(tmp_path)


@pytest.mark.parametrize("level", LEVELS)
def test_proc_snooping_sees_no_harness(store_home: Path, tmp_path: Path, level: str) -> None:
    keep_open = Store.open(store_home)
    result = attack(tmp_path, level, PROC_SNOOP)
    keep_open.close()
    assert result.failure is None, (tmp_path / "err.log").read_text()
    assert stolen(tmp_path) == ""


OPEN_STORE = """
    import os, pathlib
    for home in (os.environ.get("BENCHSTONE_HOME"), {home!r}, {default!r}):
        if not home:
            continue
        try:
            names = os.listdir(home)
            print("listed", home, sorted(names))
        except OSError:
            continue
        for name in names:
            try:
                print("read", name, len(open(os.path.join(home, name), "rb").read(10)))
            except OSError:
                pass
"""


def open_store(home: Path, tmp_path: Path) -> str:
    return OPEN_STORE.format(home=str(home), default=str(tmp_path / "xdg" / "benchstone"))


def test_the_store_opens_without_a_sandbox(store_home: Path, tmp_path: Path) -> None:
    attack(tmp_path, "none", open_store(store_home, tmp_path))
    assert "read benchstone.db" in stolen(tmp_path)
    assert "read reference.bin" in stolen(tmp_path)


@pytest.mark.parametrize("level", LEVELS)
def test_the_store_is_out_of_reach(store_home: Path, tmp_path: Path, level: str) -> None:
    result = attack(tmp_path, level, open_store(store_home, tmp_path))
    assert result.failure is None, (tmp_path / "err.log").read_text()
    assert "read" not in stolen(tmp_path)


APPEND_ROWS = """
    from benchstone.store import Store
    try:
        Store.open({home!r}).register("forged", "/", "f" * 64)
        print("appended")
    except Exception as exc:
        print("refused", type(exc).__name__)
"""


def test_importing_the_store_appends_without_a_sandbox(store_home: Path, tmp_path: Path) -> None:
    attack(tmp_path, "none", APPEND_ROWS.format(home=str(store_home)))
    assert Store.open(store_home).project("forged") is not None


@pytest.mark.parametrize("level", LEVELS)
def test_imported_store_cannot_reach_the_real_one(
    store_home: Path, tmp_path: Path, level: str
) -> None:
    attack(tmp_path, level, APPEND_ROWS.format(home=str(store_home)))
    real = Store.open(store_home)
    assert real.project("forged") is None
    assert real.project("honest") is not None
    assert real.verify().ok


DETACHED = """
    import os, time
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            time.sleep(1.5)
            open("result.json", "w").write("from the child")
        os._exit(0)
    open("result.json", "w").write("from the main process")
"""


@pytest.mark.parametrize("level", LEVELS)
def test_a_detached_child_is_part_of_the_run(store_home: Path, tmp_path: Path, level: str) -> None:
    result = attack(tmp_path, level, DETACHED)
    assert result.failure is None, (tmp_path / "err.log").read_text()
    assert result.wall_seconds >= 1.5
    assert (tmp_path / "run" / "result.json").read_text() == "from the child"


def marked(marker: str) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cmdline", "status"]):
        cmdline = proc.info["cmdline"] or []
        if any(marker in part for part in cmdline) and proc.info["status"] != "zombie":
            found.append(proc)
    return found


def assert_nothing_left(marker: str) -> None:
    give_up = time.monotonic() + 5
    while marked(marker) and time.monotonic() < give_up:
        time.sleep(0.05)
    assert marked(marker) == []


FORK_CHAIN = """
    import os, sys, time
    # marker: {marker}
    while True:
        if os.fork() != 0:
            os._exit(0)   # the parent leaves; the child goes on with a new pid
        time.sleep(0.001)
"""


@pytest.mark.parametrize("level", LEVELS)
def test_a_fork_chain_leaves_nothing_behind(store_home: Path, tmp_path: Path, level: str) -> None:
    marker = f"forkchain-{tmp_path.name}"
    code = FORK_CHAIN.format(marker=marker)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / f"{marker}.py").write_text(textwrap.dedent(code))
    result = attack(tmp_path, level, f"import runpy; runpy.run_path({marker + '.py'!r})", timeout=1)
    assert result.timed_out
    assert_nothing_left(marker)


DAEMON = """
    import os, signal, sys
    if os.fork() == 0:
        os.setsid()
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # inherited across exec
        os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(300)", "{marker}"])
"""


@pytest.mark.parametrize("level", LEVELS)
def test_a_sigterm_ignoring_daemon_leaves_nothing_behind(
    store_home: Path, tmp_path: Path, level: str
) -> None:
    marker = f"daemon-{tmp_path.name}"
    result = attack(tmp_path, level, DAEMON.replace("{marker}", marker), timeout=1)
    assert result.timed_out
    assert_nothing_left(marker)


def start_true(tmp_path: Path, level: str) -> None:
    execute(
        "true",
        cwd=tmp_path,
        env={},
        timeout=5,
        stdout_log=tmp_path / "o",
        stderr_log=tmp_path / "e",
        sandbox=Sandbox(level=level, hidden=(tmp_path / "store",)),
    )


def test_auto_names_the_fix_when_nothing_isolates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no bwrap on PATH
    bwrap_path.cache_clear()
    request.addfinalizer(bwrap_path.cache_clear)
    # A kernel without Landlock cannot be had here; its probe answers as one would.
    monkeypatch.setattr("benchstone.runner._landlock.abi_version", lambda: 0)
    with pytest.raises(RunnerError, match=r"nor does the kernel offer Landlock.*apt-get install"):
        start_true(tmp_path, "auto")
    with pytest.raises(RunnerError, match=r"sandbox = 'bwrap' needs bubblewrap"):
        start_true(tmp_path, "bwrap")
    with pytest.raises(RunnerError, match='"landlock" needs a kernel with Landlock'):
        start_true(tmp_path, "landlock")


def test_unknown_level_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(
        RunnerError, match="'jail' is not a sandbox level; use one of 'auto', 'bwrap', 'landlock'"
    ):
        start_true(tmp_path, "jail")


def test_seal_environment_drops_benchstone_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BENCHSTONE_HOME", "/somewhere")
    monkeypatch.setenv("benchstone_other", "x")
    sealed = seal_environment()
    assert sealed == {"BENCHSTONE_HOME": "/somewhere", "benchstone_other": "x"}
    assert not any(key.upper().startswith("BENCHSTONE_") for key in os.environ)


@needs_bwrap
@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("setpriv") is None, reason="needs root and setpriv"
)
def test_bwrap_level_works_for_an_unprivileged_user() -> None:
    """The harness as ``nobody``: bwrap then needs unprivileged user namespaces."""
    with tempfile.TemporaryDirectory(prefix="benchstone-nobody-") as tmp:
        unprivileged_run(Path(tmp))


def unprivileged_run(work: Path) -> None:
    (work / "store").mkdir(parents=True)
    (work / "store" / "secret").write_text("frozen reference")
    (work / "run").mkdir()
    for path in (work, work / "store", work / "run"):
        path.chmod(0o777)
    script = textwrap.dedent(
        f"""
        from pathlib import Path
        from benchstone.runner import Sandbox, execute
        work = Path({str(work)!r})
        result = execute(
            "cat ../store/secret; id -u > uid",
            cwd=work / "run", env={{"PATH": "/usr/bin:/bin"}}, timeout=30,
            stdout_log=work / "out.log", stderr_log=work / "err.log",
            sandbox=Sandbox(level="bwrap", hidden=(work / "store",)),
        )
        print(result.isolation, result.failure)
        """
    )
    done = subprocess.run(
        ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", sys.executable],
        input=script,
        capture_output=True,
        text=True,
        check=False,
        cwd=work,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[0] == "namespaces"
    assert (work / "run" / "uid").read_text().strip() != "0"
    assert "frozen reference" not in (work / "out.log").read_text()


@pytest.mark.parametrize("level", LEVELS)
def test_a_symlink_to_the_store_leads_nowhere(store_home: Path, tmp_path: Path, level: str) -> None:
    (tmp_path / "alias").symlink_to(store_home.parent)
    through = tmp_path / "alias" / "benchstone" / "benchstone.db"
    code = f"""
        try:
            print(len(open({str(through)!r}, "rb").read()))
        except OSError as exc:
            print("denied", exc.errno)
    """
    attack(tmp_path, level, code)
    assert stolen(tmp_path).startswith("denied")


CONNECT_OUT = """
import socket, sys
try:
    socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5).sendall(b"x")
    print("connected")
except OSError as exc:
    print("refused", exc.errno)
"""


@pytest.mark.skipif(bwrap_path() is None, reason="bubblewrap not installed")
@pytest.mark.parametrize("network", [True, False])
def test_network_false_takes_the_repetition_off_the_network(tmp_path: Path, network: bool) -> None:
    import socket

    server = socket.create_server(("127.0.0.1", 0))
    script = tmp_path / "connect.py"
    script.write_text(CONNECT_OUT)
    try:
        port = server.getsockname()[1]
        result = execute(
            f"{shlex.quote(sys.executable)} {shlex.quote(str(script))} {port}",
            cwd=tmp_path,
            env=child_environment(),
            timeout=30,
            stdout_log=tmp_path / "out.log",
            stderr_log=tmp_path / "err.log",
            sandbox=Sandbox(level="bwrap", network=network),
        )
    finally:
        server.close()
    assert result.failure is None, (tmp_path / "err.log").read_text()
    out = (tmp_path / "out.log").read_text().strip()
    assert out == "connected" if network else out.startswith("refused"), out


@pytest.mark.skipif(abi_version() == 0, reason="no Landlock in this kernel")
def test_the_landlock_level_refuses_network_false_rather_than_ignore_it() -> None:
    assert Sandbox(level="landlock", network=True).isolation == "landlock"
    with pytest.raises(RunnerError, match=r"network = false needs bubblewrap .*apt-get install"):
        Sandbox(level="landlock", network=False).isolation  # noqa: B018

"""The strict sandbox of held-out corpora, attacked with real bwrap and real sockets.

The code under test reads a corpus it must not take away. Every way out it tries (a copy
into the project tree or $HOME, a file in /tmp, a TCP connection, a Unix socket another
process of the same user listens on) is tried once in the ordinary sandbox, where it
works (or the test would prove nothing), and once in the strict one, where it must fail
while the corpus stays readable and the run directory writable.
"""

from __future__ import annotations

import os
import shlex
import shutil
import socket
import sys
import tempfile
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchstone.runner import RunnerError, Sandbox
from benchstone.runner._execute import Execution, child_environment, execute
from benchstone.runner._seccomp import program

pytestmark = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap missing")

SECRET = "held-out answer 42\n"


def _run(tmp_path: Path, code: str, *, strict: bool) -> tuple[Execution, str]:
    """Run Python ``code`` with the corpus at ``run/corpus``; its stdout."""
    project = tmp_path / "project"
    project.mkdir(exist_ok=True)
    run_dir = tmp_path / ("run-strict" if strict else "run-plain")
    run_dir.mkdir()
    corpus = tmp_path / "store-corpus"
    corpus.mkdir(exist_ok=True)
    (corpus / "data.txt").write_text(SECRET)
    target = run_dir / "corpus"
    target.mkdir()
    if not strict:
        shutil.copy(corpus / "data.txt", target / "data.txt")
    script = run_dir / "code.py"
    script.write_text(textwrap.dedent(code))
    out = run_dir / "stdout.log"
    result = execute(
        f"{shlex.quote(sys.executable)} {shlex.quote(str(script))} {shlex.quote(str(run_dir))}",
        cwd=project,
        env=child_environment(),
        timeout=60,
        stdout_log=out,
        stderr_log=tmp_path / f"stderr-{strict}.log",
        sandbox=Sandbox(
            level="auto",
            writable=(run_dir,),
            strict=strict,
            readonly=((corpus, target),) if strict else (),
        ),
    )
    return result, out.read_text()


def test_strict_run_reads_the_corpus_and_writes_only_its_run_dir(tmp_path: Path) -> None:
    home_copy = Path.home() / f".benchstone-test-leak-{tmp_path.name}"
    tmp_copy = Path("/tmp") / f"benchstone-test-leak-{tmp_path.name}"
    code = f"""
    import os, sys
    from pathlib import Path
    run = Path(sys.argv[1])
    data = (run / "corpus" / "data.txt").read_text()
    print("read", data == {SECRET!r})
    for name, target in [("tree", Path.cwd() / "stolen.txt"), ("home", Path({str(home_copy)!r})),
                         ("corpus", run / "corpus" / "extra.txt"), ("tmp", Path({str(tmp_copy)!r})),
                         ("run", run / "result.json")]:
        try:
            target.write_text(data)
            print(name, "written")
        except OSError as exc:
            print(name, "refused", exc.errno)
    print("tmpdir", os.environ.get("TMPDIR"))
    """
    try:
        plain, plain_out = _run(tmp_path, code, strict=False)
        assert plain.failure is None and plain.isolation == "namespaces"
        assert "tree written" in plain_out and "home written" in plain_out  # the attack works
        (tmp_path / "project" / "stolen.txt").unlink()
        home_copy.unlink()
        # /tmp is private in the ordinary sandbox too: written there, gone with the run.
        assert "tmp written" in plain_out and not tmp_copy.exists()

        strict, out = _run(tmp_path, code, strict=True)
        assert strict.failure is None, (tmp_path / "stderr-True.log").read_text()
        assert strict.isolation == "strict"
        lines = out.splitlines()
        assert lines[0] == "read True"
        assert "tree refused 30" in lines and "home refused 30" in lines  # EROFS
        assert "corpus refused 30" in lines
        assert "tmp written" in lines and "run written" in lines
        assert lines[-1] == "tmpdir /tmp"
        assert not (tmp_path / "project" / "stolen.txt").exists()
        assert not home_copy.exists()
        assert not tmp_copy.exists()  # /tmp was the run's own and died with it
        assert (tmp_path / "run-strict" / "result.json").read_text() == SECRET
    finally:
        home_copy.unlink(missing_ok=True)
        tmp_copy.unlink(missing_ok=True)


def _listen(family: int, address: object) -> tuple[socket.socket, list[bytes]]:
    server = socket.socket(family, socket.SOCK_STREAM)
    server.bind(address)
    server.listen(1)
    server.settimeout(20)
    received: list[bytes] = []

    def accept() -> None:
        try:
            connection, _ = server.accept()
            received.append(connection.recv(100))
            connection.close()
        except OSError:
            pass

    threading.Thread(target=accept, daemon=True).start()
    return server, received


CONNECT = """
import socket, sys
family, address = {family}, {address!r}
try:
    client = socket.socket(family, socket.SOCK_STREAM)
    client.connect(address)
    client.sendall(open(sys.argv[1] + "/corpus/data.txt", "rb").read())
    print("sent")
except OSError as exc:
    print("refused", exc.errno)
"""


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A directory with a short path: a Unix socket's path is limited to 107 bytes, and
    pytest's tmp_path under a nox session's TMPDIR can be longer. Not under /tmp, which is
    private to every sandbox (the ordinary one must reach the listener for the attack to
    work there)."""
    shm = Path("/dev/shm")
    parent = shm if shm.is_dir() and os.access(shm, os.W_OK) else Path.home()
    path = Path(tempfile.mkdtemp(prefix="bs-", dir=parent))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.mark.parametrize("kind", ["unix", "tcp"])
def test_strict_run_cannot_send_the_corpus_to_a_listener_outside(
    tmp_path: Path, short_dir: Path, kind: str
) -> None:
    for strict in (False, True):
        if kind == "unix":
            path = short_dir / f"listener-{strict}.sock"
            server, received = _listen(socket.AF_UNIX, str(path))
            code = CONNECT.format(family=int(socket.AF_UNIX), address=str(path))
        else:
            server, received = _listen(socket.AF_INET, ("127.0.0.1", 0))
            code = CONNECT.format(family=int(socket.AF_INET), address=server.getsockname())
        try:
            result, out = _run(_fresh(tmp_path, f"{kind}-{strict}"), code, strict=strict)
        finally:
            server.close()
        assert result.failure is None
        if not strict:
            assert out.strip() == "sent"  # the attack works in the ordinary sandbox
            server_done = received == [SECRET.encode()] or _wait_for(received)
            assert server_done
        if strict:
            assert out.startswith("refused"), out
            assert received == []


def _wait_for(received: list[bytes]) -> bool:
    """The listener thread may still be reading what the run sent before it exited."""
    for _ in range(200):
        if received:
            return received == [SECRET.encode()]
        threading.Event().wait(0.05)
    return False


def _fresh(tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    path.mkdir()
    return path


def test_strict_run_keeps_socketpairs_and_ip_sockets_inside(tmp_path: Path) -> None:
    code = """
    import socket
    a, b = socket.socketpair()
    a.sendall(b"x")
    print("pair", b.recv(1) == b"x")
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    print("loopback bind ok")
    """
    result, out = _run(tmp_path, code, strict=True)
    assert result.failure is None
    assert out.splitlines() == ["pair True", "loopback bind ok"]


@pytest.mark.parametrize("level", ["none", "landlock"])
def test_strict_sandbox_is_refused_below_bubblewrap(level: str) -> None:
    with pytest.raises(RunnerError, match=r"needs bubblewrap, not sandbox = '"):
        _ = Sandbox(level=level, strict=True).isolation


def test_the_filter_is_whole_instructions() -> None:
    code = program()
    assert len(code) % 8 == 0 and 8 <= len(code) // 8 <= 32

"""Held-out corpora (issue 11 part 7), end to end with the real `bench` and real bwrap.

The corpus is imported into the store from outside the project; runs read it read-only in
the strict sandbox. The attack: the project's own code (outside the locked bench/) tries
to take the corpus away -- a copy into the project tree and into $HOME, a send to a Unix
socket the agent listens on, the whole text stuffed into the result's metadata -- and
every one of them fails, while the run still reads the corpus and reports its number.
"""

from __future__ import annotations

import json
import shutil
import socket
import tempfile
import threading
from pathlib import Path

import pytest
from _support import commit_all, git, python_manifest

pytestmark = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap missing")

BENCHMARKS = """
[[benchmarks]]
name = "held"
tier = "quality"
metric_direction = "maximize"
repetitions = 2
baseline_seeds = [1, 2]
held_out = true

[[benchmarks]]
name = "visible"
tier = "quality"
metric_direction = "maximize"
repetitions = 2
baseline_seeds = [1, 2]
"""

RUNNER = """\
import sys
from pathlib import Path

sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from solver import solve  # noqa: E402

from benchstone.protocol import Runner  # noqa: E402

runner = Runner()


@runner.entry_point
def held(config):
    return solve(config)


@runner.entry_point
def visible(config):
    return 1.0


runner.main()
"""

HONEST = """\
from pathlib import Path


def solve(config):
    numbers = (Path(config.corpus_path) / "inputs.txt").read_text().split()
    return float(sum(int(n) for n in numbers))
"""

# The attack: read the corpus, then try every way out; report which worked (small).
EXFILTRATING = """\
import os
import socket
import tempfile
from pathlib import Path

TREE = Path(__file__).resolve().parent / "stolen.txt"
HOME = Path({home!r})
SOCKET = {sock!r}


def solve(config):
    corpus = Path(config.corpus_path)
    data = (corpus / "inputs.txt").read_text()
    tried = {{}}
    for name, target in (("tree", TREE), ("home", HOME), ("corpus", corpus / "more.txt")):
        try:
            target.write_text(data)
            tried[name] = "written"
        except OSError as exc:
            tried[name] = f"refused {{exc.errno}}"
    try:
        client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        client.connect(SOCKET)
        client.sendall(data.encode())
        tried["socket"] = "sent"
    except OSError as exc:
        tried["socket"] = f"refused {{exc.errno}}"
    try:
        socket.create_connection(("1.1.1.1", 53), timeout=2)
        tried["network"] = "connected"
    except OSError as exc:
        tried["network"] = f"refused {{exc.errno}}"
    print(data)  # stdout and stderr are logs the CLI shows: none of it is kept
    return {{"metric": float(len(data.split())), "metadata": tried}}
"""

STUFFING = """\
from pathlib import Path


def solve(config):
    data = (Path(config.corpus_path) / "inputs.txt").read_text()
    return {"metric": 1.0, "metadata": {"corpus": data}}
"""

SECRET_NUMBERS = " ".join(str(n) for n in range(100, 300))


def _corpus(tmp_path: Path, text: str = SECRET_NUMBERS) -> Path:
    corpus = tmp_path / "held-out-inputs"
    corpus.mkdir(exist_ok=True)
    (corpus / "inputs.txt").write_text(text + "\n")
    return corpus


def _project(bench, make_python_project, name: str) -> Path:
    root = make_python_project(
        name,
        manifest=python_manifest(name, benchmarks=BENCHMARKS),
        files={"bench/runner.py": RUNNER, "solver.py": HONEST},
    )
    assert bench("register", str(root)).code == 0
    return root


def _runs(bench, name: str) -> list[dict]:
    return json.loads(bench("history", name, "held", "--json").out)["runs"]


def test_import_pins_the_corpus_in_the_store_and_runs_read_it(
    bench, make_python_project, tmp_path, home
) -> None:
    root = _project(bench, make_python_project, "heldout")
    r = bench("run", "heldout", "held")
    assert r.code != 0 and "`bench corpus import heldout held PATH`" in r.err, r.err

    corpus = _corpus(tmp_path)
    r = bench("corpus", "import", "heldout", "held", str(corpus), "--json")
    assert r.code == 0, r.err
    imported = json.loads(r.out)
    assert imported["action"] == "import" and imported["corpus_type"] == "tree"
    assert imported["files"] == 1 and imported["digest"].startswith("blake3:")
    stored = home / "corpora" / "blake3" / imported["digest"].split(":")[1]
    assert (stored / "inputs.txt").read_text() == SECRET_NUMBERS + "\n"
    shutil.rmtree(corpus)  # the store's copy is the one that runs

    r = bench("run", "heldout", "held")
    assert r.code == 0, r.out + r.err
    runs = _runs(bench, "heldout")
    assert [run["status"] for run in runs] == ["ok", "ok"]
    assert {run["metric"] for run in runs} == {float(sum(range(100, 300)))}
    assert {run["corpus_digest"] for run in runs} == {imported["digest"]}
    assert {run["isolation"] for run in runs} == {"strict"}
    assert git(root, "status", "--porcelain") == ""

    # Refusals: another benchmark, the project's own tree, a replacement without reason.
    inside = root / "data"
    inside.mkdir()
    (inside / "x.txt").write_text("1\n")
    r = bench("corpus", "import", "heldout", "held", str(inside))
    assert r.code != 0 and "is inside the project tree" in r.err, r.err
    shutil.rmtree(inside)
    r = bench("corpus", "import", "heldout", "visible", str(_corpus(tmp_path)))
    assert r.code != 0 and "does not declare held_out = true" in r.err, r.err
    r = bench("corpus", "import", "heldout", "held", str(_corpus(tmp_path, "7 8")))
    assert r.code != 0 and "needs --reason" in r.err, r.err
    r = bench(
        "corpus", "import", "heldout", "held", str(_corpus(tmp_path, "7 8")), "--reason", "v2"
    )
    assert r.code == 0 and r.out.startswith("held-out corpus replaced: heldout/held -> "), r.err
    assert bench("run", "heldout", "held").code == 0
    latest = max(_runs(bench, "heldout"), key=lambda run: run["id"])
    assert latest["metric"] == 15.0
    r = bench("verify")
    assert r.code == 0 and r.lines[-1] == "verify: ok", r.out


def test_the_code_under_test_cannot_take_the_held_out_corpus_away(
    bench, make_python_project, tmp_path
) -> None:
    root = _project(bench, make_python_project, "thief")
    assert bench("corpus", "import", "thief", "held", str(_corpus(tmp_path))).code == 0
    home_copy = Path.home() / f".benchstone-held-out-leak-{tmp_path.name}"
    # A Unix socket's path is limited to 107 bytes; tmp_path in a CI clone can be longer.
    sock_dir = Path(tempfile.mkdtemp(prefix="bs-", dir="/tmp"))
    sock_path = sock_dir / "agent.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(sock_path))
    server.listen(4)
    server.settimeout(60)
    received: list[bytes] = []

    def agent() -> None:
        try:
            while True:
                connection, _ = server.accept()
                received.append(connection.recv(1 << 16))
        except OSError:
            pass

    threading.Thread(target=agent, daemon=True).start()
    try:
        (root / "solver.py").write_text(
            EXFILTRATING.format(home=str(home_copy), sock=str(sock_path))
        )
        commit_all(root, "take the corpus")
        r = bench("run", "thief", "held")
        assert r.code == 0, r.out + r.err
        assert SECRET_NUMBERS not in r.out + r.err
        runs = _runs(bench, "thief")
        assert [run["status"] for run in runs] == ["ok", "ok"]
        assert runs[0]["metric"] == 200.0  # it did read the corpus
        tried = runs[0]["metadata"]
        assert tried["tree"] == "refused 30" and tried["home"] == "refused 30"  # EROFS
        assert tried["corpus"] == "refused 30"
        assert tried["socket"] == "refused 13"  # EACCES: the socket filter
        assert tried["network"].startswith("refused"), tried
        assert not (root / "solver.stolen").exists() and not (root / "stolen.txt").exists()
        assert not home_copy.exists()
        assert received == []
        assert git(root, "status", "--porcelain") == ""
        for run in runs:  # the logs kept no byte of what it printed
            assert SECRET_NUMBERS not in Path(run["stdout_log"]).read_text()

        (root / "solver.py").write_text(STUFFING)
        commit_all(root, "stuff the corpus into metadata")
        r = bench("run", "thief", "held", "--json")
        stuffed = json.loads(r.out)["runs"]
        assert [run["status"] for run in stuffed] == ["error", "error"]
        assert "over the cap of 512 bytes" in stuffed[0]["message"], stuffed[0]["message"]
        assert all(SECRET_NUMBERS not in json.dumps(run) for run in stuffed)
        assert SECRET_NUMBERS not in bench("history", "thief", "held", "--json").out
    finally:
        server.close()
        shutil.rmtree(sock_dir, ignore_errors=True)
        home_copy.unlink(missing_ok=True)

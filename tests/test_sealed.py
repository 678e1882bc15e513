"""Sealed execution: the code under test attacks the referee, through the real `bench`.

Each attack lives in the project's runner (code the agent may edit). It is run twice:
with ``sandbox = "none"`` it succeeds — so the test can fail — and with the default
sandbox (bubblewrap, installed by .ci/run) it must not.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import textwrap
import time
from pathlib import Path

import psutil
import pytest
from _support import PROTOCOL_ARGS, commit_all, git

pytestmark = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap not installed")


def _project(parent: Path, runner: str, *, sandbox: str, tier: str = "performance") -> Path:
    import sys

    root = parent / f"proj-{sandbox}"
    (root / "bench").mkdir(parents=True)
    (root / "bench" / "runner.py").write_text(textwrap.dedent(runner))
    extra = f'sandbox = "{sandbox}"' if sandbox != "auto" else ""
    direction = 'metric_direction = "minimize"\n' if tier != "correctness" else ""
    stats = "repetitions = 2\nbaseline_seeds = [1, 2]\n" if tier != "correctness" else ""
    (root / "bench" / "manifest.toml").write_text(
        f'[project]\nname = "sealed{sandbox}"\nlanguage = "python"\n'
        f'invocation = "{sys.executable} bench/runner.py {PROTOCOL_ARGS}"\n{extra}\n\n'
        f'[[benchmarks]]\nname = "b"\ntier = "{tier}"\n{direction}{stats}timeout_seconds = 20\n'
    )
    git(root, "init", "-q")
    commit_all(root, "init")
    return root


def _rows(home: Path) -> list[sqlite3.Row]:
    conn = sqlite3.connect(home / "benchstone.db")
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute("SELECT * FROM runs ORDER BY id").fetchall()
    finally:
        conn.close()


SNOOP = """\
import json, os, sys
args = dict(a.split("=", 1) for a in sys.argv[1:])
found = []
pid = os.getppid()
for entry in os.listdir("/proc"):
    if entry.isdigit():
        try:
            env = open(f"/proc/{entry}/environ", "rb").read()
        except OSError:
            continue
        for item in env.split(b"\\0"):
            if item.startswith(b"BENCHSTONE_HOME="):
                found.append(item.split(b"=", 1)[1].decode())
homes = sorted(set(found)) + [HOME]
visible = [h for h in homes if os.path.exists(os.path.join(h, "benchstone.db"))]
json.dump({"status": "ok", "metric": 1.0,
           "metadata": {"found": sorted(set(found)), "visible": visible}},
          open(args["--output"], "w"))
"""


@pytest.mark.parametrize("sandbox", ["none", "auto"])
def test_the_store_cannot_be_found_through_proc_or_its_path(tmp_path, home, bench, sandbox):
    root = _project(tmp_path, SNOOP.replace("HOME]", repr(str(home)) + "]"), sandbox=sandbox)
    assert bench("register", str(root)).code == 0
    result = bench("run", f"sealed{sandbox}", "b", "-n", "1", "--json")
    assert result.code == 0, result.stderr
    (row,) = _rows(home)
    metadata = json.loads(row["metadata"])
    if sandbox == "none":
        assert metadata["visible"] and row["isolation"] == "none"
    else:
        assert metadata == {"found": [], "visible": []}
        assert row["isolation"] == "namespaces"


FORGE = """\
import json, sys
args = dict(a.split("=", 1) for a in sys.argv[1:])
from benchstone.store import NewRun, Store
forged = 0
try:
    with Store.open(HOME) as store:
        store.append_run(NewRun(project="PROJECT", benchmark="b", git_sha="a" * 40,
                                status="ok", metric=0.001))
        forged = 1
except Exception:
    pass
json.dump({"status": "ok", "metric": 1.0, "metadata": {"forged": forged}},
          open(args["--output"], "w"))
"""


@pytest.mark.parametrize("sandbox", ["none", "auto"])
def test_importing_the_store_cannot_append_rows(tmp_path, home, bench, sandbox):
    runner = FORGE.replace("HOME", repr(str(home))).replace("PROJECT", f"sealed{sandbox}")
    root = _project(tmp_path, runner, sandbox=sandbox)
    assert bench("register", str(root)).code == 0
    assert bench("run", f"sealed{sandbox}", "b", "-n", "1").code == 0
    rows = _rows(home)
    forged = [r for r in rows if r["git_sha"] == "a" * 40]
    if sandbox == "none":
        assert forged
    else:
        assert forged == [] and len(rows) == 1
        assert bench("verify").code == 0


DETACHED = """\
import json, os, sys, time
args = dict(a.split("=", 1) for a in sys.argv[1:])
if os.fork() == 0:
    os.setsid()
    time.sleep(1.5)
    json.dump({"status": "ok", "metric": 2.0}, open(args["--output"], "w"))
    os._exit(0)
os._exit(0)
"""


def test_a_detached_child_is_waited_for_and_timed(tmp_path, home, bench):
    root = _project(tmp_path, DETACHED, sandbox="auto")
    assert bench("register", str(root)).code == 0
    assert bench("run", "sealedauto", "b", "-n", "1").code == 0
    (row,) = _rows(home)
    assert row["status"] == "ok" and row["reported_metric"] == 2.0
    assert row["wall_clock"] >= 1.5


DAEMON = """\
import os, signal, sys, time
if os.fork() == 0:
    os.setsid()
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    while True:
        if os.fork() == 0:  # a fork-and-exit chain: a new pid every few milliseconds
            time.sleep(0.002)
            os._exit(0)
        time.sleep(0.002)
        os.wait()
os._exit(0)
"""


def test_a_daemon_and_fork_chain_leave_nothing_behind(tmp_path, home, bench):
    root = _project(tmp_path, DAEMON, sandbox="auto")
    manifest = root / "bench" / "manifest.toml"
    manifest.write_text(manifest.read_text().replace("timeout_seconds = 20", "timeout_seconds = 3"))
    commit_all(root, "short timeout")
    assert bench("register", str(root)).code == 0
    bench("run", "sealedauto", "b", "-n", "1")
    (row,) = _rows(home)
    assert row["status"] == "error" and "timeout" in row["message"]
    time.sleep(0.5)
    runner = str(root / "bench" / "runner.py")
    survivors = [
        p for p in psutil.process_iter(["cmdline"]) if runner in " ".join(p.info["cmdline"] or [])
    ]
    assert survivors == []


LINK = """\
import glob, json, os, sys
args = dict(a.split("=", 1) for a in sys.argv[1:])
config = json.load(open(args["--config"]))
blobs = sorted(glob.glob(os.path.join(HOME, "artifacts", "sha256", "*", "*.bin")))
if blobs:
    os.symlink(blobs[0], config["artifact_path"])
else:
    open(config["artifact_path"], "w").write("computed\\n")
json.dump({"status": "ok", "metric": 1.0}, open(args["--output"], "w"))
"""


@pytest.mark.parametrize("sandbox", ["none", "auto"])
def test_a_symlinked_artifact_is_an_error_row(tmp_path, home, bench, sandbox):
    root = _project(
        tmp_path, LINK.replace("HOME", repr(str(home))), sandbox=sandbox, tier="correctness"
    )
    assert bench("register", str(root)).code == 0
    # Seed the store with a blob the attacker can point at (any run's artifact).
    (home / "artifacts" / "sha256" / "00").mkdir(parents=True)
    blob = home / "artifacts" / "sha256" / "00" / ("00" * 32 + ".bin")
    blob.write_text("reference\n")
    bench("run", f"sealed{sandbox}", "b")
    (row,) = _rows(home)
    if sandbox == "none":
        assert row["status"] == "error" and "symlink" in row["message"]
    else:  # the store is not even visible: the runner computes
        assert row["status"] == "ok"

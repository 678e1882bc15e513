"""Sealed execution, second line: what the harness runs *after* the code under test.

The code under test cannot reach the store inside its sandbox, so an adversary plants
something the next `bench` process will run outside any sandbox: a git setting that makes
the harness's own `git status` run a program, a ``.pth`` file in the harness's
site-packages, a file in ``/tmp`` for a later run. Each attack lives in the project's
source (``src/attack.py``, outside the locked ``bench/``) and is run twice: with
``sandbox = "none"`` the planting succeeds (so the test can fail), with the default
sandbox it must not. The harness's own git calls also refuse a planted fsmonitor even
where the planting succeeded, and the `bench` process takes its BENCHSTONE_* settings out
of the environment it hands to git.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
import sys
import sysconfig
import tempfile
import textwrap
import uuid
from pathlib import Path

import pytest
from _support import PROTOCOL_ARGS, commit_all, git

pytestmark = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap not installed")

RUNNER = """\
import json, sys
sys.path.insert(0, "src")
import attack
args = dict(a.split("=", 1) for a in sys.argv[1:])
json.dump({"status": "ok", "metric": 1.0, "metadata": attack.run()},
          open(args["--output"], "w"))
"""


def _project(parent: Path, attack: str, *, sandbox: str) -> Path:
    root = parent / f"proj-{sandbox}"
    (root / "bench").mkdir(parents=True)
    (root / "src").mkdir()
    (root / "bench" / "runner.py").write_text(RUNNER)
    (root / "src" / "attack.py").write_text(textwrap.dedent(attack))
    extra = f'sandbox = "{sandbox}"' if sandbox != "auto" else ""
    (root / "bench" / "manifest.toml").write_text(
        f'[project]\nname = "planted{sandbox}"\nlanguage = "python"\n'
        f'invocation = "{sys.executable} bench/runner.py {PROTOCOL_ARGS}"\n{extra}\n\n'
        '[[benchmarks]]\nname = "b"\ntier = "performance"\nmetric_direction = "minimize"\n'
        "repetitions = 2\nbaseline_seeds = [1, 2]\ntimeout_seconds = 30\n"
    )
    (root / ".gitignore").write_text("__pycache__/\n")
    git(root, "init", "-q")
    commit_all(root, "init")
    return root


def _metadata(home: Path) -> list[dict]:
    conn = sqlite3.connect(home / "benchstone.db")
    try:
        rows = conn.execute("SELECT metadata, isolation FROM runs ORDER BY id").fetchall()
    finally:
        conn.close()
    return [{**json.loads(meta or "{}"), "isolation": isolation} for meta, isolation in rows]


FSMONITOR = """\
import os, subprocess

def run():
    # The harness runs `git status` in this checkout after every dispatch, outside any
    # sandbox: an fsmonitor hook set in the repository's config would run there.
    hook = os.path.abspath("fsmonitor-hook.sh")
    try:
        with open(hook, "w") as f:
            f.write("#!/bin/sh\\nenv > MARKER\\n")
        os.chmod(hook, 0o755)
        done = subprocess.run(["git", "config", "core.fsmonitor", hook], capture_output=True)
        planted = done.returncode == 0
    except OSError:
        planted = False
    return {"planted": planted}
"""


@pytest.mark.parametrize("sandbox", ["none", "auto"])
def test_a_planted_git_fsmonitor_never_runs_in_the_harness(tmp_path, home, bench, sandbox):
    marker = tmp_path / f"fsmonitor-ran-{sandbox}"
    root = _project(tmp_path, FSMONITOR.replace("MARKER", str(marker)), sandbox=sandbox)
    # The hook script is the project's: ignored, so writing it leaves the tree clean.
    (root / ".gitignore").write_text("__pycache__/\nfsmonitor-hook.sh\n")
    commit_all(root, "ignore the hook")
    assert bench("register", str(root)).code == 0
    first = bench("run", f"planted{sandbox}", "b", "-n", "1")
    assert first.code == 0, first.stderr
    # The next `bench` reads the tree's state with git, outside the sandbox.
    second = bench("run", f"planted{sandbox}", "b", "-n", "1")
    assert second.code == 0, second.stderr
    config = (root / ".git" / "config").read_text()
    (row, _) = _metadata(home)
    if sandbox == "none":
        # Unsealed, the code under test can write the repository's config...
        assert row["planted"] and "fsmonitor" in config
    else:
        # Sealed, .git is read-only to it.
        assert row == {"planted": False, "isolation": "namespaces"}
        assert "fsmonitor" not in config
    # ...and in either case the harness's own git calls never run the hook.
    assert not marker.exists()


PTH = """\
import os, sysconfig

def run():
    # A .pth file in the harness's site-packages runs in the next `bench` process.
    path = os.path.join(sysconfig.get_paths()["purelib"], "NAME")
    try:
        with open(path, "w") as f:
            f.write("# planted by the code under test\\n")
        return {"planted": True}
    except OSError:
        return {"planted": False}
"""


@pytest.mark.parametrize("sandbox", ["none", "auto"])
def test_the_harness_installation_is_read_only_to_the_code_under_test(
    tmp_path, home, bench, sandbox
):
    name = f"zz-benchstone-attack-{uuid.uuid4().hex}.pth"
    planted = Path(sysconfig.get_paths()["purelib"]) / name
    if not os.access(planted.parent, os.W_OK):
        pytest.skip(f"{planted.parent} is not writable even to the test")
    root = _project(tmp_path, PTH.replace("NAME", name), sandbox=sandbox)
    assert bench("register", str(root)).code == 0
    try:
        result = bench("run", f"planted{sandbox}", "b", "-n", "1")
        assert result.code == 0, result.stderr
        (row,) = _metadata(home)
        if sandbox == "none":
            assert row["planted"] and planted.exists()
        else:
            assert not row["planted"] and not planted.exists()
    finally:
        planted.unlink(missing_ok=True)


TMP = """\
import os

def run():
    # Another run's (or the harness's) scratch files in /tmp, and a file left for later.
    seen = os.path.exists("SEEN")
    try:
        with open("LEFT", "w") as f:
            f.write("left behind")
    except OSError:
        pass
    return {"seen": seen, "tmpdir": os.environ.get("TMPDIR", "")}
"""


@pytest.mark.parametrize("sandbox", ["none", "auto"])
def test_tmp_is_private_to_the_run(tmp_path, home, bench, sandbox):
    token = uuid.uuid4().hex
    seen = Path("/tmp") / f"benchstone-test-seen-{token}"
    left = Path("/tmp") / f"benchstone-test-left-{token}"
    seen.write_text("someone else's scratch file")
    attack = TMP.replace("SEEN", str(seen)).replace("LEFT", str(left))
    # The project itself lives under /tmp: it stays usable over the private /tmp.
    parent = Path(tempfile.mkdtemp(prefix="benchstone-test-project-", dir="/tmp"))
    try:
        root = _project(parent, attack, sandbox=sandbox)
        assert bench("register", str(root)).code == 0
        result = bench("run", f"planted{sandbox}", "b", "-n", "1")
        assert result.code == 0, result.stderr
        (row,) = _metadata(home)
        if sandbox == "none":
            assert row["seen"] and left.exists()
        else:
            # The project under /tmp stayed usable; nothing else of the host's /tmp is
            # visible, and nothing written there outlives the run.
            assert row["seen"] is False and not left.exists()
            assert row["tmpdir"] == "/tmp"
    finally:
        seen.unlink(missing_ok=True)
        left.unlink(missing_ok=True)
        shutil.rmtree(parent, ignore_errors=True)


def test_the_harness_hands_no_benchstone_setting_to_git(tmp_path, home, bench, monkeypatch):
    """`bench` reads BENCHSTONE_HOME, then drops it from its environment: a program it
    starts for itself (here git, the one a planted setting would run through) never
    sees where the store is."""
    wrappers = tmp_path / "bin"
    wrappers.mkdir()
    log = tmp_path / "git-env.log"
    real_git = shutil.which("git")
    wrapper = wrappers / "git"
    wrapper.write_text(f'#!/bin/sh\nenv >> "{log}"\necho ---- >> "{log}"\nexec {real_git} "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    root = _project(tmp_path, "def run():\n    return {}\n", sandbox="auto")
    monkeypatch.setenv("PATH", f"{wrappers}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("BENCHSTONE_MAX_THREADS", "2")
    assert bench("register", str(root)).code == 0
    result = bench("run", "plantedauto", "b", "-n", "1")
    assert result.code == 0, result.stderr
    calls = log.read_text().split("----\n")
    assert len([c for c in calls if c.strip()]) >= 2  # git was called, through the wrapper
    assert "BENCHSTONE_" not in log.read_text()
    # The settings still took effect: the store is where BENCHSTONE_HOME said.
    assert (home / "benchstone.db").exists()

"""`bench evaluate`, `bench history` and `bench --version` import what they need and nothing more.

Agent loops call them thousands of times, and every module imported is paid on each call
(docs/performance.md). Each check runs the command in a fresh interpreter, as the console
script does, and lists the modules it left loaded. The lists below name what these
commands must never need: other commands' modules, execution machinery, the report.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# Runs `bench ARGS` through the console script's entry point, then prints the loaded
# modules after a marker line (the command's own output comes first).
SCRIPT = """
import sys
from benchstone.cli import main
code = main(sys.argv[1:])
print("--- modules (exit %d)" % code)
print("\\n".join(sorted(sys.modules)))
"""

NOT_FOR_EVALUATE = (
    # other commands' modules (lazily loaded by the click group)
    "benchstone.cli._cmd_corpus",
    "benchstone.cli._cmd_doctor",
    "benchstone.cli._cmd_init",
    "benchstone.cli._cmd_references",
    "benchstone.cli._cmd_report",
    "benchstone.cli._cmd_status",
    "benchstone.cli._cmd_verify",
    "benchstone.cli._demo",
    "benchstone.cli._live",
    # the workflow of other commands
    "benchstone.api._audit",
    "benchstone.api._batch",
    "benchstone.api._dispatch",
    "benchstone.api._history",
    "benchstone.api._job_files",
    "benchstone.api._job_process",
    "benchstone.api._jobs",
    "benchstone.api._references",
    "benchstone.api._registry",
    "benchstone.api._scaffold",
    "benchstone.api._scheduler",
    "benchstone.api._types",
    # running benchmarks
    "benchstone.protocol",
    "benchstone.runner._bundle",
    "benchstone.runner._doctor",
    "benchstone.runner._execute",
    "benchstone.runner._fingerprint",
    "benchstone.runner._instructions",
    "benchstone.runner._landlock",
    "benchstone.runner._sandbox",
    "benchstone.runner._slurm",
    "benchstone.report",
    # libraries no verdict needs (click: a plain `bench evaluate` is parsed without it)
    "argparse",
    "click",
    "asyncio",
    "concurrent.futures",
    "csv",
    "ctypes",
    "decimal",
    "email",
    "fractions",
    "http.client",
    "multiprocessing",
    "platformdirs",
    "psutil",
    "statistics",
    "xml.etree.ElementTree",
)


def _loaded(args: list[str], home: Path, cwd: Path) -> tuple[int, set[str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BENCHSTONE_")}
    env["BENCHSTONE_HOME"] = str(home)
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    head, _, modules = done.stdout.partition("--- modules (exit ")
    code, _, names = modules.partition(")\n")
    assert names, f"no module list; stdout={head!r} stderr={done.stderr!r}"
    return int(code), set(names.split())


@pytest.fixture
def judged(bench, make_python_project) -> Path:
    """A registered project with a baseline and candidate runs: evaluate reaches the gate."""
    root = make_python_project("lean")
    for args in (("register", str(root)), ("baseline", "establish", "lean", "speed")):
        assert bench(*args).code == 0
    assert bench("run", "lean", "speed").code == 0
    return root


def test_evaluate_imports_only_what_a_verdict_needs(judged: Path, home: Path) -> None:
    code, loaded = _loaded(["evaluate", "lean", "speed"], home, judged)
    assert code in (0, 1), "the gate decided (PROMOTE or REJECT): the whole path ran"
    assert {"benchstone.gates", "benchstone.api._evaluate", "sqlite3"} <= loaded
    assert sorted(loaded.intersection(NOT_FOR_EVALUATE)) == []


def test_history_reads_without_the_statistics(judged: Path, home: Path) -> None:
    """The manifest's parameter check needs gates' rules, not its tests."""
    code, loaded = _loaded(["history", "lean", "speed", "--limit", "20"], home, judged)
    assert code == 0
    assert "benchstone.gates._rules" in loaded
    not_for_history = {
        "benchstone.api._evaluate",
        "benchstone.gates._compare",
        "benchstone.gates._mann_whitney",
        "benchstone.gates._welch",
        "benchstone.hasher",
        *NOT_FOR_EVALUATE,
    } - {"benchstone.api._history", "click"}
    assert sorted(loaded & not_for_history) == []


def test_version_imports_neither_click_nor_the_harness(tmp_path: Path) -> None:
    code, loaded = _loaded(["--version"], tmp_path / "home", tmp_path)
    assert code == 0
    ours = {name for name in loaded if name.startswith("benchstone")}
    assert ours <= {
        "benchstone",
        "benchstone.api",
        "benchstone.api._exit_codes",
        "benchstone.cli",
        "benchstone.cli._version",
    }
    assert not loaded.intersection({"click", "sqlite3", "dataclasses", "json"})

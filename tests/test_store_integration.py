"""The store under real use: concurrent `bench` processes, the triggers, `bench verify`.

One populated store (a registration, runs, a baseline, an evaluation, a frozen reference
with its artifact blob) is built once per module through the installed `bench`; each test
that damages a store works on its own copy of it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from _support import (
    Result,
    artifact_files,
    bench_command,
    commit_all,
    git,
    python_manifest,
    set_artifact_code,
)

TABLES = ("registrations", "runs", "baseline_events", "reference_events", "evaluations")


BENCHMARKS = """
[[benchmarks]]
name = "speed"
tier = "performance"
metric_direction = "minimize"
repetitions = 3
baseline_seeds = [1, 2, 3]

[[benchmarks]]
name = "output"
tier = "correctness"
"""


def _bench_at(home: Path, *args: str, timeout: float = 120) -> Result:
    env = dict(os.environ, BENCHSTONE_HOME=str(home))
    proc = subprocess.run(
        [*bench_command(), *args], capture_output=True, text=True, env=env, timeout=timeout
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


def _ok(result: Result) -> Result:
    assert result.code == 0, result.out + result.err
    return result


@pytest.fixture(scope="module")
def populated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home whose five tables and blob tree all hold rows, built through `bench`."""
    base = tmp_path_factory.mktemp("populated")
    home, root = base / "home", base / "proj"
    (root / "bench").mkdir(parents=True)
    (root / "bench" / "manifest.toml").write_text(python_manifest("full", benchmarks=BENCHMARKS))
    for rel, content in artifact_files(1.0, "the right answer\n").items():
        (root / rel).write_text(content)
    git(root, "init", "-q", "-b", "main")
    commit_all(root, "initial")
    _ok(_bench_at(home, "register", str(root)))
    _ok(_bench_at(home, "baseline", "establish", "full", "speed"))
    set_artifact_code(root, 0.9, "the right answer\n", "faster")
    _ok(_bench_at(home, "run", "full", "speed"))
    assert _bench_at(home, "evaluate", "full", "speed").code == 0  # PROMOTE, one evaluation
    run = json.loads(_ok(_bench_at(home, "run", "full", "output", "--json")).out)["runs"][0]
    assert run["artifact_digest"].startswith("sha256:")
    _ok(_bench_at(home, "freeze-reference", "full", "output", "--from-run", str(run["id"])))
    return home


@pytest.fixture
def store_copy(populated: Path, tmp_path: Path) -> Path:
    home = tmp_path / "home"
    shutil.copytree(populated, home)
    return home


@pytest.fixture
def db(store_copy: Path) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(store_copy / "benchstone.db", isolation_level=None)
    yield conn
    conn.close()


def _problems(result: Result) -> list[str]:
    return [line[len("problem: ") :] for line in result.lines if line.startswith("problem: ")]


def _table_lines(result: Result) -> dict[str, str]:
    return {
        line.split()[0]: line
        for line in result.lines
        if line.startswith("  ") and line.split()[0] in TABLES
    }


def test_eight_concurrent_runs_share_one_store(bench, home, make_python_project):
    root = make_python_project("busy")
    assert bench("register", str(root)).code == 0
    # The scheduler admits one single-thread run per CPU by default; this test is about the
    # store, so the budget admits all eight at once.
    env = dict(os.environ, BENCHSTONE_HOME=str(home), BENCHSTONE_MAX_THREADS="8")
    procs = [
        subprocess.Popen(
            [*bench_command(), "run", "busy", "speed", "-n", "5", "--json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(8)
    ]
    outputs = [(*proc.communicate(timeout=300), proc.returncode) for proc in procs]
    for out, err, code in outputs:
        assert code == 0, err
        assert "locked" not in (out + err).lower()
    per_process = [[run["id"] for run in json.loads(out)["runs"]] for out, _, _ in outputs]
    assert all(len(ids) == 5 for ids in per_process)
    all_ids = sorted(i for ids in per_process for i in ids)
    assert all_ids == list(range(1, 41))  # 40 rows, no id lost or shared

    history = json.loads(bench("history", "busy", "speed", "--json").out)["runs"]
    assert len(history) == 40 and {run["status"] for run in history} == {"ok"}

    r = bench("verify")
    assert r.code == 0, r.out + r.err
    assert r.lines[-1] == "verify: ok"
    assert re.match(r"  runs +40 row\(s\)  chain ok ", _table_lines(r)["runs"])
    document = json.loads(bench("verify", "--json").out)
    assert document["ok"] is True and document["counts"]["runs"] == 40


def test_update_delete_and_replace_fail_on_every_table(store_copy, db):
    counts = {t: db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLES}
    assert all(counts.values()), counts  # every table has a row to attack
    for table in TABLES:
        first = db.execute(f"SELECT MIN(id) FROM {table}").fetchone()[0]
        for statement in (
            f"UPDATE {table} SET created_at = 'x' WHERE id = {first}",
            f"UPDATE {table} SET row_hash = row_hash",
            f"DELETE FROM {table} WHERE id = {first}",
            f"DELETE FROM {table}",
            f"INSERT OR REPLACE INTO {table} SELECT * FROM {table} WHERE id = {first}",
        ):
            with pytest.raises(sqlite3.IntegrityError, match=f"append-only: {table}"):
                db.execute(statement)
    assert counts == {t: db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLES}
    r = _bench_at(store_copy, "verify")
    assert r.code == 0 and r.lines[-1] == "verify: ok", r.out


def test_verify_names_each_row_changed_after_dropping_the_triggers(store_copy, db):
    for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        db.execute(f"DROP TRIGGER {name}")
    last_evaluation = db.execute("SELECT MAX(id) FROM evaluations").fetchone()[0]
    db.execute("UPDATE registrations SET path = '/elsewhere' WHERE id = 1")
    db.execute("UPDATE runs SET metric = 0.5 WHERE id = 2")
    db.execute("UPDATE baseline_events SET run_ids = '[1,2]' WHERE id = 1")
    db.execute("UPDATE reference_events SET notes = 'edited' WHERE id = 1")
    db.execute(f"DELETE FROM evaluations WHERE id = {last_evaluation}")
    kept = db.execute("SELECT COALESCE(MAX(id), 0) FROM evaluations").fetchone()[0]

    r = _bench_at(store_copy, "verify")
    assert r.code == 1, r.out + r.err
    problems = _problems(r)
    assert r.lines[-1] == f"verify: FAILED ({len(problems)} problems)"
    assert sum("trigger" in p and "is missing" in p for p in problems) == 21
    for table, row in (
        ("registrations", 1),
        ("runs", 2),
        ("baseline_events", 1),
        ("reference_events", 1),
    ):
        assert any(p.startswith(f"{table} row {row}: row_hash does not match") for p in problems)
        assert "chain ok" not in _table_lines(r)[table]
    assert f"evaluations: rows after id {kept} are missing" in "\n".join(problems)

    document = json.loads(_bench_at(store_copy, "verify", "--json").out)
    assert document["ok"] is False and document["problems"] == problems
    assert document["counts"]["triggers"] == 0


def test_verify_names_a_tampered_blob(store_copy):
    # The store holds the reference artifact and the locked evaluator's two files.
    blobs = sorted((store_copy / "artifacts" / "sha256").glob("*/*.bin"))
    assert len(blobs) == 3
    (blob,) = [b for b in blobs if b.read_bytes() == b"the right answer\n"]
    blob.chmod(blob.stat().st_mode | stat.S_IWUSR)
    blob.write_bytes(b"the wrong answer\n")

    r = _bench_at(store_copy, "verify")
    assert r.code == 1
    (problem,) = _problems(r)
    assert problem.startswith(f"artifact blob {blob}: content hashes to sha256:")
    assert r.lines[-1] == "verify: FAILED (1 problem)"

    blob.unlink()
    (problem, *more) = _problems(_bench_at(store_copy, "verify"))
    assert f"artifact sha256:{blob.stem} is missing" in problem
    assert problem.startswith("runs row ") and not more


def test_verify_output_and_json_agree(store_copy):
    text = _bench_at(store_copy, "verify")
    assert text.code == 0
    document = json.loads(_bench_at(store_copy, "verify", "--json").out)
    assert document["ok"] is True and document["problems"] == []
    assert document["counts"]["triggers"] == 21 and document["counts"]["blobs"] == 3
    assert text.lines[0] == f"store: {store_copy / 'benchstone.db'}"
    for table, line in _table_lines(text).items():
        rows = int(line.split()[1])
        assert rows == document["counts"][table] >= 1
        assert line.endswith(f"head={document['heads'][table]}")
    assert "  triggers" in text.out and "21 intact" in text.out
    # Heads commit to history: the same store gives the same heads.
    assert json.loads(_bench_at(store_copy, "verify", "--json").out)["heads"] == document["heads"]


def test_verify_never_creates_a_store(bench, home):
    r = bench("verify")
    assert r.code == 10
    assert r.err.startswith(f"Error: no benchstone store at {home / 'benchstone.db'}")
    assert r.err.count("\n") == 1 and not r.out
    assert not home.exists()
    assert bench("verify", "--json").code == 10

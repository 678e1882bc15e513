"""The row-hash chain, recomputed here independently, byte for byte as documented."""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from collections.abc import Callable
from pathlib import Path

from benchstone.store import NewRun, Store

TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")

# docs/store.md: columns added by schema version 2 are hashed only when not NULL.
ADDED_COLUMNS = {
    "runs": {
        "instructions",
        "isolation",
        "lock_id",
        "content_digest",
        "window",
        "arm",
        "warmup",
        "host_identity",
        "fingerprint",
        "executor",
        "bundle_id",
    },
    "evaluations": {"content_digest"},
}


def documented_content(table: str, row: sqlite3.Row) -> dict:
    """The hashed content of a row, as docs/store.md defines it."""
    added = ADDED_COLUMNS.get(table, set())
    return {
        k: row[k]
        for k in row.keys()  # noqa: SIM118
        if k not in ("id", "row_hash") and not (k in added and row[k] is None)
    }


def _independent_chain(db: str, table: str) -> list[tuple[int, str, str]]:
    """(id, stored, recomputed) following docs/store.md, without the package's code."""
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    prev = "0" * 64
    out = []
    for row in conn.execute(f"SELECT * FROM {table} ORDER BY id"):
        content = documented_content(table, row)
        text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
        digest = hashlib.sha256((prev + "\n" + text).encode("ascii")).hexdigest()
        out.append((row["id"], row["row_hash"], digest))
        prev = row["row_hash"]
    conn.close()
    return out


def test_hashes_follow_the_documented_format(store: Store, make_run: Callable[..., NewRun]) -> None:
    runs = [
        store.append_run(make_run(metric=3)),  # int into a REAL column
        store.append_run(make_run(metric=-0.0, wall_clock=1e-7, cpu_time=12345678.9)),
        store.append_run(
            make_run(
                message="naïve ünïcode ✓ 𝄞",
                metadata={"b": [1, 2.5, None, True], "a": {"z": "é"}, 3: "int key"},
                metric_components={"pareto": 0.1 + 0.2},
                seed=2**63 - 1,
                meta_seed=-(2**63),
                git_dirty=True,
            )
        ),
    ]
    chain = _independent_chain(str(store.paths.db), "runs")
    assert [stored for _, stored, _ in chain] == [r.row_hash for r in runs]
    assert all(stored == recomputed for _, stored, recomputed in chain)
    assert store.verify().ok
    # values come back exactly as hashed
    assert runs[0].metric == 3.0 and isinstance(runs[0].metric, float)
    assert store.run(runs[1].id) == runs[1]
    assert store.run(runs[2].id).metadata == {
        "3": "int key",
        "a": {"z": "é"},
        "b": [1, 2.5, None, True],
    }


def test_first_row_chains_from_sixty_four_zeros(store: Store) -> None:
    reg = store.register("P", "/p", "sha256:" + "a" * 64)
    content = {
        "name": "P",
        "path": "/p",
        "manifest_hash": "sha256:" + "a" * 64,
        "active": 1,
        "created_at": reg.created_at,
    }
    text = json.dumps(content, sort_keys=True, separators=(",", ":"))
    expected = hashlib.sha256(("0" * 64 + "\n" + text).encode()).hexdigest()
    assert reg.row_hash == expected
    assert TIMESTAMP.fullmatch(reg.created_at)


def test_every_table_chains_independently(store: Store, make_run: Callable[..., NewRun]) -> None:
    store.register("P", "/p", "h")
    run = store.append_run(make_run(project="P"))
    store.set_baseline(
        "P", "nsga2", git_sha=run.git_sha, meta_seed=7, run_ids=[run.id], action="establish"
    )
    for table in ("registrations", "runs", "baseline_events"):
        chain = _independent_chain(str(store.paths.db), table)
        assert len(chain) == 1 and chain[0][1] == chain[0][2]


def test_known_answer_from_the_documentation(home: Path) -> None:
    """The worked example of docs/store.md, inserted through sqlite3 and verified."""
    with Store.open(home):
        pass
    raw = sqlite3.connect(home / "benchstone.db", isolation_level=None)
    manifest = "sha256:1f0c" + "0" * 60
    first = "445507a105afeaa9940307b50a414eee654c1537b12c91b331238b54bb026403"
    second = "bd9ee1061a8f76158c6b1993857f78eb3281433bfe39f37d49337418a04c4c4c"
    rows = [
        (1, "2026-11-27T09:03:23.123456Z", first),
        (0, "2026-11-28T10:00:00.000001Z", second),
    ]
    for active, created_at, digest in rows:
        raw.execute(
            "INSERT INTO registrations (name, path, manifest_hash, active, created_at, row_hash)"
            " VALUES ('Arborist', '/home/ada/Arborist.jl', ?, ?, ?, ?)",
            (manifest, active, created_at, digest),
        )
    raw.close()
    with Store.open(home) as store:
        report = store.verify()
        assert report.ok, report.problems
        assert report.heads["registrations"] == second
        assert store.project("Arborist") is None  # the latest event unregistered it


def test_infinities_are_recordable_and_verify(
    store: Store, make_run: Callable[..., NewRun]
) -> None:
    """A gate's equivalent z is infinite when p underflows; the verdict must still land."""
    import math

    from benchstone.store import NewEvaluation

    run = store.append_run(
        make_run(metric=math.inf, metadata={"spread": -math.inf, "undefined": math.nan})
    )
    evaluation = store.append_evaluation(
        NewEvaluation(
            "Arborist",
            "nsga2",
            None,
            run.git_sha,
            [run.id],
            "sigma",
            math.inf,
            0.0,
            2.0,
            1,
            "PROMOTE",
            details={"statistic": math.inf, "effect_ci": [-math.inf, 0.5]},
        )
    )
    assert store.run(run.id).metric == math.inf
    assert store.run(run.id).metadata["spread"] == -math.inf
    assert math.isnan(store.run(run.id).metadata["undefined"])
    (stored,) = store.evaluations("Arborist", "nsga2")
    assert stored.statistic == math.inf and stored.details["effect_ci"] == [-math.inf, 0.5]
    assert stored.row_hash == evaluation.row_hash
    chain = _independent_chain(str(store.paths.db), "runs")
    assert chain[0][1] == chain[0][2]
    assert store.verify().ok

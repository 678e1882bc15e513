"""Several writer processes at once, and a writer killed mid-append."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

from benchstone.store import NewRun, ReadOnlyStore, Store

SHA = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"

WRITER = textwrap.dedent(
    """
    import os, sys, time
    from benchstone.store import NewEvaluation, NewRun, Store

    home, worker, count, go = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    sha = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"
    with Store.open(home) as store:
        while not os.path.exists(go):  # start together, so the appends really overlap
            time.sleep(0.005)
        ids = []
        for rep in range(count):
            run = store.append_run(NewRun(
                project="Arborist", benchmark=f"w{worker}", git_sha=sha, status="ok",
                seed=worker, repetition=rep, metric=worker * 1000 + rep,
                metadata={"worker": worker, "rep": rep, "pad": "x" * 200},
            ))
            ids.append(run.id)
            if rep % 25 == 24:
                event = store.set_baseline("Arborist", f"w{worker}", git_sha=sha,
                                           meta_seed=None, run_ids=ids[-5:], action="promote")
                store.append_evaluation(NewEvaluation(
                    "Arborist", f"w{worker}", event.id, sha, ids[-3:], "sigma",
                    1.0, 0.1, 2.0, rep // 25 + 1, "REJECT"))
    """
)


def test_concurrent_writers_all_land_and_chain(home: Path, tmp_path: Path) -> None:
    with Store.open(home):
        pass
    workers, count = 4, 250
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(home), str(w), str(count), str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(workers)
    ]
    go.touch()
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert "locked" not in err
    with Store.open(home) as store:
        report = store.verify()
        assert report.ok, report.problems
        assert report.counts["runs"] == workers * count
        assert report.counts["baseline_events"] == workers * (count // 25)
        assert report.counts["evaluations"] == workers * (count // 25)
        for w in range(workers):
            runs = store.runs("Arborist", f"w{w}", newest_first=False)
            assert [r.repetition for r in runs] == list(range(count))
            assert all(r.metric == w * 1000 + r.repetition for r in runs)
        ids = [r.id for r in store.runs("Arborist", newest_first=False)]
        assert ids == list(range(1, workers * count + 1))
        # the writers really interleaved: some worker's ids are not one contiguous block
        blocks = [[r.id for r in store.runs("Arborist", f"w{w}")] for w in range(workers)]
        assert any(max(b) - min(b) + 1 != len(b) for b in blocks)


KILLED = textwrap.dedent(
    """
    import sys
    from benchstone.store import NewRun, Store

    with Store.open(sys.argv[1]) as store:
        rep = 0
        while True:
            store.append_run(NewRun(
                project="Arborist", benchmark="nsga2", git_sha=sys.argv[2], status="ok",
                repetition=rep, metric=rep * 0.5, metadata={"rep": rep, "blob": "y" * 4000},
                metric_components={"half": rep / 2},
            ))
            rep += 1
            if rep == 50:
                print("ready", flush=True)
    """
)


def test_killed_writer_leaves_whole_rows_and_a_valid_chain(
    home: Path, make_run: Callable[..., NewRun]
) -> None:
    with Store.open(home):
        pass
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED, str(home), SHA],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(0.2)  # let it get well into the loop: the kill lands mid-append
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL

    raw = sqlite3.connect(home / "benchstone.db")
    assert raw.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    raw.close()
    with ReadOnlyStore.open(home) as ro:
        report = ro.verify()
        assert report.ok, report.problems
        runs = ro.runs("Arborist", "nsga2", newest_first=False)
        assert len(runs) >= 50
        for index, run in enumerate(runs):
            assert run.repetition == index
            assert run.metric == index * 0.5
            assert run.metadata == {"rep": index, "blob": "y" * 4000}
            assert run.metric_components == {"half": index / 2}
    with Store.open(home) as store:  # the store keeps working after the crash
        after = store.append_run(make_run(repetition=-1))
        assert after.id == len(runs) + 1
        assert store.verify().ok

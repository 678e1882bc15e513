"""`bench init`: the scaffold works end to end as written, and never overwrites a file."""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path

import pytest
from _support import commit_all, git


def _fresh_repo(tmp_path: Path, name: str) -> Path:
    root = tmp_path / name
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    return root


@pytest.mark.parametrize("runner", ["python", "shell"])
def test_scaffold_works_end_to_end(bench, tmp_path, runner):
    root = _fresh_repo(tmp_path, f"fresh-{runner}")
    r = bench("init", "--runner", runner, cwd=root)
    assert r.code == 0, r.err
    runner_file = "bench/runner.py" if runner == "python" else "bench/runner.sh"
    assert r.lines[:2] == ["created bench/manifest.toml", f"created {runner_file}"]
    name = f"fresh-{runner}"
    assert r.lines[2] == (
        f"project {name}: benchmarks speed, accuracy, output (performance, quality, correctness)"
    )
    assert r.lines[3] == "next:" and f"  bench register {root}" in r.lines
    if runner == "shell":
        manifest = (root / "bench" / "manifest.toml").read_text()
        assert 'invocation = "sh bench/runner.sh --entry={entry_point} ' in manifest
        assert (root / runner_file).read_text().startswith("#!/bin/sh\n")
        assert stat.S_IMODE((root / runner_file).stat().st_mode) & 0o111
    commit_all(root, "scaffold")

    r = bench("register", str(root))
    assert r.code == 0 and r.err == "", r.err  # the manifest loads without a warning
    assert "benchmark: output  tier=correctness" in r.out
    # speed's timed output is checked against the reference of output
    # (output_reference): nothing to check against yet, so it refuses with the fix.
    r = bench("baseline", "establish", name, "speed")
    assert r.code != 0 and f"`bench freeze-reference {name} output`" in r.err, r.err

    r = bench("run", name, "output")
    assert r.code == 0 and "status=error" not in r.out, r.out
    r = bench("freeze-reference", name, "output")
    assert r.code == 0 and r.out.startswith(f"reference frozen: {name}/output -> sha256:"), r.err
    r = bench("evaluate", name, "output")
    assert r.code == 0 and r.lines[0].startswith("verdict: PASS"), r.out

    for benchmark in ("speed", "accuracy"):
        r = bench("baseline", "establish", name, benchmark)
        assert r.code == 0, r.out + r.err
        assert r.lines[-1].startswith(f"baseline set: {name}/{benchmark} -> ")
        assert "status=error" not in r.out

    r = bench("run", name, "speed")
    assert r.code == 0 and "status=error" not in r.out, r.out
    r = bench("evaluate", name, "speed")
    assert r.code in (0, 1, 2), r.out + r.err
    assert re.match(r"verdict: (PROMOTE|REJECT|NEEDS_MORE_DATA) ", r.lines[0]), r.out

    # speed is guarded by output, which now PASSes at this SHA: a statistical verdict.
    r = bench("evaluate", name, "speed", "--json")
    verdict = json.loads(r.out)
    assert r.code in (0, 1, 2) and verdict["kind"] in ("PROMOTE", "REJECT", "NEEDS_MORE_DATA")
    assert "correctness benchmark" not in verdict["reason"]


def test_init_refuses_to_overwrite_and_writes_nothing(bench, tmp_path):
    root = tmp_path / "taken"
    (root / "bench").mkdir(parents=True)
    (root / "bench" / "runner.py").write_text("# mine\n")

    r = bench("init", str(root))
    assert r.code == 10 and r.out == ""
    assert r.err.count("\n") == 1 and "bench/runner.py already exists" in r.err
    assert sorted(os.listdir(root / "bench")) == ["runner.py"]
    assert (root / "bench" / "runner.py").read_text() == "# mine\n"

    # The shell runner's file is free, but the manifest is not once written: refused again.
    r = bench("init", str(root), "--runner", "shell")
    assert r.code == 0, r.err
    before = (root / "bench" / "manifest.toml").read_text()
    r = bench("init", str(root), "--runner", "shell")
    assert r.code == 10 and "bench/manifest.toml already exists" in r.err
    assert (root / "bench" / "manifest.toml").read_text() == before


def test_init_names_and_json(bench, tmp_path):
    target = tmp_path / "new dir" / "my.proj!"
    r = bench("init", str(target), "--json")
    assert r.code == 0, r.err
    document = json.loads(r.out)
    assert set(document) == {"project", "root", "runner", "files", "benchmarks", "next_steps"}
    assert document["project"] == "my.proj_"
    assert document["root"] == str(target)
    assert document["runner"] == "python"
    assert document["files"] == ["bench/manifest.toml", "bench/runner.py"]
    assert document["benchmarks"] == ["speed", "accuracy", "output"]
    assert document["next_steps"][0].startswith(f"cd '{target}' && ")
    assert "git add bench && git commit" in document["next_steps"][0]
    assert document["next_steps"][1] == f"bench register '{target}'"
    assert 'name = "my.proj_"' in (target / "bench" / "manifest.toml").read_text()

    r = bench("init", str(tmp_path / "other"), "--name", ".hidden")
    assert r.code == 10 and "project" in r.err and ".hidden" in r.err
    assert not (tmp_path / "other" / "bench").exists()
    r = bench("init", str(tmp_path / "other"), "--name", "custom")
    assert r.code == 0 and "project custom:" in r.out

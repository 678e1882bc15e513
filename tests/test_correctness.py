"""The correctness tier end to end: frozen references, PASS / FAIL, and the guard.

A correctness benchmark's runner writes bytes to ``artifact_path``; the harness keeps them
content-addressed under its store. These tests drive the installed `bench` the way an
agent loop would and check what it prints, what it refuses and what it stores.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

from _support import artifact_files, git, python_manifest, set_artifact_code

from benchstone.store import ReadOnlyStore

BENCHMARKS = """
[[benchmarks]]
name = "speed"
tier = "performance"
metric_direction = "minimize"
repetitions = 4
baseline_seeds = [1, 2, 3, 4]
requires_correctness = ["output"]

[[benchmarks]]
name = "output"
tier = "correctness"

[[benchmarks]]
name = "seeded"
tier = "correctness"

[[benchmarks]]
name = "broken"
tier = "correctness"
"""

DIGEST = r"sha256:[0-9a-f]{64}"


def _make(make_python_project, name: str, *, level: float = 1.0, answer: str = "42\n") -> Path:
    return make_python_project(
        name,
        manifest=python_manifest(name, benchmarks=BENCHMARKS),
        files=artifact_files(level, answer),
    )


def _change(root: Path, *, level: float = 1.0, answer: str = "42\n") -> str:
    return set_artifact_code(root, level, answer, f"level={level} answer={answer!r}")


def _digests(lines: list[str]) -> tuple[str, str]:
    reference = next(line for line in lines if line.startswith("  reference="))
    candidate = next(line for line in lines if line.startswith("  candidate="))
    return reference.split("=", 1)[1], candidate.split("=", 1)[1]


def test_freeze_pass_fail_replace_and_history(bench, make_python_project):
    root = _make(make_python_project, "corr")
    sha0 = git(root, "rev-parse", "HEAD")
    assert bench("register", str(root)).code == 0

    # Nothing to freeze yet: SPEC's gotcha, with the command that fixes it.
    r = bench("freeze-reference", "corr", "output")
    assert r.code == 10 and r.out == ""
    assert r.err.count("\n") == 1 and "run `bench run corr output` first" in r.err, r.err

    r = bench("evaluate", "corr", "output")
    assert r.code == 2 and r.lines[0].startswith("verdict: NO_REFERENCE"), r.out

    r = bench("run", "corr", "output")
    assert r.code == 0, r.err
    first_run = int(re.search(r"run=(\d+) ", r.out).group(1))
    r = bench("evaluate", "corr", "output")
    assert r.code == 2 and r.lines[0].startswith("verdict: NO_REFERENCE")
    reference, candidate = _digests(r.lines)
    assert reference == "-" and re.fullmatch(DIGEST, candidate)

    r = bench("freeze-reference", "corr", "output", "--notes", "first answer")
    assert r.code == 0, r.err
    expected_digest = "sha256:" + hashlib.sha256(b"42\n").hexdigest()
    assert r.out == (
        f"reference frozen: corr/output -> {expected_digest}  "
        f"(run={first_run}, git_sha={sha0[:10]})\n"
    )

    # Frozen is frozen: a second freeze points at replace-reference.
    r = bench("freeze-reference", "corr", "output")
    assert r.code == 10 and r.err.count("\n") == 1
    assert "already has a reference" in r.err and "bench replace-reference" in r.err

    r = bench("evaluate", "corr", "output")
    assert r.code == 0, r.out
    assert r.lines[0].startswith("verdict: PASS")
    assert _digests(r.lines) == (expected_digest, expected_digest)

    # A changed artifact FAILs, and both digests are printed.
    sha1 = _change(root, answer="43\n")
    assert bench("run", "corr", "output").code == 0
    r = bench("evaluate", "corr", "output")
    assert r.code == 1, r.out
    assert r.lines[0].startswith("verdict: FAIL")
    wrong_digest = "sha256:" + hashlib.sha256(b"43\n").hexdigest()
    assert _digests(r.lines) == (expected_digest, wrong_digest)

    # Replacing needs a reason: missing or blank is a one-line error and changes nothing.
    for args in ((), ("--reason", "   ")):
        r = bench("replace-reference", "corr", "output", *args)
        assert r.code == 10 and r.out == "", r.out
        assert r.err.count("\n") == 1 and "--reason" in r.err, r.err
    assert bench("evaluate", "corr", "output").code == 1

    r = bench("replace-reference", "corr", "output", "--reason", "the answer is now 43")
    assert r.code == 0, r.err
    assert r.out == (
        f"reference replaced: corr/output -> {wrong_digest} (was {expected_digest})  "
        "reason: the answer is now 43\n"
    )
    r = bench("evaluate", "corr", "output")
    assert r.code == 0 and r.lines[0].startswith("verdict: PASS")

    # Replacing with the very same bytes is refused: the history only records changes.
    r = bench("replace-reference", "corr", "output", "--reason", "again")
    assert r.code == 10 and "nothing to replace" in r.err

    # Back to the first answer from its run, by id.
    r = bench(
        "replace-reference", "corr", "output", "--from-run", str(first_run), "--reason", "revert"
    )
    assert r.code == 0, r.err
    assert f"-> {expected_digest} (was {wrong_digest})" in r.out

    r = bench("reference-history", "corr", "output")
    assert r.code == 0, r.err
    events = [line.split() for line in r.lines[1:] if re.match(r"\s+\d+\s", line)]
    assert [e[3] for e in events] == ["freeze", "replace", "replace"]
    assert [e[5] for e in events] == [expected_digest, wrong_digest, expected_digest]
    assert "         reason: the answer is now 43" in r.lines
    assert "         reason: revert" in r.lines
    assert "         notes: first answer" in r.lines
    assert r.lines[-1].startswith(f"current reference: {expected_digest} (replace, ")

    r = bench("reference-history", "corr", "output", "--json")
    document = json.loads(r.out)
    assert [e["action"] for e in document["events"]] == ["freeze", "replace", "replace"]
    assert [e["reason"] for e in document["events"]] == [None, "the answer is now 43", "revert"]
    assert document["events"][0]["run_id"] == first_run
    assert document["current"] == document["events"][-1]
    assert sha1 != sha0


def test_freeze_refusals(bench, make_python_project):
    root = _make(make_python_project, "refuse")
    assert bench("register", str(root)).code == 0

    r = bench("freeze-reference", "refuse", "speed")
    assert r.code == 10 and r.err.count("\n") == 1
    assert "is a performance benchmark" in r.err and "correctness" in r.err
    r = bench("replace-reference", "refuse", "output", "--reason", "x")
    assert r.code == 10 and "no reference to replace" in r.err
    r = bench("freeze-reference", "refuse", "nosuch")
    assert r.code == 10 and "no benchmark 'nosuch'" in r.err

    # --from-run must name an ok run of this benchmark that has an artifact.
    r = bench("run", "refuse", "broken", "--json")
    broken = json.loads(r.out)["runs"][0]
    assert broken["status"] == "error" and "no artifact" in broken["message"]
    for run_id, message in (
        (broken["id"], "belongs to refuse/broken"),
        (99999, "there is no run 99999"),
    ):
        r = bench("freeze-reference", "refuse", "output", "--from-run", str(run_id))
        assert r.code == 10 and message in r.err, r.err
        assert r.err.count("\n") == 1

    # Runs on a dirty tree are not frozen by default; naming one works, with a warning.
    (root / "scratch.txt").write_text("uncommitted\n")
    r = bench("run", "refuse", "output", "--allow-dirty", "--json")
    dirty_run = json.loads(r.out)["runs"][0]["id"]
    r = bench("freeze-reference", "refuse", "output")
    assert r.code == 10 and "dirty tree" in r.err and "--from-run" in r.err, r.err
    r = bench("freeze-reference", "refuse", "output", "--from-run", str(dirty_run))
    assert r.code == 0, r.err
    assert r.err.startswith(f"warning: run {dirty_run} was made on a dirty tree")
    assert f"(run={dirty_run}, " in r.out

    # Output that differs between runs at one commit is not byte-deterministic: refused.
    os.remove(root / "scratch.txt")
    r = bench("run", "refuse", "seeded", "-n", "3")
    assert r.code == 0, r.err
    r = bench("freeze-reference", "refuse", "seeded")
    assert r.code == 10 and "not byte-deterministic" in r.err, r.err

    # A failed run of the benchmark itself has no output to freeze.
    _change(root, answer="crash")
    r = bench("run", "refuse", "output", "--json")
    crashed = json.loads(r.out)["runs"][0]
    assert crashed["status"] == "error" and "crashed on purpose" in crashed["message"]
    r = bench(
        "replace-reference", "refuse", "output", "--from-run", str(crashed["id"]), "--reason", "x"
    )
    assert r.code == 10 and f"run {crashed['id']} failed (" in r.err, r.err


def test_artifact_blobs_are_read_only_and_match_their_digests(bench, home, make_python_project):
    root = _make(make_python_project, "blobs")
    assert bench("register", str(root)).code == 0
    assert bench("run", "blobs", "output").code == 0
    assert bench("run", "blobs", "seeded", "-n", "3").code == 0
    assert bench("freeze-reference", "blobs", "output").code == 0

    with ReadOnlyStore.open(home) as store:
        runs = store.runs("blobs")
        reference = store.reference("blobs", "output")
        digests = {r.artifact_digest for r in runs if r.artifact_digest}
        assert len(digests) == 4  # "42\n" and three seeded outputs
        assert reference is not None and reference.digest in digests
        for digest in digests:
            path = store.artifact_path(digest)
            assert path.is_relative_to(home / "artifacts")
            mode = stat.S_IMODE(path.stat().st_mode)
            assert mode & 0o222 == 0, oct(mode)
            with open(path, "rb") as handle:
                assert "sha256:" + hashlib.sha256(handle.read()).hexdigest() == digest


SPY_RUNNER = """\
import json
import os
import sys
import time
from pathlib import Path

OBSERVED = Path({observed!r})


def strings(value, where, found):
    if isinstance(value, dict):
        for key, item in value.items():
            strings(key, where, found)
            strings(item, f"{{where}}.{{key}}", found)
    elif isinstance(value, list):
        for item in value:
            strings(item, where, found)
    elif isinstance(value, str):
        found.append([where, value])


seen = [["argv", arg] for arg in sys.argv]
seen += [["env", f"{{key}}={{value}}"] for key, value in os.environ.items()]
args = dict(arg.split("=", 1) for arg in sys.argv[1:] if arg.startswith("--"))
config_path = Path(args["--config"])
config = json.loads(config_path.read_text())
strings(config, "config", seen)
for folder, dirs, files in os.walk(config_path.parent):
    seen.append(["tempdir", folder])
    seen += [["tempdir", os.path.join(folder, name)] for name in dirs + files]
seen.append(["cwd", os.getcwd()])
seen += [["cwd", name] for name in os.listdir(".")]
for fd in os.listdir("/proc/self/fd"):
    try:
        seen.append(["fd", os.readlink(f"/proc/self/fd/{{fd}}")])
    except OSError:
        pass

Path(config["artifact_path"]).write_text("same bytes every time\\n")
OBSERVED.mkdir(exist_ok=True)
(OBSERVED / f"{{time.time_ns()}}-{{os.getpid()}}.json").write_text(json.dumps(seen))
Path(args["--output"]).write_text(json.dumps({{"status": "ok", "metric": 1.0}}))
"""


def test_the_project_never_receives_a_path_into_the_store(
    bench, home, tmp_path, make_python_project
):
    observed = tmp_path / "observed"
    root = make_python_project(
        "spy",
        manifest=python_manifest(
            "spy", benchmarks='\n[[benchmarks]]\nname = "out"\ntier = "correctness"\n'
        ),
        files={"bench/runner.py": SPY_RUNNER.format(observed=str(observed))},
    )
    assert bench("register", str(root)).code == 0
    assert bench("run", "spy", "out").code == 0
    r = bench("freeze-reference", "spy", "out")
    assert r.code == 0, r.err  # the store exists and holds a reference from now on
    assert bench("run", "spy", "out", "-n", "2").code == 0
    r = bench("evaluate", "spy", "out")
    assert r.code == 0 and r.lines[0].startswith("verdict: PASS"), r.out

    reports = sorted(observed.glob("*.json"))
    assert len(reports) == 3
    needles = {str(home), str(home.resolve()), os.path.realpath(home)}
    for report in reports:
        seen = json.loads(report.read_text())
        kinds = {where.split(".")[0] for where, _ in seen}
        # The spy really looked: argv, environment, config, temp dir listing and fds.
        assert {"argv", "env", "config", "tempdir", "cwd", "fd"} <= kinds
        listing = [value for where, value in seen if where == "tempdir"]
        assert any(value.endswith("/config.json") for value in listing), listing
        assert any(value.endswith("/artifact") for value in listing), listing
        leaks = [(where, value) for where, value in seen if any(n in value for n in needles)]
        assert leaks == []

    # Control: the same spy, handed the store's path in its environment, does report it.
    workdir = tmp_path / "control"
    (workdir / "artifact").mkdir(parents=True)
    config = {"artifact_path": str(workdir / "artifact" / "artifact.bin"), "benchmark": "out"}
    (workdir / "config.json").write_text(json.dumps(config))
    subprocess.run(
        [
            sys.executable,
            "bench/runner.py",
            f"--config={workdir / 'config.json'}",
            f"--output={workdir / 'result.json'}",
        ],
        cwd=root,
        check=True,
        env=dict(os.environ, LEAKED=str(home)),
    )
    control = set(observed.glob("*.json")) - set(reports)
    assert len(control) == 1
    seen = json.loads(control.pop().read_text())
    assert ["env", f"LEAKED={home}"] in seen


def test_requires_correctness_blocks_a_faster_but_wrong_candidate(bench, make_python_project):
    root = _make(make_python_project, "guard", level=1.0, answer="right\n")
    assert bench("register", str(root)).code == 0
    assert bench("run", "guard", "output").code == 0
    assert bench("freeze-reference", "guard", "output").code == 0
    assert bench("baseline", "establish", "guard", "speed").code == 0

    # Twice as fast, wrong output. Without a correctness run at the SHA: NEEDS_MORE_DATA.
    sha = _change(root, level=0.5, answer="wrong\n")
    assert bench("run", "guard", "speed").code == 0
    r = bench("evaluate", "guard", "speed")
    assert r.code == 2, r.out
    assert r.lines[0].startswith("verdict: NEEDS_MORE_DATA")
    assert f"correctness benchmark 'output' has no PASS at {sha[:10]}" in r.out

    # With the correctness run: it FAILs, so the faster candidate is REJECTed.
    assert bench("run", "guard", "output").code == 0
    r = bench("evaluate", "guard", "speed", "--json")
    document = json.loads(r.out)
    assert r.code == 1 and document["kind"] == "REJECT"
    assert "correctness benchmark 'output' FAILs" in document["reason"]
    r = bench("promote", "guard", "speed")
    assert r.code == 1 and "verdict REJECT" in r.err
    assert bench("history", "guard", "speed", "--json").code == 0

    # Just as fast, right output: PROMOTE, and the pointer moves.
    sha = _change(root, level=0.5, answer="right\n")
    assert bench("run", "guard", "speed").code == 0
    assert bench("run", "guard", "output").code == 0
    r = bench("evaluate", "guard", "speed")
    assert r.code == 0 and r.lines[0].startswith("verdict: PROMOTE"), r.out
    r = bench("promote", "guard", "speed")
    assert r.code == 0 and f"-> {sha[:10]}" in r.lines[0]

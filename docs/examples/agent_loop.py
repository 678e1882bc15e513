"""An optimization loop driven by benchstone's verdicts (see docs/agent-loop.md).

The "agent" here is deliberately dumb: it proposes new values for one constant in one file
of the project. Everything else is what a real loop does around a real agent:

    for each proposal:
        edit the code, commit it                       (benchstone refuses dirty trees)
        bench run PROJECT BENCHMARK                    (plus the correctness benchmarks)
        bench evaluate PROJECT BENCHMARK               -> exit code
            0 PROMOTE          bench promote            keep the commit
            1 REJECT           git revert               the history keeps both commits
            2 NEEDS_MORE_DATA  run more, evaluate again (each look costs alpha), then revert
            5 STALE            the runs no longer describe the code: run again
            anything else      stop: the setup is broken, not the proposal

Usage:

    python agent_loop.py PROJECT_ROOT PROJECT BENCHMARK FILE CONSTANT VALUE [VALUE ...]
        [--correctness NAME ...] [--max-extra-runs N] [--api]

PROJECT must be registered (`bench register PROJECT_ROOT`) and every correctness benchmark
given with --correctness must have a frozen reference. With --api the same loop calls
`benchstone.api` in-process instead of the `bench` command.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

# `bench evaluate` exit codes (README, docs/cli.md); also benchstone.cli.VERDICT_EXIT_CODES.
PROMOTE, REJECT, UNDECIDED, STALE = 0, 1, 2, 5


@dataclass
class Outcome:
    """One verdict as the loop needs it: the exit code to branch on and a line to log."""

    kind: str
    exit_code: int
    reason: str


def git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True)
    return done.stdout.strip()


class CliHarness:
    """The loop's view of benchstone through the `bench` command and its --json output."""

    def __init__(self, project: str, benchmark: str) -> None:
        self.project, self.benchmark = project, benchmark
        found = shutil.which("bench")
        self.bench = [found] if found else [sys.executable, "-m", "benchstone.cli"]

    def _bench(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*self.bench, *args], capture_output=True, text=True)

    def _checked(self, *args: str) -> str:
        done = self._bench(*args)
        if done.returncode != 0:
            raise SystemExit(f"bench {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout

    def has_baseline(self) -> bool:
        listing = json.loads(self._checked("list", "--project", self.project, "--json"))
        [project] = listing["projects"]
        [info] = [b for b in project["benchmarks"] if b["name"] == self.benchmark]
        return info["baseline"] is not None

    def establish_baseline(self) -> None:
        self._checked("baseline", "establish", self.project, self.benchmark)

    def run(self, benchmark: str) -> int:
        report = json.loads(self._checked("run", self.project, benchmark, "--json"))
        return report["ok"]

    def evaluate(self) -> Outcome:
        done = self._bench("evaluate", self.project, self.benchmark, "--json")
        if done.returncode not in (PROMOTE, REJECT, UNDECIDED, STALE):
            raise SystemExit(f"bench evaluate exited {done.returncode}: {done.stderr.strip()}")
        verdict = json.loads(done.stdout)
        return Outcome(verdict["kind"], done.returncode, verdict["reason"])

    def promote(self) -> str:
        report = json.loads(self._checked("promote", self.project, self.benchmark, "--json"))
        return report["baseline"]["git_sha"]


class ApiHarness:
    """The same operations through benchstone.api, for loops that live in Python."""

    def __init__(self, project: str, benchmark: str) -> None:
        from benchstone import api

        self.api, self.project, self.benchmark = api, project, benchmark

    def has_baseline(self) -> bool:
        return self.api.baseline(self.project, self.benchmark) is not None

    def establish_baseline(self) -> None:
        self.api.establish_baseline(self.project, self.benchmark)

    def run(self, benchmark: str) -> int:
        return len(self.api.run(self.project, benchmark).ok_runs)

    def evaluate(self) -> Outcome:
        verdict = self.api.evaluate(self.project, self.benchmark)
        return Outcome(verdict.kind, verdict.exit_code, verdict.reason)

    def promote(self) -> str:
        return self.api.promote(self.project, self.benchmark).baseline.git_sha


def propose(root: Path, file: str, constant: str, value: str) -> str:
    """The agent's move: rewrite `CONSTANT = ...` in FILE and commit; returns the new SHA."""
    path = root / file
    pattern = re.compile(rf"^{re.escape(constant)}\s*=.*$", re.MULTILINE)
    text = path.read_text()
    if not pattern.search(text):
        raise SystemExit(f"{path}: no line `{constant} = ...` to change")
    path.write_text(pattern.sub(f"{constant} = {value}", text, count=1))
    git(root, "commit", "-q", "-am", f"agent: {constant} = {value}")
    return git(root, "rev-parse", "HEAD")


def measure(harness: CliHarness | ApiHarness, benchmark: str, correctness: list[str]) -> None:
    """Candidate runs at HEAD, and the correctness runs a guarded benchmark needs there."""
    for name in correctness:
        harness.run(name)
    ok = harness.run(benchmark)
    print(f"  ran {benchmark}: {ok} ok run(s)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("root", type=Path, help="the project's git checkout")
    parser.add_argument("project")
    parser.add_argument("benchmark")
    parser.add_argument("file", help="file (relative to root) holding the constant")
    parser.add_argument("constant")
    parser.add_argument("values", nargs="+", help="the agent's proposals, in order")
    parser.add_argument("--correctness", action="append", default=[], metavar="NAME")
    parser.add_argument("--max-extra-runs", type=int, default=2)
    parser.add_argument("--api", action="store_true", help="use benchstone.api, not `bench`")
    args = parser.parse_args(argv)

    root = args.root.resolve()
    harness_type = ApiHarness if args.api else CliHarness
    harness = harness_type(args.project, args.benchmark)
    if not harness.has_baseline():
        print(f"no baseline for {args.project}/{args.benchmark}: establishing one at HEAD")
        harness.establish_baseline()

    tally = {"promoted": 0, "reverted": 0}
    for number, value in enumerate(args.values, start=1):
        sha = propose(root, args.file, args.constant, value)
        print(f"proposal {number}: {args.constant} = {value}  (commit {sha[:10]})")
        measure(harness, args.benchmark, args.correctness)
        outcome = harness.evaluate()
        extra = 0
        while outcome.exit_code in (UNDECIDED, STALE) and extra < args.max_extra_runs:
            print(f"  {outcome.kind}: {outcome.reason}; running more")
            measure(harness, args.benchmark, args.correctness)
            outcome = harness.evaluate()
            extra += 1
        print(f"  verdict: {outcome.kind} (exit {outcome.exit_code}): {outcome.reason}")
        if outcome.exit_code == PROMOTE:
            print(f"  promoted: the baseline is now {harness.promote()[:10]}")
            tally["promoted"] += 1
        else:
            git(root, "revert", "--no-edit", "HEAD")
            print(f"  reverted: HEAD is {git(root, 'rev-parse', 'HEAD')[:10]}")
            tally["reverted"] += 1
    print(f"done: {tally['promoted']} promoted, {tally['reverted']} reverted")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The CI job summary / PR comment: one table row per benchmark."""

from __future__ import annotations

from collections.abc import Iterable
from statistics import median
from typing import TextIO

from ._collect import BenchmarkData, commit_order
from ._text import effect_text, short, sparkline, verdict_reason
from ._value import run_value


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def trend(data: BenchmarkData, points: int) -> str:
    """Sparkline of the median gated value of ok runs per commit, last ``points`` commits."""
    per_commit: dict[str, list[float]] = {}
    for run in data.runs:
        value = run_value(run)
        if run.status == "ok" and value is not None:
            per_commit.setdefault(run.git_sha, []).append(value)
    commits = [sha for sha in commit_order(data.runs) if sha in per_commit][-points:]
    return sparkline([median(per_commit[sha]) for sha in commits])


def write_markdown(out: TextIO, benchmarks: Iterable[BenchmarkData], points: int) -> None:
    out.write("## benchstone report\n\n")
    out.write("| benchmark | verdict | effect [interval] | baseline | trend | reason |\n")
    out.write("|---|---|---|---|---|---|\n")
    rows = 0
    for data in benchmarks:
        rows += 1
        latest = data.evaluations[-1] if data.evaluations else None
        baseline = data.baselines[-1] if data.baselines else None
        cells = [
            f"{data.project}/{data.benchmark}",
            f"**{latest.kind}** @ `{short(latest.candidate_sha)}`" if latest else "no verdict",
            effect_text(latest.details) if latest else "-",
            f"`{short(baseline.git_sha)}`" if baseline else "none",
            trend(data, points) or "-",
            verdict_reason(latest) if latest else "-",
        ]
        out.write("| " + " | ".join(_cell(c) for c in cells) + " |\n")
    if not rows:
        out.write("| (no benchmarks with runs) | | | | | |\n")

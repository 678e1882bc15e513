"""One benchmark's chart as inline SVG, drawn by matplotlib.

matplotlib draws everything; the only post-processing is a ``<title>`` (the browser's
hover label) inserted into each group matplotlib emitted for a point's ``gid``. The
figure is a bare ``matplotlib.figure.Figure`` rendered by the SVG backend, so neither
pyplot, a display nor a global backend switch is involved, and matplotlib is imported
only when an HTML report is built.
"""

from __future__ import annotations

import io
import re
from html import escape

from ._collect import BenchmarkData, commit_order
from ._text import effect_text, short
from ._value import run_value

#: The report's own colour table for the verdict kinds the store records (benchstone-gates
#: names them; the report reads the store only, so it states them here): green where the
#: candidate passed, red where it failed, grey for the undecided and refused kinds.
GREEN, RED, NEUTRAL = "#2e7d32", "#c62828", "#757575"
VERDICT_COLOURS = {
    "PROMOTE": GREEN,
    "PASS": GREEN,
    "REJECT": RED,
    "FAIL": RED,
    "NEEDS_MORE_DATA": NEUTRAL,
    "NO_BASELINE": NEUTRAL,
    "STALE": NEUTRAL,
}
_PROLOG = re.compile(r"^.*?(?=<svg)", re.S)


def chart_svg(data: BenchmarkData) -> str:
    """The SVG element (no XML prolog) for ``data``, with one titled group per point."""
    from matplotlib.figure import Figure

    commits = commit_order(data.runs)
    x_of = {sha: i for i, sha in enumerate(commits)}
    titles: dict[str, str] = {}
    fig = Figure(figsize=(8, 3.2), dpi=100)
    ax = fig.add_subplot()
    for run in data.runs:
        value = run_value(run)
        if value is None:
            continue
        gid = f"bs-run-{run.id}"
        colour = "#1565c0" if run.status == "ok" else "#9e9e9e"
        ax.plot([x_of[run.git_sha]], [value], "o", ms=4, color=colour, alpha=0.8, gid=gid)
        when = run.started_at or run.created_at
        titles[gid] = f"run {run.id} · {short(run.git_sha)} · {when} · {value:g}"
    for event in data.baselines:
        if event.git_sha in x_of:
            gid = f"bs-baseline-{event.id}"
            ax.axvline(x_of[event.git_sha], color="#6a1b9a", ls="--", lw=1, gid=gid)
            titles[gid] = f"baseline {event.action} → {short(event.git_sha)} · {event.created_at}"
    for evaluation in data.evaluations:
        x = next((x_of[s] for s in commits if s.startswith(evaluation.candidate_sha)), None)
        if x is None:
            continue
        gid = f"bs-verdict-{evaluation.id}"
        colour = VERDICT_COLOURS.get(evaluation.kind, NEUTRAL)
        ax.plot(
            [x],
            [1.02],
            "v",
            ms=8,
            color=colour,
            transform=ax.get_xaxis_transform(),
            clip_on=False,
            gid=gid,
        )
        titles[gid] = (
            f"{evaluation.kind} · {short(evaluation.candidate_sha)} · "
            f"{evaluation.created_at} · {effect_text(evaluation.details)}"
        )
    step = max(1, len(commits) // 12)
    ax.set_xticks(range(0, len(commits), step))
    ax.set_xticklabels([short(s)[:7] for s in commits[::step]], rotation=45, fontsize=7)
    ax.set_xlabel("commit (first-seen order)")
    ax.set_ylabel("value")
    ax.set_title(f"{data.project}/{data.benchmark}", fontsize=10)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None})
    return _with_titles(_PROLOG.sub("", buffer.getvalue(), count=1), titles)


def _with_titles(svg: str, titles: dict[str, str]) -> str:
    def insert(match: re.Match[str]) -> str:
        title = titles.get(match.group(1))
        return match.group(0) + (f"<title>{escape(title)}</title>" if title else "")

    return re.sub(r'<g id="(bs-[a-z]+-\d+)">', insert, svg)

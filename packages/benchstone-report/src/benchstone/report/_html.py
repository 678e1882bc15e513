"""One self-contained HTML file: inline SVG charts and a table of recent verdicts.

No script, stylesheet or font is fetched: the file works offline and from a CI artifact.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from typing import TextIO

from ._chart import chart_svg
from ._collect import BenchmarkData
from ._text import effect_text, short, verdict_reason

_HEAD = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>benchstone report</title>
<style>
body{font-family:sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;margin:.5em 0 2em}
td,th{border:1px solid #ccc;padding:.25em .6em;font-size:.9em;text-align:left}
.chart svg{max-width:100%;height:auto}
</style></head><body>
<h1>benchstone report</h1>
"""


def write_html(out: TextIO, benchmarks: Iterable[BenchmarkData], verdicts: int) -> None:
    out.write(_HEAD)
    count = 0
    for data in benchmarks:
        count += 1
        name = escape(f"{data.project}/{data.benchmark}")
        out.write(f'<section class="benchmark" data-benchmark="{name}">\n<h2>{name}</h2>\n')
        if data.runs:
            out.write('<div class="chart">')
            out.write(chart_svg(data))
            out.write("</div>\n")
        out.write(
            '<table class="verdicts"><tr><th>when</th><th>candidate</th><th>verdict</th>'
            "<th>effect [interval]</th><th>look</th><th>reason</th></tr>\n"
        )
        for evaluation in reversed(data.evaluations[-verdicts:]):
            cells = [
                evaluation.created_at,
                short(evaluation.candidate_sha),
                evaluation.kind,
                effect_text(evaluation.details),
                "-" if evaluation.look is None else str(evaluation.look),
                verdict_reason(evaluation),
            ]
            out.write("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in cells) + "</tr>\n")
        out.write("</table>\n</section>\n")
    if not count:
        out.write("<p>No benchmarks with runs.</p>\n")
    out.write("</body></html>\n")

"""The HTML report, rendered by a real headless Chromium: the charts must have drawn."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from benchstone.report import build_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (Debian package `chromium`)"
)


def _chromium(tmp_path: Path, page: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    return subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            f"--user-data-dir={tmp_path / 'profile'}",
            *args,
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    )


@pytest.fixture
def page(home: Path, tmp_path: Path) -> Path:
    target = tmp_path / "report.html"
    target.write_text(build_report(home, fmt="html"), encoding="utf-8")
    return target


def test_html_is_self_contained(page: Path) -> None:
    html = page.read_text(encoding="utf-8")
    assert not re.search(r"<(script|link|img|iframe)\b", html)
    assert not re.search(r"(src|href)=\"https?:", html)
    assert html.count("<svg") == 2


def test_verdict_triangles_are_green_for_promote_and_red_for_reject(page: Path) -> None:
    html = page.read_text(encoding="utf-8")

    def triangle(evaluation_id: int) -> str:  # the verdict's group, up to its own </g>
        return html.split(f'<g id="bs-verdict-{evaluation_id}">', 1)[1].split("\n   </g>")[0]

    # The kinds the store records (conftest: a PROMOTE at commit 2, a REJECT at commit 4).
    assert triangle(1).startswith("<title>PROMOTE ") and "fill: #2e7d32" in triangle(1)
    assert triangle(2).startswith("<title>REJECT ") and "fill: #c62828" in triangle(2)


@needs_chromium
def test_rendered_dom_has_a_chart_per_benchmark_with_point_titles(
    page: Path, tmp_path: Path, shas: list[str]
) -> None:
    dom = _chromium(tmp_path, page, "--dump-dom").stdout
    sections = dom.split('<section class="benchmark"')[1:]
    assert len(sections) == 2
    nsga2 = sections[0]
    assert "<svg" in nsga2
    run_titles = re.findall(r"<title>run \d+ · ([0-9a-f]{8}) · ([^<]+?) · ([^<]+)</title>", nsga2)
    assert len(run_titles) == 12  # every ok run; the error run has no value
    assert {sha for sha, _, _ in run_titles} == {s[:8] for s in shas}
    assert ("11111111", "2026-01-01T10:00:00.000000Z", "10") in run_titles
    assert len(re.findall(r"<title>baseline (establish|promote) ", nsga2)) == 2
    assert re.search(
        r"<title>REJECT · 55555555 · [^<]* · -50\.0% \[-60\.0%, -40\.0%\]</title>", nsga2
    )
    assert "<td>PROMOTE</td>" in nsga2 and "<td>REJECT</td>" in nsga2


@needs_chromium
def test_screenshot_shows_points_and_verdict_marks(page: Path, tmp_path: Path) -> None:
    from matplotlib.image import imread

    shot = tmp_path / "shot.png"
    _chromium(tmp_path, page, f"--screenshot={shot}", "--window-size=1000,1400")
    pixels = imread(str(shot))  # rows x cols x RGB(A), floats in [0, 1]
    assert pixels.shape[0] == 1400 and pixels.shape[1] == 1000
    red, green, blue = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    non_white = int(((red < 0.9) | (green < 0.9) | (blue < 0.9)).sum())
    run_blue = int(((blue > 0.55) & (red < 0.45) & (green < 0.6)).sum())
    reject_red = int(((red > 0.65) & (green < 0.35) & (blue < 0.35)).sum())
    promote_green = int(((green > 0.35) & (red < 0.3) & (blue < 0.3)).sum())
    assert non_white > 25_000  # charts + tables (the tables alone are ~20k)
    assert run_blue > 150  # 13 point markers drew
    assert reject_red > 20 and promote_green > 20  # the two verdict triangles drew

"""Markdown, CSV and JSON reports of a real store, and the refusals of bad input."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from benchstone.report import ReportError, build_report, write_report
from benchstone.store import ReadOnlyStore, Run


def test_markdown_shows_latest_verdict_effect_baseline_and_trend(home: Path) -> None:
    text = build_report(home)
    row = next(line for line in text.splitlines() if line.startswith("| Arborist/nsga2 "))
    assert "**REJECT** @ `55555555`" in row
    assert "-50.0% [-60.0%, -40.0%]" in row
    assert "`33333333`" in row  # the promoted baseline, not the established one
    assert "slower \\| by 50%" in row  # a pipe in the reason does not break the table
    # medians per commit 10.0, 10.1, 8.0, 8.1, 12.0 -> five sparks, lowest at commit 2
    spark = row.split(" | ")[4]
    assert len(spark) == 5 and spark[2] == "▁" and spark[4] == "█"
    assert "| Arborist/sorting | no verdict | - | none |" in text


def test_markdown_one_benchmark_only(home: Path) -> None:
    text = build_report(home, project="Arborist", benchmark="sorting")
    assert "Arborist/sorting" in text and "nsga2" not in text


def test_csv_has_every_run_column_and_every_run_oldest_first(home: Path, shas: list[str]) -> None:
    text = build_report(home, benchmark="nsga2", fmt="csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == list(Run.FIELDS)
    assert len(rows) == 13
    assert [int(r["id"]) for r in rows] == sorted(int(r["id"]) for r in rows)
    assert rows[0]["git_sha"] == shas[0] and rows[0]["metric"] == "10.0"
    assert rows[-1]["status"] == "error" and rows[-1]["message"] == "boom | exit 1"
    assert json.loads(rows[0]["fingerprint"]) == {}


def test_json_rows_match_the_store(home: Path) -> None:
    rows = json.loads(build_report(home, fmt="json"))
    with ReadOnlyStore.open(home) as store:
        stored = store.runs("Arborist", newest_first=False)
    assert [r["id"] for r in rows] == sorted(r.id for r in stored)
    by_id = {r.id: r for r in stored}
    assert all(row["metric"] == by_id[row["id"]].metric for row in rows)
    assert set(rows[0]) == set(Run.FIELDS)


def test_limit_keeps_the_newest_runs(home: Path, shas: list[str]) -> None:
    rows = json.loads(build_report(home, benchmark="nsga2", fmt="json", limit=2))
    assert [r["git_sha"] for r in rows] == [shas[4], shas[4]]
    assert rows[-1]["status"] == "error"


def test_write_report_streams_to_a_file(home: Path, tmp_path: Path) -> None:
    target = tmp_path / "runs.csv"
    with target.open("w", newline="") as out:
        write_report(out, home, fmt="csv")
    assert target.read_text().count("\n") == 15  # header + 13 + 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"fmt": "pdf"}, "format 'pdf' is not one of markdown, html, csv, json"),
        ({"limit": 0}, "limit must be a positive integer or None, got 0"),
        ({"project": "Nope"}, "project 'Nope' is not registered (registered: Arborist)"),
        ({"benchmark": "nope"}, "benchmark 'nope' has no runs in the selected project(s)"),
    ],
)
def test_bad_input_is_one_line(home: Path, kwargs: dict, message: str) -> None:
    with pytest.raises(ReportError) as info:
        build_report(home, **kwargs)
    assert str(info.value) == message


def test_missing_store_is_refused_and_not_created(tmp_path: Path) -> None:
    with pytest.raises(ReportError):
        build_report(tmp_path / "nothing")
    assert not (tmp_path / "nothing").exists()


def test_warmups_are_exported_but_never_plotted_or_trended(home: Path, shas: list[str]) -> None:
    from benchstone.report._collect import benchmark_data
    from benchstone.store import NewRun, Store

    before = build_report(home)
    with Store.open(home) as store:
        warmup = store.append_run(
            NewRun(
                project="Arborist",
                benchmark="nsga2",
                git_sha=shas[2],
                status="ok",
                metric=1000.0,
                reported_metric=1000.0,
                warmup=True,
            )
        )
    assert build_report(home) == before  # the trend's medians did not move
    with ReadOnlyStore.open(home) as store:
        data = benchmark_data(store, "Arborist", "nsga2", None)
    assert warmup.id not in {r.id for r in data.runs} and len(data.runs) == 13
    rows = list(csv.DictReader(io.StringIO(build_report(home, benchmark="nsga2", fmt="csv"))))
    assert [r["warmup"] for r in rows if int(r["id"]) == warmup.id] == ["True"]

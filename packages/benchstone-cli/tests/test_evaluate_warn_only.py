"""`bench evaluate --warn-only`: a REJECT is reported as usual but exits 0 (CI that watches)."""

from __future__ import annotations

import json

import pytest
from _support import set_level

from benchstone.cli import VERDICT_EXIT_CODES


@pytest.fixture
def registered(bench, make_python_project):
    root = make_python_project("watch")
    assert bench("register", str(root)).code == 0
    return root


def test_a_reject_is_reported_in_full_and_exits_0(bench, registered):
    assert bench("baseline", "establish", "watch", "speed").code == 0
    set_level(registered, 3.0)
    assert bench("run", "watch", "speed").code == 0
    plain = bench("evaluate", "watch", "speed")
    assert plain.code == VERDICT_EXIT_CODES["REJECT"] == 1
    watched = bench("evaluate", "watch", "speed", "--warn-only")
    assert watched.code == 0
    assert watched.out == plain.out  # the same verdict lines, word for word
    assert watched.lines[0].startswith("verdict: REJECT")
    assert watched.err == "warning: watch/speed is REJECT; exiting 0 because of --warn-only\n"
    as_json = bench("evaluate", "watch", "speed", "--warn-only", "--json")
    assert as_json.code == 0 and json.loads(as_json.out)["kind"] == "REJECT"


def test_every_other_verdict_keeps_its_exit_code(bench, registered):
    r = bench("evaluate", "watch", "speed", "--warn-only")
    assert (r.code, r.lines[0].split()[1]) == (2, "NO_BASELINE") and r.err == ""
    assert bench("baseline", "establish", "watch", "speed").code == 0
    set_level(registered, 0.5)
    assert bench("run", "watch", "speed").code == 0
    r = bench("evaluate", "watch", "speed", "--warn-only")
    assert (r.code, r.lines[0].split()[1]) == (0, "PROMOTE")
    (registered / "scratch.txt").write_text("uncommitted\n")
    r = bench("evaluate", "watch", "speed", "--warn-only")
    assert (r.code, r.lines[0].split()[1]) == (5, "STALE")


def test_warn_only_and_expect_are_refused_together(bench, registered):
    r = bench("evaluate", "watch", "speed", "--warn-only", "--expect", "PROMOTE")
    assert r.code == 10 and r.out == ""
    assert r.err.startswith("Error: --warn-only and --expect contradict each other")
    assert r.err.count("\n") == 1

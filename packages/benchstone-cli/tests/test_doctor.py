"""`bench doctor` in-process: one line per check, JSON with the same checks, exit 0."""

from __future__ import annotations

import json

from click.testing import CliRunner

from benchstone.cli._app import cli


def test_doctor_text_and_json_agree() -> None:
    runner = CliRunner()
    text = runner.invoke(cli, ["doctor", "--no-calibrate"])
    assert text.exit_code == 0, text.output
    document = json.loads(runner.invoke(cli, ["doctor", "--no-calibrate", "--json"]).output)
    names = [check["name"] for check in document["checks"]]
    assert {"aslr", "bwrap", "valgrind"} <= set(names)
    for check in document["checks"]:
        assert check["verdict"] in ("ok", "warn")
        assert check["name"] in text.output
    assert document["warnings"] == sum(c["verdict"] == "warn" for c in document["checks"])

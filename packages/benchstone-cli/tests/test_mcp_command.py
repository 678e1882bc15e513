"""`bench mcp`: a real `bench mcp` subprocess driven over stdio by the SDK's own client.

The documents it returns are compared with what `bench ... --json` prints for the same
store, and a missing extra is one `Error:` line naming what to install.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from _support import bench_command, set_level

#: A bound on polling, not a timing assertion: a job that never finishes fails the test.
POLL_LIMIT_SECONDS = 120


def _server_parameters(home: Path):
    from mcp import StdioServerParameters

    command, *args = bench_command()
    # The client passes a minimal environment; the store and the interpreter's flags go along.
    env = {"BENCHSTONE_HOME": str(home)}
    if "PYTHONDONTWRITEBYTECODE" in os.environ:
        env["PYTHONDONTWRITEBYTECODE"] = os.environ["PYTHONDONTWRITEBYTECODE"]
    return StdioServerParameters(command=command, args=[*args, "mcp"], env=env)


async def _document(client, tool: str, **arguments: Any) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content[0].text
    assert json.loads(result.content[0].text) == result.structured_content
    return result.structured_content


def test_a_session_over_stdio_lists_runs_polls_evaluates_promotes(bench, home, make_python_project):
    pytest.importorskip("mcp", reason="the mcp extra (pip install 'benchstone[mcp]')")
    from mcp import Client

    root = make_python_project("agent")
    assert bench("register", str(root)).code == 0
    assert bench("baseline", "establish", "agent", "speed").code == 0
    sha = set_level(root, 0.5)
    seen: dict[str, Any] = {}

    async def main() -> None:
        async with Client(_server_parameters(home)) as client:
            assert client.server_capabilities.tools is not None
            seen["list"] = await _document(client, "list_projects")
            started = await _document(client, "run", project="agent", benchmark="speed")
            assert started["job"]["state"] in ("queued", "running")
            with anyio.fail_after(POLL_LIMIT_SECONDS):
                while True:
                    job = await _document(client, "job_status", job_id=started["job"]["id"])
                    if job["state"] in ("done", "failed"):
                        break
                    await anyio.sleep(0.1)
            # Side by side: 4 candidate repetitions paired with 4 of the baseline commit.
            assert (job["state"], job["done_runs"]) == ("done", 8), job
            seen["evaluate"] = await _document(
                client, "evaluate", project="agent", benchmark="speed"
            )
            seen["promote"] = await _document(client, "promote", project="agent", benchmark="speed")
            seen["history"] = await _document(client, "history", project="agent", benchmark="speed")
            refused = await client.call_tool("promote", {"project": "agent", "benchmark": "sped"})
            seen["refused"] = (refused.is_error, refused.content[0].text)
            again = await client.call_tool("promote", {"project": "agent", "benchmark": "speed"})
            seen["again"] = (again.is_error, again.content[0].text)

    anyio.run(main)
    # What the tools returned is what `bench --json` prints for the same store.
    assert seen["list"]["projects"][0]["name"] == "agent"
    after = json.loads(bench("list", "--json").out)
    assert after["projects"][0]["benchmarks"][0]["baseline"] == seen["promote"]["baseline"]
    assert seen["evaluate"]["kind"] == "PROMOTE" and seen["evaluate"]["candidate_sha"] == sha
    assert seen["history"] == json.loads(bench("history", "agent", "speed", "--json").out)
    assert seen["promote"]["baseline"]["git_sha"] == sha
    is_error, text = seen["refused"]
    assert is_error and text.startswith("Error: ") and "did you mean 'speed'?" in text
    assert "\n" not in text
    # Promoting the baseline's own commit again is refused; over MCP without the CLI's
    # way around it, which the CLI still prints.
    is_error, text = seen["again"]
    assert is_error and text.startswith("Error: refusing to promote agent/speed"), text
    assert "--force" not in text and "not exposed over MCP" in text
    cli = bench("promote", "agent", "speed")
    assert cli.code != 0 and "; pass --force to move the baseline anyway" in cli.err
    refusal = text.removesuffix(
        " (a person can override this from the bench CLI; it is not exposed over MCP)"
    )
    assert cli.err.strip() == f"{refusal}; pass --force to move the baseline anyway"


def test_without_the_extra_bench_mcp_names_what_to_install(bench, monkeypatch):
    # None in sys.modules makes an import fail exactly as when the package is not installed;
    # submodules an earlier test imported are blocked too.
    for name in [*sys.modules, "mcp"]:
        if name == "mcp" or name.startswith("mcp."):
            monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.delitem(sys.modules, "benchstone.api._mcp_server", raising=False)
    r = bench("mcp")
    assert (r.code, r.out) == (10, "")
    assert r.err == (
        "Error: the MCP server needs the Python MCP SDK (package mcp), which is not "
        "installed; install the extra: pip install 'benchstone[mcp]'\n"
    )

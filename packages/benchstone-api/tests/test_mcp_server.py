"""The MCP server through the SDK's own client, in memory, on a real registered git project.

The tools run the real workflow: `run` starts a real background worker process, the test
polls `job_status` until it finishes, then evaluates and promotes through the protocol.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import anyio
import pytest

pytest.importorskip("mcp", reason="the mcp extra (pip install 'benchstone-api[mcp]')")

from mcp import Client

from benchstone import api
from benchstone.api._documents import projects_document, to_json

TOOLS = {"list_projects", "run", "job_status", "jobs", "evaluate", "history", "promote"}
READ_ONLY = {"list_projects", "job_status", "jobs", "history"}
#: Arguments that would let an agent step around a guard; no tool may take one.
GUARD_BYPASSES = {"force", "allow_dirty", "replace", "reason", "unlock", "relock", "at_sha"}
#: What the CLI tells a person to type to step around a refusal; no tool error says it.
OVERRIDES = ("--force", "--allow-dirty", "bench lock")
#: A bound on polling, not a timing assertion: a job that never finishes fails the test.
POLL_LIMIT_SECONDS = 120


def call(client: Client, tool: str, **arguments: Any):
    return client.call_tool(tool, arguments)


async def document(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    """A successful call's structured content, checked to be the text it came with."""
    result = await call(client, tool, **arguments)
    text = result.content[0].text
    assert not result.is_error, text
    assert json.loads(text) == result.structured_content
    assert text == to_json(result.structured_content)  # the CLI's serialization, exactly
    return result.structured_content


async def error_text(client: Client, tool: str, **arguments: Any) -> str:
    result = await call(client, tool, **arguments)
    assert result.is_error and result.structured_content is None
    (content,) = result.content
    assert content.text.startswith("Error: ") and "\n" not in content.text, content.text
    return content.text


def assert_no_override(text: str) -> None:
    assert not [o for o in OVERRIDES if o in text], text
    assert text.endswith(
        "(a person can override this from the bench CLI; it is not exposed over MCP)"
    )


async def finished_job(client: Client, job_id: str) -> dict[str, Any]:
    with anyio.fail_after(POLL_LIMIT_SECONDS):
        while True:
            job = await document(client, "job_status", job_id=job_id)
            if job["state"] in ("done", "failed"):
                return job
            await anyio.sleep(0.1)


@pytest.fixture
def registered(project):
    api.register(project.root)
    api.establish_baseline("proj", "plain")
    return project


def test_tools_are_annotated_and_take_no_guard_bypass(home):
    async def main() -> None:
        async with Client(api.mcp_server()) as client:
            tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        assert set(tools) == TOOLS
        for name, tool in tools.items():
            assert tool.description, name
            assert tool.annotations.read_only_hint is (name in READ_ONLY), name
            assert tool.annotations.open_world_hint is False, name
            assert not set(tool.input_schema["properties"]) & GUARD_BYPASSES, name
        assert tools["evaluate"].annotations.idempotent_hint is True
        assert tools["promote"].annotations.destructive_hint is False
        assert tools["run"].input_schema["required"] == ["project", "benchmark"]

    anyio.run(main)


def test_list_run_poll_evaluate_promote_history(registered):
    baseline = api.baseline("proj", "plain")
    sha = registered.commit(level=0.5)

    async def main() -> None:
        async with Client(api.mcp_server()) as client:
            listed = await document(client, "list_projects")
            assert listed == json.loads(to_json(projects_document(api.list_projects())))
            (proj,) = listed["projects"]
            assert {b["name"] for b in proj["benchmarks"]} == {"speed", "plain", "exact"}

            started = await document(client, "run", project="proj", benchmark="plain")
            assert started["background"] is True and started["runs"] == []
            assert started["git_sha"] == sha
            job_id = started["job"]["id"]
            job = await finished_job(client, job_id)
            assert job["state"] == "done", job
            assert job["done_runs"] == job["total"] == 3

            listed_jobs = await document(client, "jobs", include_finished=True)
            assert listed_jobs["all"] is True
            assert [j["kind"] for j in listed_jobs["jobs"]] == ["run", "establish"]
            assert listed_jobs["jobs"][0] == job  # newest first: the one run started
            assert (await document(client, "jobs"))["jobs"] == []  # none left running

            verdict = await document(client, "evaluate", project="proj", benchmark="plain")
            assert verdict["kind"] == "PROMOTE", verdict["reason"]
            assert verdict["candidate_sha"] == sha and verdict["expect"] is None
            assert sorted(verdict["candidate_run_ids"]) == sorted(job["run_ids"])

            promoted = await document(client, "promote", project="proj", benchmark="plain")
            assert promoted["baseline"]["git_sha"] == sha
            assert promoted["baseline"]["action"] == "promote"
            assert sorted(promoted["baseline"]["run_ids"]) == sorted(job["run_ids"])
            assert promoted["forced"] is False

            timeline = await document(client, "history", project="proj", benchmark="plain")
            assert len(timeline["runs"]) == len(baseline.run_ids) + 3
            assert timeline["baseline"]["git_sha"] == sha
            newest = await document(client, "history", project="proj", benchmark="plain", limit=1)
            assert [r["id"] for r in newest["runs"]] == [max(job["run_ids"])]

    anyio.run(main)
    assert api.baseline("proj", "plain").git_sha == sha  # the pointer really moved


def test_refusals_are_tool_errors_with_the_one_line_message(registered):
    registered.commit(level=2.0)
    jobs_before = api.jobs(include_finished=True)

    async def main() -> None:
        async with Client(api.mcp_server()) as client:
            text = await error_text(client, "run", project="nope", benchmark="plain")
            assert text.startswith("Error: project 'nope' is not registered")
            text = await error_text(client, "evaluate", project="proj", benchmark="plainn")
            assert "did you mean 'plain'?" in text
            # No runs at the new commit: promote is refused, and there is no force to pass.
            text = await error_text(client, "promote", project="proj", benchmark="plain")
            assert text.startswith("Error: refusing to promote proj/plain: verdict ")
            assert_no_override(text)
            text = await error_text(client, "job_status", job_id="not-a-job")
            assert "job id 'not-a-job' is not valid" in text
            text = await error_text(client, "history", project="proj", benchmark="plain", limit=0)
            assert "limit must be at least 1" in text
            # A dirty tree is refused as on the CLI. allow_dirty is no argument of run: the
            # SDK drops arguments a tool does not declare, and the guard still holds.
            (registered.root / "scratch.txt").write_text("uncommitted\n")
            text = await error_text(client, "run", project="proj", benchmark="plain")
            assert "the git working tree has uncommitted changes; commit them" in text
            assert_no_override(text)
            forced = await error_text(
                client, "run", project="proj", benchmark="plain", allow_dirty=True
            )
            assert forced == text
            forced = await error_text(
                client, "promote", project="proj", benchmark="plain", force=True
            )
            assert forced.startswith("Error: refusing to promote proj/plain")

    anyio.run(main)
    assert api.baseline("proj", "plain").action == "establish"  # nothing moved
    assert api.jobs(include_finished=True) == jobs_before  # nothing was started
    # The CLI and Python callers, who can pass the override, still read how.
    with pytest.raises(api.ApiError, match=r"; commit them, or pass --allow-dirty to run anyway"):
        api.run("proj", "plain")
    (registered.root / "scratch.txt").unlink()
    with pytest.raises(api.PromotionRefused, match=r"; pass --force to move the baseline anyway$"):
        api.promote("proj", "plain")


def test_an_edited_evaluator_is_refused_and_no_tool_relocks_it(registered):
    manifest = registered.root / "bench" / "manifest.toml"
    manifest.write_text(manifest.read_text().replace("repetitions = 3", "repetitions = 2"))
    registered.commit()
    jobs_before = api.jobs(include_finished=True)

    async def main() -> None:
        async with Client(api.mcp_server()) as client:
            names = {tool.name for tool in (await client.list_tools()).tools}
            assert not names & {"lock", "register", "unregister", "establish_baseline"}
            text = await error_text(client, "run", project="proj", benchmark="plain")
            assert "the evaluator differs from the lock of project 'proj'" in text
            assert "bench/manifest.toml" in text
            assert_no_override(text)

    anyio.run(main)
    assert api.jobs(include_finished=True) == jobs_before  # nothing was started
    with pytest.raises(api.ApiError, match=r"; to accept it run `bench lock proj --reason"):
        api.run("proj", "plain")  # the CLI's message still says how to accept the change


def child_states() -> dict[int, str]:
    """This process's children (of every thread) and their state letter (Z: a zombie)."""
    states = {}
    for listing in Path("/proc/self/task").glob("*/children"):
        for pid in listing.read_text().split():
            with contextlib.suppress(FileNotFoundError, ProcessLookupError):
                stat = Path(f"/proc/{pid}/stat").read_text()
                states[int(pid)] = stat.rpartition(")")[2].split()[0]
    return states


def test_a_long_lived_server_reaps_its_finished_workers(registered):
    """`bench mcp` lives for hours: each finished worker must not stay behind as a zombie."""
    registered.commit(level=2.0)

    async def main() -> int:
        async with Client(api.mcp_server()) as client:
            started = await document(client, "run", project="proj", benchmark="plain")
            job = await finished_job(client, started["job"]["id"])
            assert job["state"] == "done", job
            pid = started["job"]["pid"]
            # The record says done just before the worker exits; wait for the exit itself.
            with anyio.fail_after(POLL_LIMIT_SECONDS):
                while child_states().get(pid) not in (None, "Z"):
                    await anyio.sleep(0.05)
            await anyio.sleep(0.5)  # a reaper's moment; a zombie stays one for good
            await document(client, "job_status", job_id=job["id"])
            return pid

    pid = anyio.run(main)
    assert child_states().get(pid) != "Z", child_states()  # other tests' children aside

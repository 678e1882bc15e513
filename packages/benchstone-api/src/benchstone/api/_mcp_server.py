"""The harness as Model Context Protocol tools, built on the official `mcp` SDK.

Each tool is one API call whose result is the document `bench ... --json` prints (built
by :mod:`benchstone.api._documents`), so an agent and a script read the same keys. What
an agent could use to buy a verdict is left out on purpose: no ``force``, no
``allow_dirty``, no reference replacement, no lock changes, no baseline set without a
verdict (see docs/mcp.md). Long work never runs inside a tool call — MCP clients time
calls out — so ``run`` starts a background job and returns its id; ``job_status`` polls it.

Importing this module imports the SDK; :mod:`benchstone.api._mcp` is the guarded way in.
"""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import MCPServer
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import Field

from benchstone.api._documents import (
    dispatch_document,
    jobs_document,
    projects_document,
    to_json,
    verdict_document,
)
from benchstone.api._errors import ApiError, error_line, harness_errors

INSTRUCTIONS = """\
benchstone gates benchmark results: a candidate commit is PROMOTE only when repeated,
seeded runs show a significant improvement over the stored baseline.
The loop: list_projects -> commit your change in the project's git repository ->
run (returns a job id at once) -> job_status until its state is done or failed ->
evaluate (PROMOTE, REJECT, NEEDS_MORE_DATA, ...) -> promote when the verdict is PROMOTE.
Evaluate again after more runs: all runs at the commit are pooled, and each new look at
the same candidate costs significance. Results are the JSON documents of `bench --json`."""

#: Said instead of a refusal's override (``--force``, ``--allow-dirty``, ``bench lock``):
#: no tool takes those, and an agent should learn why it was refused, not how to bypass it.
NOT_OVERRIDABLE_HERE = "(a person can override this from the bench CLI; it is not exposed over MCP)"

#: Reads only: listing, job records, the timeline.
READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False)
#: Appends rows (runs, a look) and changes nothing stored; asking twice adds another job.
APPENDS = ToolAnnotations(
    read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=False
)
#: Appends at most one row for the same runs (the same look is not counted twice).
LOOKS = ToolAnnotations(
    read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)

Project = Annotated[str, Field(description="Registered project name (see list_projects).")]
Benchmark = Annotated[str, Field(description="Benchmark name in the project's manifest.")]


def build_server(home: Path | None = None) -> MCPServer:
    """An MCP server whose tools act on the store at ``home`` ($BENCHSTONE_HOME if None)."""
    from benchstone import api

    server = MCPServer(
        "benchstone",
        title="benchstone",
        instructions=INSTRUCTIONS,
        version=version("benchstone-api"),
        log_level="WARNING",
    )

    @server.tool(annotations=READ_ONLY)
    @_tool_result
    def list_projects(
        project: Annotated[str | None, Field(description="Only this project.")] = None,
    ) -> dict[str, Any]:
        """Registered projects with their benchmarks, run counts and baseline pointers."""
        return projects_document(api.list_projects(project=project, home=home))

    @server.tool(annotations=APPENDS)
    @_tool_result
    def run(
        project: Project,
        benchmark: Benchmark,
        seed_set: Annotated[
            Literal["fresh", "baseline"],
            Field(description="Seeds from a fresh meta-seed, or the manifest's baseline_seeds."),
        ] = "fresh",
        meta_seed: Annotated[
            int | None, Field(description="63-bit meta-seed for fresh seeds (default: random).")
        ] = None,
        n: Annotated[
            int | None, Field(description="Repetitions (default: the manifest's).")
        ] = None,
    ) -> dict[str, Any]:
        """Start the benchmark's repetitions at the project's current commit in a background
        job and return at once; the document's job.id is what job_status takes.

        The working tree must be clean (commit first)."""
        report = api.run(
            project,
            benchmark,
            seed_set=seed_set,
            meta_seed=meta_seed,
            n=n,
            background=True,
            home=home,
        )
        return dispatch_document(report)

    @server.tool(annotations=READ_ONLY)
    @_tool_result
    def job_status(
        job_id: Annotated[str, Field(description="The job id run returned (job.id).")],
    ) -> dict[str, Any]:
        """One job: state (queued, running, done, failed, stale), progress, run ids and
        its outcome message. Poll it until state is done or failed."""
        return api.job(job_id, home=home).to_dict()

    @server.tool(annotations=READ_ONLY)
    @_tool_result
    def jobs(
        include_finished: Annotated[bool, Field(description="Also done and failed jobs.")] = False,
    ) -> dict[str, Any]:
        """Queued, running and stale jobs (all of them with include_finished), newest first."""
        return jobs_document(
            api.jobs(include_finished=include_finished, home=home),
            include_finished=include_finished,
        )

    @server.tool(annotations=LOOKS)
    @_tool_result
    def evaluate(project: Project, benchmark: Benchmark) -> dict[str, Any]:
        """The verdict for the project's current commit against the baseline: kind
        (PROMOTE, REJECT, NEEDS_MORE_DATA, NO_BASELINE, STALE, ...), effect with its
        interval, p and the reason. A decided verdict is recorded as a look."""
        return verdict_document(api.evaluate(project, benchmark, home=home))

    @server.tool(annotations=READ_ONLY)
    @_tool_result
    def history(
        project: Project,
        benchmark: Benchmark,
        since: Annotated[
            str | None, Field(description="Only runs stored at or after this ISO-8601 time.")
        ] = None,
        git_sha: Annotated[str | None, Field(description="Only runs at this SHA (prefix).")] = None,
        limit: Annotated[int | None, Field(description="At most this many, newest first.")] = None,
    ) -> dict[str, Any]:
        """The benchmark's runs with the values they gate on, and the active baseline."""
        found = api.timeline(
            project, benchmark, since=since, git_sha=git_sha, limit=limit, home=home
        )
        return found.to_dict()

    @server.tool(annotations=APPENDS)
    @_tool_result
    def promote(
        project: Project,
        benchmark: Benchmark,
        notes: Annotated[str | None, Field(description="Free text kept with the move.")] = None,
        meta_seed: Annotated[
            int | None,
            Field(description="Name only the candidate runs of this meta-seed in the pointer."),
        ] = None,
    ) -> dict[str, Any]:
        """Move the baseline pointer to the current commit's pooled candidate runs, only if
        their verdict is PROMOTE; any other verdict is an error naming it."""
        return api.promote(
            project, benchmark, notes=notes, meta_seed=meta_seed, home=home
        ).to_dict()

    return server


def _tool_result(func: Callable[..., dict[str, Any]]) -> Callable[..., CallToolResult]:
    """The tool's document as the CLI prints it (text) and as structured content; a harness
    error becomes a tool error (isError) whose text is the CLI's one `Error:` line."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> CallToolResult:
        try:
            document = func(*args, **kwargs)
        except harness_errors() as exc:
            # A tool error the model reads, not a protocol error: the call itself was fine.
            return CallToolResult(
                content=[TextContent(type="text", text=error_line(_refusal(exc)))],
                is_error=True,
            )
        text = to_json(document)
        return CallToolResult(
            content=[TextContent(type="text", text=text)], structured_content=json.loads(text)
        )

    # The SDK reads the arguments' schema from the signature; the result is ours to shape.
    signature = inspect.signature(func, eval_str=True)
    wrapper.__signature__ = signature.replace(return_annotation=CallToolResult)  # type: ignore[attr-defined]
    return wrapper


def _refusal(exc: Exception) -> str:
    """The error's message without the CLI's way around it, which no tool offers."""
    if isinstance(exc, ApiError) and exc.override:
        return f"{exc.refusal} {NOT_OVERRIDABLE_HERE}"
    return str(exc)

"""The measuring process: one benchmark of one candidate, run and judged through the API.

``python -m benchstone.integrations.openevolve._child`` reads a request (JSON on stdin),
runs the benchmark's repetitions on the candidate's worktree with ``benchstone.api.run``,
asks ``benchstone.api.evaluate`` for the verdict, and prints one JSON document on stdout.

It is a process of its own so the adapter can stop it: OpenEvolve calls evaluators in a
thread it cannot kill, so a hung measurement would pin that thread forever. SIGTERM here
raises inside the API call, which kills the repetition's process tree and closes the job
record as failed — the same path as Ctrl-C in ``bench run``.
"""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path
from typing import Any

from benchstone import api
from benchstone.integrations.openevolve._errors import IntegrationError
from benchstone.runner import load_manifest


def measure(request: dict[str, Any]) -> dict[str, Any]:
    """Run and evaluate ``request["benchmark"]`` on ``request["checkout"]``."""
    project, benchmark = request["project"], request["benchmark"]
    checkout = Path(request["checkout"])
    home = Path(request["home"]) if request.get("home") else None
    spec = load_manifest(checkout).benchmark(benchmark)
    if spec.background_required:
        raise IntegrationError(
            f"benchmark '{benchmark}' of project '{project}' sets background_required = true; "
            "the OpenEvolve evaluator measures in the foreground (it owns the process it "
            "kills on timeout): drop the key for this benchmark"
        )
    report = api.run(project, benchmark, n=request.get("n"), checkout=checkout, home=home)
    verdict = api.evaluate(project, benchmark, checkout=checkout, home=home)
    return {
        "git_sha": report.git_sha,
        "runs": len(report.runs),
        "failures": [run.message or run.status for run in report.runs if run.status != "ok"],
        "verdict": verdict.to_dict(),
    }


def main() -> int:
    from benchstone.store import seal_settings

    seal_settings()  # its own process: what it starts need not learn the settings

    def terminate(signum: int, _frame: object) -> None:
        raise IntegrationError(
            f"terminated by {signal.Signals(signum).name} (the evaluator's timeout)"
        )

    signal.signal(signal.SIGTERM, terminate)
    signal.signal(signal.SIGHUP, terminate)
    try:
        request = json.loads(sys.stdin.read())
        answer = {"ok": True, **measure(request)}
    except Exception as exc:  # every failure is one line for the adapter's artifact
        answer = {"ok": False, "error": " ".join(str(exc).split()) or type(exc).__name__}
    sys.stdout.write(json.dumps(answer))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

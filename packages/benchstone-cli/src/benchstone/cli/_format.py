"""Text the `bench` command prints: SPEC's lines exactly, then our detail lines.

Pure functions from API results to strings, so the demo, the CLI and the tests agree on
every character.
"""

from __future__ import annotations

import math

SHA_WIDTH = 10


def short_sha(sha: str | None) -> str:
    return sha[:SHA_WIDTH] if sha else "-"


def number(value: float | None, digits: int = 6) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return f"{value:.{digits}g}"


def seconds(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.1f}s" if value >= 100 else f"{value:.3g}s"


def threshold(value: float | None) -> str:
    """2.0 prints as SPEC prints it ("2.0"); a look-adjusted 2.2414 as "2.24"."""
    if value is None:
        return "-"
    text = f"{value:.2f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def dispatch_header(count: int, git_sha: str, dirty: bool, meta_seed: int | None) -> str:
    return (
        f"dispatched {count} run(s)  git_sha={short_sha(git_sha)}  dirty={dirty}  "
        f"meta_seed={meta_seed}"
    )


def slurm_progress(result) -> str:
    """A Slurm dispatch's progress (stderr): the array tasks' states and rows so far."""
    order = ("pending", "running", "done", "failed", "cancelled", "unknown")
    counts = result.counts
    states = ", ".join(f"{counts[name]} {name}" for name in order if counts.get(name))
    return (
        f"slurm job {result.slurm_job or '-'}: {states or 'no task states yet'}; "
        f"{result.recorded}/{result.total} repetition(s) recorded"
    )


def task_states(counts) -> str:
    """``2 pending, 1 running`` for `bench status`; ``-`` when there is nothing to say."""
    return ", ".join(f"{n} {state}" for state, n in counts.items() if n) or "-"


def side_by_side_line(window: str, baseline_sha: str | None, pairs: int) -> str:
    """The line under the header of a side-by-side dispatch: what the window measures."""
    return (
        f"  side by side: window {window}, {pairs} pair(s) of baseline "
        f"{short_sha(baseline_sha)} and candidate, each pair in random order"
    )


def decision_line(decision) -> str:
    """How an --until-decided run ended and the repetitions it needed."""
    stages = ", ".join(str(n) for n in decision.stage_pairs)
    state = "decided" if decision.decided else "undecided"
    return (
        f"until decided: {decision.verdict.kind} ({state}) after {decision.pairs} pair(s) = "
        f"{decision.repetitions} repetitions, stage {decision.stage} of {decision.stages} "
        f"(stages at {stages} pairs, budget {decision.max_pairs})"
    )


def run_line(run) -> str:
    """SPEC's per-repetition line; ` (i/n)` at the end says how far the dispatch is (the
    pair, side by side, after the arm and commit it measured)."""
    head = f"  run={run.id} rep={run.repetition} seed={run.seed}"
    if getattr(run, "executor", None) == "slurm":
        head += f" node={run.host}"
    count = (
        f" ({run.repetition + 1}/{run.repetition_total})"
        if run.repetition_total and run.repetition is not None
        else ""
    )
    if getattr(run, "arm", None) is not None:
        head += f" arm={run.arm:<9} sha={short_sha(run.git_sha)}"
        count = f" (pair {run.repetition + 1}/{run.repetition_total})" if count else ""
    if run.status == "ok":
        return f"{head} metric={number(run.metric)} wall={seconds(run.wall_clock)}{count}"
    return f"{head} status=error wall={seconds(run.wall_clock)} message={run.message}{count}"


def failure_lines(failures) -> list[str]:
    """Per failed repetition: its reason, then the last lines of its stderr, indented."""
    lines = []
    for failure in failures:
        lines.append(
            f"  run={failure.run_id} rep={failure.repetition} seed={failure.seed}: {failure.reason}"
        )
        if failure.stderr_tail:
            lines.append(f"    stderr ({failure.stderr_log}), last lines:")
            lines.extend(f"    | {text}" for text in failure.stderr_tail)
        elif failure.stderr_log:
            lines.append(f"    stderr ({failure.stderr_log}) is empty")
    return lines


def clock(value: float) -> str:
    """Elapsed time as a person reads a stopwatch: 0:07, 12:30, 1:02:03."""
    whole = max(0, int(value))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def live_line(
    current: int, total: int, rep_elapsed: float, total_elapsed: float, eta: float | None
) -> str:
    """The terminal-only line redrawn while repetition ``current`` of ``total`` runs."""
    left = "?" if eta is None else clock(math.ceil(eta))
    return (
        f"  rep {current}/{total} running {clock(rep_elapsed)}  "
        f"elapsed {clock(total_elapsed)}  eta {left}"
    )


def baseline_set(project: str, benchmark: str, event) -> str:
    return (
        f"baseline set: {project}/{benchmark} -> {short_sha(event.git_sha)} "
        f"({len(event.run_ids)} run(s))"
    )


def baseline_promoted(project: str, benchmark: str, report) -> list[str]:
    event = report.baseline
    lines = [
        f"baseline promoted: {project}/{benchmark} -> {short_sha(event.git_sha)}  "
        f"(baseline meta_seed={event.meta_seed})"
    ]
    lines.append(f"  {len(event.run_ids)} run(s): {', '.join(str(i) for i in event.run_ids)}")
    if report.forced:
        lines.append(f"  forced: the verdict was {report.verdict.kind} ({report.verdict.reason})")
    return lines


def registered(info) -> list[str]:
    lines = [f"registered {info.name}  {info.path}", f"  manifest: {info.manifest_hash}"]
    lines += [f"  benchmark: {b.name}  tier={b.tier}  corpus={b.corpus}" for b in info.benchmarks]
    return lines


#: Beyond this relative change an effect reads as a ratio ("2.44× slower"), not a percent.
RATIO_BEYOND = 0.5


def effect_phrase(
    effect: float | None, direction: str | None, tier: str | None, source: str | None = None
) -> str:
    """A relative effect (+ = better) as people say it, respecting the direction.

    Within ±50 %: "12.3 % faster"; beyond: "2.44× slower" (candidate / baseline, or its
    inverse, whichever is >= 1). A performance benchmark reads faster/slower (peak RSS
    smaller/larger); a quality one lower/higher with (better)/(worse).
    """
    if effect is None or not math.isfinite(effect):
        return "undefined"
    minimize = direction != "maximize"
    ratio = 1.0 - effect if minimize else 1.0 + effect  # candidate / baseline
    better = effect >= 0
    judged = " (better)" if better else " (worse)"
    if source == "peak_rss":
        word = ("smaller" if minimize == better else "larger") + judged
    elif tier == "performance":
        word = "faster" if better else "slower"
    else:
        word = ("lower" if minimize == better else "higher") + judged
    if abs(effect) > RATIO_BEYOND and ratio > 0:
        factor = ratio if ratio >= 1 else 1.0 / ratio
        return f"{factor:.3g}× {word}"
    return f"{abs(effect) * 100:.1f} % {word}"


def level_text(level: float) -> str:
    """0.9 -> "90 %", 0.9545 -> "95.4 %": the interval's level stated plainly."""
    text = f"{level * 100:.1f}"
    return (text[:-2] if text.endswith(".0") else text) + " %"


def reject_phrase(verdict) -> str | None:
    """Which REJECT this is, in the words a CI gate cares about."""
    if verdict.kind != "REJECT" or verdict.worse is None:
        return None
    if verdict.gate.kind != "REJECT":
        return "wrong output"
    return "significantly worse" if verdict.worse else "no significant improvement"


def verdict_lines(verdict) -> list[str]:
    """SPEC's two lines (`verdict: KIND ...`, baseline/candidate means), then one headline
    statistic per line: each arm's summary, the effect with its interval, the test."""
    gate = verdict.gate
    kind = verdict.kind
    if gate.policy in ("sigma", "mann_whitney") and gate.statistic is not None:
        relation = ">=" if gate.threshold is not None and gate.statistic >= gate.threshold else "<"
        first = (
            f"verdict: {kind}  {gate.policy} z={gate.statistic:+.2f} {relation} "
            f"threshold {threshold(gate.threshold)} (direction={gate.direction})"
        )
        which = reject_phrase(verdict)
        first += f"  {which}" if which else ""
        reason_shown = False
    else:
        first = f"verdict: {kind}  {verdict.reason}"
        reason_shown = True
    lines = [first]
    if gate.baseline is not None and gate.candidate is not None:
        lines.append(
            f"  baseline mean={number(gate.baseline.mean, 5)}  "
            f"candidate mean={number(gate.candidate.mean, 5)}"
        )
    for label, summary, sha in (
        ("baseline ", gate.baseline, verdict.baseline_sha),
        ("candidate", gate.candidate, verdict.candidate_sha),
    ):
        if summary is not None:
            lines.append(
                f"  {label} n={summary.n} mean={number(summary.mean, 5)} "
                f"median={number(summary.median, 5)} sd={number(summary.stdev, 3)} "
                f"at {short_sha(sha)}"
            )
    lines.extend(effect_lines(verdict))
    if gate.reference_digest or gate.candidate_digest:
        lines.append(f"  reference={gate.reference_digest or '-'}")
        lines.append(f"  candidate={gate.candidate_digest or '-'}")
    if not reason_shown:
        lines.append(f"  reason: {verdict.reason}")
    lines.extend(f"  note: {note}" for note in verdict.notes)
    return lines


def effect_lines(verdict) -> list[str]:
    """`effect: 2.44× slower (95 % interval: ...)` and `p=... <= alpha=... at look k`."""
    gate = verdict.gate
    lines = []
    how = (gate.direction, verdict.tier, verdict.metric_source)
    if gate.effect is not None:
        text = f"  effect: {effect_phrase(gate.effect, *how)}"
        level = verdict.interval_level
        if gate.effect_ci is not None and level is not None:
            low, high = gate.effect_ci
            text += (
                f" ({level_text(level)} interval: {effect_phrase(low, *how)} "
                f"to {effect_phrase(high, *how)})"
            )
        lines.append(text)
    if gate.p_value is not None:
        relation = "<=" if gate.alpha is not None and gate.p_value <= gate.alpha else ">"
        lines.append(
            f"  test: p={number(gate.p_value, 3)} {relation} alpha={number(gate.alpha, 3)} "
            f"at look {gate.look}"
        )
    return lines


def history_lines(timeline, filters: dict[str, str] | None = None) -> list[str]:
    """The textual timeline; `*` marks the runs the active baseline pointer names, `w`
    the warmup repetitions (their metric column says so: no gate reads them).

    The metric column is the value each run gates on now (``timeline.values``); with no
    run to show, one line says whether the filters matched nothing or nothing ran yet.
    """
    name = f"{timeline.project}/{timeline.benchmark}"
    if not timeline.runs:
        if filters:
            given = " ".join(f"{flag} {value}" for flag, value in filters.items())
            return [f"no runs of {name} match {given}"]
        return [f"no runs of {name} yet; `bench run {timeline.project} {timeline.benchmark}`"]
    baseline = timeline.baseline
    active = set(baseline.run_ids) if baseline else set()
    header = (
        f"  {'run':>6}  {'started_at (UTC)':<19}  {'git_sha':<10}  {'dirty':<5}  "
        f"{'seed':>11}  {'rep':>3}  {'status':<6}  {'metric':>12}  {'wall':>8}"
    )
    lines = [header]
    for run, gated in zip(timeline.runs, timeline.values, strict=True):
        mark = "*" if run.id in active else "w" if run.warmup else " "
        started = run.started_at[:19].replace("T", " ")
        if run.status != "ok":
            value = (run.message or "")[:40]
        else:
            value = "warmup" if run.warmup else number(gated)
        lines.append(
            f"{mark} {run.id:>6}  {started:<19}  {short_sha(run.git_sha):<10}  "
            f"{'yes' if run.git_dirty else 'no':<5}  {run.seed:>11}  {run.repetition:>3}  "
            f"{run.status:<6}  {value:>12}  {seconds(run.wall_clock):>8}"
        )
    if any(run.warmup for run in timeline.runs):
        lines.append("w warmup repetition: stored, never gated")
    if baseline is not None:
        lines.append(
            f"* active baseline: {short_sha(baseline.git_sha)} ({baseline.action}, "
            f"{len(baseline.run_ids)} run(s), {baseline.created_at[:19].replace('T', ' ')})"
        )
    else:
        lines.append("no active baseline")
    return lines


def project_lines(info) -> list[str]:
    lines = [f"{info.name}  {info.path}"]
    if info.error:
        lines.append(f"  error: {info.error}")
    for bench in info.benchmarks:
        if bench.baseline is not None:
            base = f"{short_sha(bench.baseline.git_sha)} ({len(bench.baseline.run_ids)} run(s))"
        else:
            base = "none"
        lines.append(
            f"  {bench.name}  tier={bench.tier}  gate={bench.gate_policy}  "
            f"runs={bench.run_count}  baseline={base}  corpus={bench.corpus}"
        )
    return lines


def reference_frozen(report) -> str:
    return (
        f"reference frozen: {report.project}/{report.benchmark} -> {report.digest}  "
        f"(run={report.run.id}, git_sha={short_sha(report.run.git_sha)})"
    )


def reference_replaced(report) -> str:
    previous = report.previous.digest if report.previous else "-"
    reason = " ".join((report.event.reason or "").split())
    return (
        f"reference replaced: {report.project}/{report.benchmark} -> {report.digest} "
        f"(was {previous})  reason: {reason}"
    )


def reference_history_lines(project: str, benchmark: str, events: list) -> list[str]:
    """Every freeze and replacement, oldest first; the last one is the current reference."""
    if not events:
        return [
            f"no reference frozen for {project}/{benchmark}; run it, then "
            f"`bench freeze-reference {project} {benchmark}`"
        ]
    header = f"  {'event':>5}  {'created_at (UTC)':<19}  {'action':<7}  {'run':>6}  digest"
    lines = [header]
    for event in events:
        created = event.created_at[:19].replace("T", " ")
        run_id = "-" if event.run_id is None else str(event.run_id)
        lines.append(
            f"  {event.id:>5}  {created:<19}  {event.action:<7}  {run_id:>6}  {event.digest}"
        )
        if event.reason:
            lines.append(f"{'':>9}reason: {' '.join(event.reason.split())}")
        if event.notes:
            lines.append(f"{'':>9}notes: {' '.join(event.notes.split())}")
    current = events[-1]
    lines.append(
        f"current reference: {current.digest} ({current.action}, "
        f"{current.created_at[:19].replace('T', ' ')})"
    )
    return lines

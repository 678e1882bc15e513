"""The typed rows the store hands out and accepts.

All frozen: a row read from an append-only store must not look editable. ``New*``
classes are what callers append; the store fills in ``id``, ``created_at`` and
``row_hash``. They are :class:`~._record.Record` types (declared and behaving like frozen
dataclasses, without the import-time code generation that every `bench` call paid for).
"""

from __future__ import annotations

from typing import Any

from ._record import Record, factory


class Registration(Record):
    """One registration event; the latest event per name is the project's state."""

    id: int
    name: str
    path: str
    manifest_hash: str
    active: bool
    created_at: str
    row_hash: str


class _RunFields(Record, kw_only=True):
    """The columns a caller supplies for one repetition (shared by NewRun and Run).

    Keyword-only: thirty-odd fields are too many to pass by position safely.
    """

    project: str
    benchmark: str
    git_sha: str
    git_dirty: bool = False
    diff_path: str | None = None
    seed: int | None = None
    meta_seed: int | None = None
    seed_set: str | None = None  # "baseline" | "fresh"
    repetition: int | None = None
    repetition_total: int | None = None
    status: str  # "ok" | "error"
    metric: float | None = None  # the value the gate reads
    metric_source: str | None = None
    reported_metric: float | None = None
    metric_components: dict[str, Any] = factory(dict)
    reported_wall_clock: float | None = None
    wall_clock: float | None = None
    cpu_time: float | None = None
    peak_rss: int | None = None
    exit_code: int | None = None
    message: str | None = None
    metadata: dict[str, Any] = factory(dict)
    artifact_digest: str | None = None
    stdout_log: str | None = None
    stderr_log: str | None = None
    corpus_digest: str | None = None
    tracked_digest: str | None = None
    manifest_hash: str | None = None
    host: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    job_id: str | None = None
    # Schema version 2: sealed execution and measurement (NULL on older rows).
    instructions: int | None = None  # summed instruction count of the tree (valgrind)
    isolation: str | None = None  # sandbox level the repetition ran at
    lock_id: int | None = None  # the lock event whose evaluator ran
    content_digest: str | None = None  # what code was measured (tree hash / tracked digest)
    window: str | None = None  # side-by-side window id; rows of one window are comparable
    arm: str | None = None  # "candidate" | "baseline" within a window
    warmup: bool = False  # stored, never gated
    host_identity: str | None = None  # digest of the fingerprint's identity part
    fingerprint: dict[str, Any] = factory(dict)  # identity + conditions
    executor: str | None = None  # "local" | "slurm"
    bundle_id: str | None = None  # the result bundle ingested into this row (slurm)


class NewRun(_RunFields, kw_only=True):
    """A repetition to append with ``Store.append_run``."""


class Run(_RunFields, kw_only=True):
    """A stored repetition."""

    id: int
    created_at: str
    row_hash: str


class BaselineEvent(Record):
    """A move of the baseline pointer, naming the exact runs that form the baseline."""

    id: int
    project: str
    benchmark: str
    git_sha: str
    meta_seed: int | None
    run_ids: tuple[int, ...]
    action: str  # "establish" | "promote"
    notes: str | None
    forced: bool
    created_at: str
    row_hash: str


class ReferenceEvent(Record):
    """A freeze or (reasoned) replacement of a correctness reference artifact."""

    id: int
    project: str
    benchmark: str
    digest: str
    run_id: int | None
    action: str  # "freeze" | "replace"
    reason: str | None
    notes: str | None
    created_at: str
    row_hash: str


class NewEvaluation(Record):
    """A verdict to record; the records are the look counter of sequential testing."""

    project: str
    benchmark: str
    baseline_event_id: int | None
    candidate_sha: str
    run_ids: tuple[int, ...]
    policy: str | None
    statistic: float | None
    p_value: float | None
    threshold: float | None
    look: int | None
    kind: str
    reason: str | None = None
    details: dict[str, Any] = factory(dict)
    content_digest: str | None = None  # the candidate code's content: the look counter key


class Evaluation(Record):
    """A recorded verdict."""

    id: int
    project: str
    benchmark: str
    baseline_event_id: int | None
    candidate_sha: str
    run_ids: tuple[int, ...]
    policy: str | None
    statistic: float | None
    p_value: float | None
    threshold: float | None
    look: int | None
    kind: str
    reason: str | None
    details: dict[str, Any]
    created_at: str
    row_hash: str
    content_digest: str | None = None


class LockEvent(Record):
    """A lock of a project's evaluator: the manifest and evaluator files, by content.

    ``files`` maps each locked path (relative, POSIX) to the digest of its blob in the
    artifact store. ``procedure_digest`` covers what decides how numbers are *measured*
    (evaluator files, invocation, ...); ``judgement_digest`` what decides how they are
    *judged* (thresholds, policy, metric_source). Runs name the lock they ran under.
    """

    id: int
    project: str
    digest: str
    files: dict[str, Any]
    manifest_hash: str
    procedure_digest: str
    judgement_digest: str
    action: str  # "register" | "lock"
    reason: str | None
    created_at: str
    row_hash: str


class CorpusEvent(Record):
    """A held-out corpus imported for one benchmark (``bench corpus import``).

    The corpus itself lives content-addressed under the store (``Store.corpus_path``);
    the latest event of a benchmark is the corpus its runs see. ``action`` is "import"
    for the first, "replace" (with a reason) for every later one.
    """

    id: int
    project: str
    benchmark: str
    digest: str
    corpus_type: str  # "bytes" (one file) or "tree" (a directory)
    files: int
    bytes: int
    action: str
    reason: str | None
    created_at: str
    row_hash: str


class VerifyReport(Record):
    """The result of an audit: ``ok`` iff ``problems`` is empty.

    ``heads`` maps each table to its last row_hash (64 zeros when empty). A head commits
    to the table's whole history, so recording it somewhere else (a CI log, a ticket)
    lets a later audit detect even a rewrite that recomputed every hash.
    """

    ok: bool
    problems: list[str]
    counts: dict[str, int]
    heads: dict[str, str] = factory(dict)

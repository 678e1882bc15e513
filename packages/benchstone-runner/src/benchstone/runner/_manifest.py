"""Loading and validating ``bench/manifest.toml``.

The manifest is the project's whole contract with the harness, and an agent may be the one
editing it, so nothing is guessed: unknown keys are errors (with a "did you mean"), types
are strict (``true`` is not ``1``, ``"5"`` is not ``5``), and every error is one line that
names the file, the benchmark, the key and the value. Settings that are legal but cannot
work as intended (a gate that can never PROMOTE) come back as warnings for the CLI to
print, not through the ``warnings`` module, so they reach the user whatever the filters.

The schema is the spec records below: each field is one key (its kind, default,
doc line and the rule tying it to the keys before it; see ``_manifest_table.key``), so a
new key is one entry, and a test holds docs/manifest.md to exactly these rows. Names are
checked by the store's rule and digests by the hasher's parser, never by a copy.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import string
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path, PurePosixPath
from typing import Any, Final

from benchstone.gates import GateError, check_parameters
from benchstone.runner._errors import ManifestError
from benchstone.runner._manifest_table import (
    MISSING,
    Boolean,
    Choice,
    Derived,
    Digest,
    Integer,
    Names,
    Number,
    RelativePath,
    RelativePaths,
    Required,
    Seeds,
    Table,
    Text,
    choices,
    did_you_mean,
    key,
    keys_of,
    parse_table,
    show,
)
from benchstone.runner._sandbox_levels import LEVELS as SANDBOX_LEVELS
from benchstone.store import NAME_RULE, Record, StoreError, validate_name

MANIFEST_RELPATH: Final = PurePosixPath("bench/manifest.toml")
#: A manifest is a few KiB; the cap keeps a runaway file from being read into memory.
MAX_MANIFEST_BYTES: Final = 1 << 20

TIERS: Final = ("correctness", "performance", "quality")
DIRECTIONS: Final = ("minimize", "maximize")
GPU_MODES: Final = ("none", "direct", "ollama")
GATE_POLICIES: Final = ("sigma", "mann_whitney")
CORPUS_TYPES: Final = ("bytes", "spec", "tree")
REFERENCE_POLICIES: Final = ("byte_equivalence",)
INSTRUCTIONS_MIN_EFFECT: Final = 0.002
METRIC_SOURCES: Final = ("reported", "wall_clock", "cpu_time", "peak_rss", "instructions")
MEASUREMENTS: Final = ("side_by_side", "stored")
#: Host timings (and memory) drift between sessions, so their baselines are re-measured
#: side by side by default; ``reported`` counts as one in the performance tier.
HOST_TIMING_SOURCES: Final = frozenset({"wall_clock", "cpu_time", "peak_rss"})
#: Where repetitions run: on this host, or as a Slurm job array (docs/cluster.md).
EXECUTORS: Final = ("local", "slurm")
DEFAULT_POLL_SECONDS: Final = 2.0

#: The gate needs at least this many runs a side to say anything but NEEDS_MORE_DATA.
GATE_FLOOR: Final = 2
DEFAULT_STOCHASTIC_REPETITIONS: Final = 5
#: Each repetition is a subprocess and a database row; beyond this a typo is likelier.
MAX_REPETITIONS: Final = 100_000
SEED_LIMIT: Final = 2**63
DEFAULT_TIMEOUT_SECONDS: Final = 3600.0
TIMEOUT_FACTOR: Final = 10

_TOP_KEYS: Final = ("project", "benchmarks", "slurm")
_PLACEHOLDERS: Final = ("entry_point", "config_path", "output_path")
#: Only the result file is indispensable: a deterministic runner may ignore its config.
_REQUIRED_PLACEHOLDERS: Final = ("output_path",)

_SLURM_TIME_RE: Final = re.compile(r"[0-9]+(-[0-9]+)?(:[0-9]+){0,2}")
# Characters that need no quoting in a POSIX shell (shlex's safe set): the entry point is
# substituted into a shell command line.
_ENTRY_RE: Final = re.compile(r"[A-Za-z0-9_@%+=:,./-]+")


# --- kinds with the manifest's own rules ----------------------------------------------


def _is_name(value: object) -> bool:
    """The store's name rule: names become directories under ``$BENCHSTONE_HOME``."""
    try:
        validate_name("benchmark", value)  # type: ignore[arg-type]
    except StoreError:
        return False
    return True


class _Name(Record):
    """A project or benchmark name, by the store's own rule."""

    what: str
    doc: str = "string"

    def parse(self, table: Table, key: str, value: object) -> str:
        if not _is_name(value):
            raise table.error(
                key,
                f"is not a valid {self.what} name (it is used in paths)",
                value,
                f"use {NAME_RULE}",
            )
        assert isinstance(value, str)
        return value


class _EntryPoint(Record):
    """A non-empty string that needs no quoting on a shell command line."""

    doc: str = "string"

    def parse(self, table: Table, key: str, value: object) -> str:
        text = Text().parse(table, key, value)
        if not _ENTRY_RE.fullmatch(text):
            raise table.error(
                key,
                "must be safe on a shell command line",
                text,
                "use letters, digits and _@%+=:,./- only",
            )
        return text


class _Invocation(Record):
    """The command template, validated the way it will be used: by ``str.format``."""

    doc: str = "string"

    def parse(self, table: Table, key: str, invocation: object) -> str:
        if not isinstance(invocation, str):
            raise table.error(key, "must be a string", invocation, "write the command as a string")
        escape = "write literal braces as {{ and }}"
        try:
            fields = [
                (name, conversion, spec)
                for _, name, spec, conversion in string.Formatter().parse(invocation)
                if name is not None
            ]
        except ValueError as exc:
            raise table.error(key, f"is not a valid template ({exc})", invocation, escape) from None
        for name, conversion, spec in fields:
            if name not in _PLACEHOLDERS:
                raise table.error(
                    key,
                    f"has the unknown placeholder {{{name}}}",
                    invocation,
                    "the placeholders are {entry_point}, {config_path} and {output_path}; "
                    + escape,
                )
            if conversion or spec:
                raise table.error(
                    key,
                    f"placeholder {{{name}}} has a conversion or format spec",
                    invocation,
                    f"write plain {{{name}}}",
                )
        present = {name for name, _, _ in fields}
        for required in _REQUIRED_PLACEHOLDERS:
            if required not in present:
                raise table.error(
                    key,
                    f"lacks the {{{required}}} placeholder",
                    invocation,
                    "the runner writes its result to the file {output_path} names",
                )
        try:
            invocation.format(**{name: name for name in _PLACEHOLDERS})
        except (ValueError, KeyError, IndexError, AttributeError) as exc:
            raise table.error(key, f"cannot be formatted ({exc})", invocation, escape) from None
        return invocation


class _Directory(Record):
    """A directory path as written (resolved against the project root by its rule)."""

    doc: str = "string (path)"

    def parse(self, table: Table, key: str, value: object) -> str:
        if not isinstance(value, str) or not value.strip() or "\0" in value:
            raise table.error(
                key, "must be a directory path", value, "name a directory the compute nodes share"
            )
        return value


class _SlurmTime(Record):
    doc: str = "Slurm time (`MM`, `HH:MM:SS`, `D-HH:MM`, ...)"

    def parse(self, table: Table, key: str, value: object) -> str:
        text = Text().parse(table, key, value)
        if not _SLURM_TIME_RE.fullmatch(text):
            raise table.error(
                key,
                "is not a Slurm time",
                text,
                'write MM, HH:MM:SS or D-HH:MM, e.g. "30" or "2:00:00"',
            )
        return text


class _SbatchOptions(Record):
    """Options handed to sbatch one argument each, never through a shell."""

    doc: str = "array of strings, each starting with `-`"

    def parse(self, table: Table, key: str, value: object) -> tuple[str, ...]:
        if not isinstance(value, list):
            raise table.error(key, "must be an array", value, "write [ ... ]")
        for item in value:
            if not isinstance(item, str) or not item.startswith("-"):
                raise table.error(
                    key,
                    "must list sbatch options",
                    item,
                    'write each option as one string, e.g. ["--qos=short", "--constraint=avx2"]',
                )
        return tuple(value)


class _Cpus(Record):
    """CPU numbers as written, checked for shape only: which CPUs exist is a property of
    the host a repetition runs on, checked there (``validate_affinity``), not here."""

    doc: str = "array of distinct CPU numbers (integers ≥ 0)"

    def parse(self, table: Table, key: str, value: object) -> tuple[int, ...]:
        if not isinstance(value, list):
            raise table.error(key, "must be an array", value, "write [ ... ]")
        if not value:
            raise table.error(key, "is empty", value, "list at least one CPU number, e.g. [0]")
        cpus: list[int] = []
        for cpu in value:
            if isinstance(cpu, bool) or not isinstance(cpu, int) or cpu < 0:
                raise table.error(
                    key,
                    "each entry must be a CPU number (an integer >= 0)",
                    cpu,
                    "write e.g. [0, 1]",
                )
            if cpu in cpus:
                raise table.error(key, "lists a CPU twice", cpu, "list each CPU once")
            cpus.append(cpu)
        return tuple(cpus)


# --- rules between keys (each sees the keys parsed before it) --------------------------


def _correctness(values: Mapping[str, Any]) -> bool:
    return bool(values["tier"] == "correctness")


def _stochastic(values: Mapping[str, Any]) -> bool:
    return not _correctness(values) and not values["deterministic"]


def _deterministic_rule(table: Table, key: str, values: Mapping[str, Any], value: bool) -> bool:
    if _correctness(values) and not value:
        raise table.error(
            key,
            "a correctness benchmark compares output bytes, so it must be deterministic",
            False,
            "remove the key or set it to true",
        )
    return value


def _direction_rule(table: Table, key: str, values: Mapping[str, Any], value: Any) -> Any:
    if value is None and not _correctness(values):
        raise table.error(
            key,
            f"missing (required for tier {values['tier']!r})",
            right=f"set {key} to one of {choices(DIRECTIONS)}",
        )
    return value


def _not_for_correctness(why: str = "") -> Callable[[Table, str, Mapping[str, Any], Any], Any]:
    """A key that performance and quality benchmarks may set and correctness ones not."""

    def rule(table: Table, key: str, values: Mapping[str, Any], value: Any) -> Any:
        if table.has(key) and _correctness(values):
            raise table.error(
                key, f"does not apply to correctness benchmarks{why}", value, "remove the key"
            )
        return value

    return rule


def _not_empty(right: str) -> Callable[[Table, str, Mapping[str, Any], Any], Any]:
    def rule(table: Table, key: str, values: Mapping[str, Any], value: Any) -> Any:
        if table.has(key) and not value:
            raise table.error(key, "is empty", list(value), right)
        return value

    return rule


def _correctness_only(table: Table, key: str, values: Mapping[str, Any], value: Any) -> Any:
    if table.has(key) and not _correctness(values):
        raise table.error(
            key,
            f"applies to correctness benchmarks only, not tier {values['tier']!r}",
            value,
            "remove the key",
        )
    return value


def _needs_corpus_path(table: Table, key: str, values: Mapping[str, Any], value: Any) -> Any:
    if table.has(key) and values["corpus_path"] is None:
        raise table.error(
            key,
            "requires corpus_path",
            table.data[key],
            "set corpus_path to the corpus file or directory it describes",
        )
    return value


def _corpus_type_rule(table: Table, key: str, values: Mapping[str, Any], value: Any) -> Any:
    _needs_corpus_path(table, key, values, value)
    if value is None and values["corpus_hash"] is not None:
        table.warn(
            "corpus_hash is set without corpus_type; treating the corpus as "
            '"bytes" (one file hashed as is); set corpus_type = "bytes", "spec" or "tree"'
        )
        return "bytes"
    return value


def _held_out_rule(table: Table, key: str, values: Mapping[str, Any], value: bool) -> bool:
    if value:
        for other in ("corpus_path", "corpus_hash", "corpus_type"):
            if table.has(other):
                raise table.error(
                    other,
                    "does not go with held_out = true (a held-out corpus lives in the store, "
                    "imported by `bench corpus import`, never in the project tree)",
                    table.data[other],
                    "remove the key",
                )
    return value


def _spool_rule(table: Table, key: str, values: Mapping[str, Any], value: str) -> Path:
    """Absolute: the same directory on the submit host and on every compute node."""
    spool = Path(value).expanduser()
    if not spool.is_absolute():
        spool = values["root"] / spool
    return Path(os.path.normpath(spool))


def default_measurement(*, tier: str, deterministic: bool, source: str) -> str:
    """``side_by_side`` for a time or memory measured on this host, else ``stored``.

    Those drift with the machine between sessions (a stored baseline then promotes noise);
    seeded quality metrics, instruction counts and deterministic values do not.
    """
    if tier == "correctness" or deterministic:
        return "stored"
    if source in HOST_TIMING_SOURCES or (source == "reported" and tier == "performance"):
        return "side_by_side"
    return "stored"


def _measurement_rule(table: Table, key: str, values: Mapping[str, Any], value: str) -> str:
    if table.has(key) and _correctness(values):
        raise table.error(
            key,
            "does not apply to correctness benchmarks (they compare output bytes)",
            value,
            "remove the key",
        )
    if table.has(key) and values["deterministic"] and value == "side_by_side":
        raise table.error(
            key,
            "a deterministic benchmark repeats exactly, so there is nothing to re-measure",
            value,
            'remove the key or set measurement = "stored"',
        )
    return value


def _host_measured(values: Mapping[str, Any]) -> bool:
    # Timings and counts of this host differ on another one; a quality tier's reported
    # score (a seeded model's accuracy, say) does not, so only that defaults to comparable.
    return bool(values["tier"] == "performance" or values["metric_source"] != "reported")


def _default_timeout(values: Mapping[str, Any]) -> float:
    expected = values["expected_runtime_seconds"]
    return DEFAULT_TIMEOUT_SECONDS if expected is None else TIMEOUT_FACTOR * expected


def _default_min_effect(values: Mapping[str, Any]) -> float:
    # Instruction counts jitter by ~0.03 % run to run (benchmarks in docs/runner.md): a
    # smaller "improvement" is the tool's noise, not the code's.
    return INSTRUCTIONS_MIN_EFFECT if values["metric_source"] == "instructions" else 0.0


# --- the schema: one field per key ------------------------------------------------------


class ProjectSpec(Record, kw_only=True):
    """The ``[project]`` table."""

    name: str = key(_Name("project"), Required('set name = "MyProject"'), "Project name.")
    language: str = key(Text(), "unknown", "Informational: what the project is written in.")
    invocation: str = key(
        _Invocation(),
        Required(
            "set the command that runs a benchmark, with {output_path} "
            "(and {config_path} if the runner reads its config)"
        ),
        "The command that runs one benchmark repetition, a `str.format` template.",
    )
    tracked_paths: tuple[str, ...] = key(
        RelativePaths(),
        ("bench/",),
        "Paths, relative to the project root and inside it, whose content is hashed at run time.",
    )
    evaluator_paths: tuple[str, ...] = key(
        RelativePaths(),
        ("bench/",),
        "The evaluator: files (or folders, walked recursively) locked at `bench register` "
        "together with `bench/manifest.toml`.",
        check=_not_empty('list the evaluator\'s files or folders, e.g. ["bench/"]'),
    )
    sandbox: str = key(Choice(SANDBOX_LEVELS), "auto", "How each repetition is sealed.")
    network: bool = key(Boolean(), True, "Whether repetitions may use the network.")
    setup: str | None = key(
        Text(right='write the build command as a string, e.g. setup = "make"'),
        None,
        "A build step, run with `/bin/sh -c` once in each checkout a dispatch measures.",
    )
    executor: str = key(
        Choice(EXECUTORS),
        "local",
        "Where repetitions run: on this host, or as one Slurm job array per dispatch.",
    )
    cpu_affinity: tuple[int, ...] | None = key(
        _Cpus(),
        None,
        "Pin every repetition's whole process tree (warmups included) to these CPUs.",
        default_doc="none (not pinned)",
    )


class BenchmarkSpec(Record, kw_only=True):
    """One ``[[benchmarks]]`` table with every default filled in."""

    name: str = key(
        _Name("benchmark"),
        Required('set name = "my_benchmark"'),
        "Benchmark name; same characters as the project name; unique in the manifest.",
    )
    entry_point: str = key(
        _EntryPoint(),
        Derived(lambda v: v["name"], "the `name`"),
        "Substituted for `{entry_point}`.",
    )
    tier: str = key(
        Choice(TIERS),
        Required(f"set tier to one of {choices(TIERS)}"),
        "Correctness is pass/fail on output bytes against a frozen reference; performance "
        "and quality are statistical gates on a metric.",
    )
    deterministic: bool = key(
        Boolean(),
        Derived(_correctness, "`true` for correctness, else `false`"),
        "A deterministic performance/quality benchmark runs once a side and PROMOTEs only "
        "when strictly better (by at least `min_effect`).",
        check=_deterministic_rule,
    )
    metric_direction: str | None = key(
        Choice(DIRECTIONS),
        None,
        "Which way is better.",
        check=_direction_rule,
        default_doc="required for performance and quality",
        judgement=True,
    )
    expected_runtime_seconds: float | None = key(
        Number(0, inclusive=False),
        None,
        "How long one repetition usually takes; sets the default timeout.",
    )
    timeout_seconds: float = key(
        Number(0, inclusive=False),
        Derived(_default_timeout, "10 × `expected_runtime_seconds`, or `3600.0`"),
        "A repetition running longer is killed (its whole process group) and recorded as an error.",
    )
    threads: int = key(
        Integer(1), 1, "Threads one repetition uses, for the scheduler's thread budget."
    )
    gpu: str = key(Choice(GPU_MODES), "none", "GPU use, for the scheduler's GPU budget.")
    background_required: bool = key(Boolean(), False, "Always dispatch as a background job.")
    repetitions: int = key(
        Integer(1, MAX_REPETITIONS),
        Derived(
            lambda v: DEFAULT_STOCHASTIC_REPETITIONS if _stochastic(v) else 1,
            f"`{DEFAULT_STOCHASTIC_REPETITIONS}` for stochastic benchmarks, else `1`",
        ),
        "Candidate runs per `bench run`.",
    )
    baseline_seeds: tuple[int, ...] = key(
        Seeds(limit=SEED_LIMIT, most=MAX_REPETITIONS),
        Derived(lambda v: tuple(range(1, v["repetitions"] + 1)), "`[1, 2, …, repetitions]`"),
        "Seeds of the baseline run set (`bench baseline establish`); one run per seed.",
    )
    gate_policy: str = key(
        Choice(GATE_POLICIES),
        "sigma",
        "`sigma`: Welch's t as an equivalent z; `mann_whitney`: exact rank test, for "
        "heavy-tailed metrics.",
        judgement=True,
    )
    promotion_sigma: float = key(
        Number(0, inclusive=False),
        2.0,
        "The z threshold of the `sigma` gate (and of `mann_whitney` when `promotion_z` is unset).",
        judgement=True,
    )
    promotion_z: float | None = key(
        Number(0, inclusive=False),
        None,
        "The z threshold of the `mann_whitney` gate.",
        judgement=True,
    )
    metric_source: str = key(
        Choice(METRIC_SOURCES),
        "reported",
        "Which number the gate reads: the runner's reported `metric`, or one the harness "
        "measures itself (which the project cannot forge).",
        check=_not_for_correctness(" (they gate on output bytes)"),
        judgement=True,
    )
    measurement: str = key(
        Choice(MEASUREMENTS),
        Derived(
            lambda v: default_measurement(
                tier=v["tier"], deterministic=v["deterministic"], source=v["metric_source"]
            ),
            '`"side_by_side"` for a host timing — `metric_source` `wall_clock`, `cpu_time` '
            'or `peak_rss`, or `reported` in the performance tier — else `"stored"`',
        ),
        "How the baseline is measured: again, beside the candidate, or from its stored runs.",
        check=_measurement_rule,
        judgement=True,
    )
    min_effect: float = key(
        Number(0, inclusive=True),
        Derived(
            _default_min_effect,
            f'`0.0`; `{INSTRUCTIONS_MIN_EFFECT}` with `metric_source = "instructions"`',
        ),
        "Smallest relative improvement worth promoting (0.01 = 1%).",
        judgement=True,
    )
    corpus_path: str | None = key(
        RelativePath(),
        None,
        "The corpus (a file or a directory), relative to the project root and inside it.",
    )
    corpus_hash: str | None = key(
        Digest(),
        None,
        "Pins the corpus: the run refuses to start when the corpus on disk differs.",
        check=_needs_corpus_path,
    )
    corpus_type: str | None = key(
        Choice(CORPUS_TYPES),
        None,
        "`bytes`: one file, hashed as is; `spec`: only `corpus_spec.toml` is hashed (the "
        "corpus is generated from it); `tree`: a directory hashed as a tree.",
        check=_corpus_type_rule,
        default_doc='`"bytes"` when `corpus_hash` is set (with a warning), else none',
    )
    reference_policy: str | None = key(
        Choice(REFERENCE_POLICIES),
        Derived(
            lambda v: "byte_equivalence" if _correctness(v) else None,
            '`"byte_equivalence"` for correctness, else none',
        ),
        "How a correctness artifact is compared with the reference.",
        check=_correctness_only,
        judgement=True,
    )
    requires_correctness: tuple[str, ...] = key(
        Names(),
        (),
        "Correctness benchmarks of this same manifest that this benchmark depends on: its "
        "numbers mean something only while they PASS.",
        check=_not_for_correctness(),
        judgement=True,
    )
    output_reference: str | None = key(
        Text(right="name a correctness benchmark of this manifest"),
        None,
        "A correctness benchmark of this manifest whose frozen reference every timed "
        "repetition's output must match.",
        check=_not_for_correctness(" (they are checked against their own reference)"),
    )
    held_out: bool = key(
        Boolean(),
        False,
        "The corpus is held out: imported into the store with `bench corpus import`, never "
        "in the project tree.",
        check=_held_out_rule,
    )
    network: bool = key(
        Boolean(),
        Derived(lambda v: v["project"].network, "the project's `network`"),
        "Whether this benchmark's repetitions may use the network.",
    )
    executor: str = key(
        Choice(EXECUTORS),
        Derived(lambda v: v["project"].executor, "the project's `executor`"),
        "Where this benchmark's repetitions run (see `[project]`).",
    )
    warmup_repetitions: int = key(
        Integer(0, MAX_REPETITIONS),
        0,
        "Repetitions run before the measured ones of every dispatch.",
        check=_not_for_correctness(" (their output bytes need no warming up)"),
    )
    cpu_affinity: tuple[int, ...] | None = key(
        _Cpus(),
        None,
        "This benchmark's CPU pinning; see `[project]`.",
        default_doc="the `[project]` one",
    )
    compare_across_hosts: bool = key(
        Boolean(),
        Derived(
            lambda v: not _host_measured(v),
            "`false` for host measurements (tier performance, or a harness "
            "`metric_source`), `true` for a quality tier's `reported` score",
        ),
        "Whether the gate may compare runs whose host identities differ.",
        judgement=True,
    )
    description: str | None = key(Text(), None, "Free text.", judgement=True)

    @property
    def gate_threshold(self) -> float:
        """The z the gate must reach: ``promotion_z`` for mann_whitney when set (Mann-Whitney
        z is on a different footing from a t-based sigma), else ``promotion_sigma``."""
        if self.gate_policy == "mann_whitney" and self.promotion_z is not None:
            return self.promotion_z
        return self.promotion_sigma

    @property
    def is_stochastic(self) -> bool:
        """Whether runs vary and the gate must compare distributions rather than values."""
        return self.tier != "correctness" and not self.deterministic


class SlurmSettings(Record, kw_only=True):
    """The ``[slurm]`` table: how repetitions are submitted when the executor is slurm.

    ``spool`` is absolute: it must name the same directory on the submit host and on
    every compute node (a shared filesystem), so it is resolved once, here.
    """

    spool: Path = key(
        _Directory(),
        Required('set spool = "/shared/path" on the cluster\'s shared filesystem'),
        "A directory on the filesystem the submit host shares with the compute nodes, at "
        "the same path on all of them.",
        check=_spool_rule,
    )
    partition: str | None = key(Text(), None, "`--partition`.", default_doc="the cluster's default")
    account: str | None = key(Text(), None, "`--account`.")
    time_limit: str | None = key(
        _SlurmTime(), None, "`--time` per array task.", default_doc="the partition's"
    )
    extra_args: tuple[str, ...] = key(_SbatchOptions(), (), "More `sbatch` options.")
    #: Whole nodes per task; side-by-side windows always get one.
    exclusive: bool = key(
        Boolean(),
        False,
        "`--exclusive`: each array task gets a whole node, so nothing else runs beside its "
        "repetitions. A side-by-side window always does.",
    )
    max_parallel: int | None = key(
        Integer(1),
        None,
        "At most this many array tasks at once (`--array=0-N%K`). Not for a side-by-side "
        "window: it is one task.",
        default_doc="no limit",
    )
    #: How often a waiting submitter asks Slurm and lists the spool.
    poll_seconds: float = key(
        Number(0, inclusive=False),
        DEFAULT_POLL_SECONDS,
        "How often a waiting `bench run` asks Slurm for the task states and ingests new bundles.",
    )
    #: Consecutive repetitions one array task runs, in order, on one node (fewer, longer
    #: tasks for short repetitions; with ``exclusive``, a node to themselves).
    repetitions_per_task: int = key(
        Integer(1, MAX_REPETITIONS),
        1,
        "Consecutive repetitions one array task runs, in order, in one allocation on one "
        "node (fewer, longer tasks for short repetitions). Not for a side-by-side window: "
        "all its pairs are one task.",
    )


#: The schema as rows of (key, Key) per table: what the docs test reads.
PROJECT_KEYS: Final = keys_of(ProjectSpec)
BENCHMARK_KEYS: Final = keys_of(BenchmarkSpec)
SLURM_KEYS: Final = keys_of(SlurmSettings)
#: Keys that decide how numbers are judged rather than how they are measured (a lock
#: changing only these still applies to stored runs); marked on each key above.
JUDGEMENT_KEYS: Final = frozenset(
    name for name, row in PROJECT_KEYS + BENCHMARK_KEYS if row.judgement
)


class Manifest(Record):
    """A validated manifest; ``hash`` pins the exact bytes it was read from."""

    path: Path
    root: Path
    hash: str
    project: ProjectSpec
    benchmarks: tuple[BenchmarkSpec, ...]
    warnings: tuple[str, ...]
    slurm: SlurmSettings | None = None

    def benchmark(self, name: str) -> BenchmarkSpec:
        for spec in self.benchmarks:
            if spec.name == name:
                return spec
        names = [spec.name for spec in self.benchmarks]
        hint = did_you_mean(name, names) or "it declares " + ", ".join(repr(n) for n in names)
        raise ManifestError(f"{self.path}: no benchmark {name!r} in the manifest; {hint}")


def load_manifest(project_root: str | os.PathLike[str]) -> Manifest:
    """Read and validate ``PROJECT/bench/manifest.toml``; ManifestError on any problem."""
    root = Path(project_root).expanduser().resolve()
    path = root / MANIFEST_RELPATH
    raw = _read_manifest_bytes(path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ManifestError(
            f"{path}: invalid TOML: not UTF-8 (invalid byte at offset {exc.start}); "
            "save the manifest as UTF-8"
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        detail = " ".join(str(exc).split())
        raise ManifestError(f"{path}: invalid TOML: {detail}") from None
    warnings: list[str] = []
    project, benchmarks, slurm = _parse(path, data, warnings)
    return Manifest(
        path=path,
        root=root,
        hash="sha256:" + hashlib.sha256(raw).hexdigest(),
        project=project,
        benchmarks=benchmarks,
        warnings=tuple(warnings),
        slurm=slurm,
    )


def _read_manifest_bytes(path: Path) -> bytes:
    """The file's bytes, read once (they are both parsed and hashed), size-capped."""
    missing = f"{path}: not found (a project needs bench/manifest.toml)"
    too_big = f"{path}: larger than {MAX_MANIFEST_BYTES} bytes; a manifest is a few KiB of TOML"
    try:
        # stat before open: opening a FIFO would block until someone writes to it.
        mode = os.stat(path).st_mode
        if stat.S_ISDIR(mode):
            raise ManifestError(f"{path}: is a directory; expected the manifest TOML file")
        if not stat.S_ISREG(mode):
            raise ManifestError(f"{path}: not a regular file; expected the manifest TOML")
        with open(path, "rb") as handle:
            if os.fstat(handle.fileno()).st_size > MAX_MANIFEST_BYTES:
                raise ManifestError(too_big)
            raw = handle.read(MAX_MANIFEST_BYTES + 1)
    except (FileNotFoundError, NotADirectoryError):
        raise ManifestError(missing) from None
    except OSError as exc:
        raise ManifestError(f"{path}: cannot read: {exc.strerror}") from None
    if len(raw) > MAX_MANIFEST_BYTES:
        raise ManifestError(too_big)
    return raw


# --- parsing --------------------------------------------------------------------------


def _parse(
    path: Path, data: dict[str, Any], warnings: list[str]
) -> tuple[ProjectSpec, tuple[BenchmarkSpec, ...], SlurmSettings | None]:
    top = Table(path, "", data, warnings)
    top.reject_unknown(_TOP_KEYS)
    project_data = top.require("project", "a manifest needs a [project] table")
    if not isinstance(project_data, dict):
        raise top.error("project", "must be a table", project_data, "write a [project] table")
    project = ProjectSpec(**parse_table(ProjectSpec, Table(path, "[project] ", project_data)))
    entries = top.require("benchmarks", "declare at least one [[benchmarks]] table")
    if not isinstance(entries, list) or not entries:
        raise top.error(
            "benchmarks",
            "must be a non-empty array of tables",
            entries,
            "declare each benchmark as a [[benchmarks]] table",
        )
    specs: list[BenchmarkSpec] = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise top.error(
                "benchmarks",
                f"entry {index} must be a table",
                entry,
                "declare each benchmark as a [[benchmarks]] table",
            )
        spec = _parse_benchmark(path, index, entry, warnings, project)
        if any(other.name == spec.name for other in specs):
            raise ManifestError(
                f"{path}: benchmark {spec.name!r}: key 'name': duplicate, got {show(spec.name)}"
                "; benchmark names must be unique within a manifest"
            )
        specs.append(spec)
    _check_requires(path, specs)
    slurm = None
    if "slurm" in data:
        slurm_data = data["slurm"]
        if not isinstance(slurm_data, dict):
            raise top.error("slurm", "must be a table", slurm_data, "write a [slurm] table")
        # Every [slurm] value is handed to sbatch as one argument, never to a shell.
        table = Table(path, "[slurm] ", slurm_data)
        slurm = SlurmSettings(**parse_table(SlurmSettings, table, {"root": path.parent.parent}))
    users = [spec.name for spec in specs if spec.executor == "slurm"]
    if users and slurm is None:
        raise top.error(
            "slurm",
            f'missing, but executor = "slurm" is set for {choices(users)}',
            right='add a [slurm] table with at least spool = "/shared/path" (docs/cluster.md)',
        )
    return project, tuple(specs), slurm


def _parse_benchmark(
    path: Path, index: int, data: dict[str, Any], warnings: list[str], project: ProjectSpec
) -> BenchmarkSpec:
    name = data.get("name", MISSING)
    label = f"benchmark {name!r}: " if _is_name(name) else f"benchmarks[{index}]: "
    table = Table(path, label, data, warnings)
    spec = BenchmarkSpec(**parse_table(BenchmarkSpec, table, {"project": project}))
    for text in _gate_warnings(spec):
        table.warn(text)
    if spec.is_stochastic:
        for text in _gate_rules(table, spec):
            table.warn(text)
    return spec


def _check_requires(path: Path, specs: list[BenchmarkSpec]) -> None:
    """requires_correctness and output_reference name correctness benchmarks of this same
    manifest (a correctness benchmark is the one kind that has an artifact_path and a
    frozen reference to compare with)."""
    by_name = {spec.name: spec for spec in specs}
    correctness = [spec.name for spec in specs if spec.tier == "correctness"]
    for spec in specs:
        table = Table(path, f"benchmark {spec.name!r}: ", {})
        named = [("requires_correctness", name) for name in spec.requires_correctness]
        if spec.output_reference is not None:
            named.append(("output_reference", spec.output_reference))
        for key_name, name in named:
            target = by_name.get(name)
            if target is None:
                right = did_you_mean(name, correctness) or (
                    f"the correctness benchmarks here are {choices(correctness)}"
                    if correctness
                    else "this manifest declares no correctness benchmark"
                )
                raise table.error(key_name, "names no benchmark of this manifest", name, right)
            if target.tier != "correctness":
                raise table.error(
                    key_name,
                    f"names a {target.tier} benchmark, not a correctness one",
                    name,
                    "name a correctness benchmark (it has an artifact_path and a reference)",
                )


def _gate_rules(table: Table, spec: BenchmarkSpec) -> list[str]:
    """Gates' own parameter rules (benchstone.gates.check_parameters), with the manifest
    key to blame: the threshold first, then whether the seeds can ever reach it."""
    threshold_key = "promotion_z" if table.has("promotion_z") else "promotion_sigma"
    gate = {
        "policy": spec.gate_policy,
        "threshold": spec.gate_threshold,
        "min_effect": spec.min_effect,
        "direction": spec.metric_direction,
    }
    try:
        check_parameters(**gate)
    except GateError as exc:
        raise table.error(threshold_key, str(exc)) from None
    seeds_key = "baseline_seeds" if table.has("baseline_seeds") else "repetitions"
    try:
        return check_parameters(
            **gate,
            n_baseline=len(spec.baseline_seeds),
            n_candidate=spec.repetitions,
            max_candidate=MAX_REPETITIONS,
        )
    except GateError as exc:
        raise table.error(seeds_key, str(exc)) from None


# --- warnings -------------------------------------------------------------------------


def _gate_warnings(spec: BenchmarkSpec) -> list[str]:
    """Settings that load fine but leave the gate unable to ever PROMOTE as intended."""
    out: list[str] = []
    if not spec.is_stochastic:
        return out
    if spec.repetitions < GATE_FLOOR:
        out.append(
            f"repetitions = {spec.repetitions} is below the gate's floor of {GATE_FLOOR} "
            "candidate runs, so evaluate returns NEEDS_MORE_DATA forever; "
            f"set repetitions >= {GATE_FLOOR}"
        )
    if len(spec.baseline_seeds) < GATE_FLOOR:
        out.append(
            f"baseline_seeds has {len(spec.baseline_seeds)} seed(s), below the gate's floor "
            f"of {GATE_FLOOR} baseline runs, so evaluate returns NEEDS_MORE_DATA forever; "
            f"list at least {GATE_FLOOR} seeds"
        )
    if spec.gate_policy != "mann_whitney":
        return out
    if spec.promotion_z is None:
        out.append(
            'gate_policy = "mann_whitney" without promotion_z; the gate falls back to '
            f"promotion_sigma = {spec.promotion_sigma:g} as its z threshold; "
            "set promotion_z to choose it explicitly"
        )
    return out

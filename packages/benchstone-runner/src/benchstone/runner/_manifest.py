"""Loading and validating ``bench/manifest.toml``.

The manifest is the project's whole contract with the harness, and an agent may be the one
editing it, so nothing is guessed: unknown keys are errors (with a "did you mean"), types
are strict (``true`` is not ``1``, ``"5"`` is not ``5``), and every error is one line that
names the file, the benchmark, the key and the value. Settings that are legal but cannot
work as intended (a gate that can never PROMOTE) come back as warnings for the CLI to
print, not through the ``warnings`` module, so they reach the user whatever the filters.
"""

from __future__ import annotations

import difflib
import hashlib
import math
import os
import re
import stat
import string
import tomllib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from types import MappingProxyType
from typing import Any, Final

from benchstone.gates import GateError, check_parameters
from benchstone.runner._errors import ManifestError
from benchstone.runner._sandbox_levels import LEVELS as SANDBOX_LEVELS

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
#: Where repetitions run: on this host, or as a Slurm job array (docs/cluster.md).
EXECUTORS: Final = ("local", "slurm")
MEASUREMENTS: Final = ("side_by_side", "stored")
#: Host timings (and memory) drift between sessions, so their baselines are re-measured
#: side by side by default; ``reported`` counts as one in the performance tier.
HOST_TIMING_SOURCES: Final = frozenset({"wall_clock", "cpu_time", "peak_rss"})
#: Hex digest length per algorithm of a ``corpus_hash`` pin.
HASH_HEX_LENGTHS: Final = MappingProxyType({"sha256": 64, "blake3": 64, "xxh3-128": 32})

#: The gate needs at least this many runs a side to say anything but NEEDS_MORE_DATA.
GATE_FLOOR: Final = 2
DEFAULT_STOCHASTIC_REPETITIONS: Final = 5
#: Each repetition is a subprocess and a database row; beyond this a typo is likelier.
MAX_REPETITIONS: Final = 100_000
SEED_LIMIT: Final = 2**63
DEFAULT_TIMEOUT_SECONDS: Final = 3600.0
TIMEOUT_FACTOR: Final = 10

_PROJECT_KEYS: Final = (
    "name",
    "language",
    "invocation",
    "tracked_paths",
    "sandbox",
    "network",
    "executor",
    "setup",
    "cpu_affinity",
)
_SLURM_KEYS: Final = (
    "partition",
    "account",
    "time_limit",
    "extra_args",
    "spool",
    "exclusive",
    "max_parallel",
    "poll_seconds",
    "repetitions_per_task",
)
DEFAULT_POLL_SECONDS: Final = 2.0
_SANDBOX_LEVELS: Final = SANDBOX_LEVELS  # the rule lives with the sandbox
_BENCHMARK_KEYS: Final = (
    "name",
    "entry_point",
    "tier",
    "deterministic",
    "metric_direction",
    "expected_runtime_seconds",
    "timeout_seconds",
    "threads",
    "gpu",
    "background_required",
    "repetitions",
    "baseline_seeds",
    "gate_policy",
    "promotion_sigma",
    "promotion_z",
    "min_effect",
    "corpus_path",
    "corpus_hash",
    "corpus_type",
    "reference_policy",
    "metric_source",
    "measurement",
    "requires_correctness",
    "output_reference",
    "held_out",
    "description",
    "executor",
    "warmup_repetitions",
    "cpu_affinity",
    "compare_across_hosts",
)
_TOP_KEYS: Final = ("project", "benchmarks", "slurm")
_PLACEHOLDERS: Final = ("entry_point", "config_path", "output_path")
_REQUIRED_PLACEHOLDERS: Final = ("config_path", "output_path")

_NAME_RE: Final = re.compile(r"[A-Za-z0-9_.-]+")
# Characters that need no quoting in a POSIX shell (shlex's safe set): the entry point is
# substituted into a shell command line.
_ENTRY_RE: Final = re.compile(r"[A-Za-z0-9_@%+=:,./-]+")
_HEX_RE: Final = re.compile(r"[0-9a-f]+")
_MISSING: Final = object()


@dataclass(frozen=True)
class ProjectSpec:
    """The ``[project]`` table."""

    name: str
    language: str
    invocation: str
    tracked_paths: tuple[str, ...]
    sandbox: str = "auto"  # how each repetition is sealed (docs/security.md)
    network: bool = True  # false: repetitions run without a network
    executor: str = "local"  # where repetitions run unless a benchmark says otherwise
    setup: str | None = None  # build step run once per checkout before its repetitions
    # CPU numbers every repetition's process tree is pinned to (None: not pinned).
    cpu_affinity: tuple[int, ...] | None = None


@dataclass(frozen=True)
class SlurmSettings:
    """The ``[slurm]`` table: how repetitions are submitted when the executor is slurm.

    ``spool`` is absolute: it must name the same directory on the submit host and on
    every compute node (a shared filesystem), so it is resolved once, here.
    """

    spool: Path
    partition: str | None = None
    account: str | None = None
    time_limit: str | None = None
    extra_args: tuple[str, ...] = ()
    #: Whole nodes per task; side-by-side windows always get one.
    exclusive: bool = False
    max_parallel: int | None = None
    #: How often a waiting submitter asks Slurm and lists the spool.
    poll_seconds: float = DEFAULT_POLL_SECONDS
    #: Consecutive repetitions one array task runs, in order, on one node (fewer, longer
    #: tasks for short repetitions; with ``exclusive``, a node to themselves).
    repetitions_per_task: int = 1


@dataclass(frozen=True)
class BenchmarkSpec:
    """One ``[[benchmarks]]`` table with every default filled in."""

    name: str
    entry_point: str
    tier: str
    deterministic: bool
    metric_direction: str | None
    expected_runtime_seconds: float | None
    timeout_seconds: float
    threads: int
    gpu: str
    background_required: bool
    repetitions: int
    baseline_seeds: tuple[int, ...]
    gate_policy: str
    promotion_sigma: float
    promotion_z: float | None
    min_effect: float
    corpus_path: str | None
    corpus_hash: str | None
    corpus_type: str | None
    reference_policy: str | None
    metric_source: str
    requires_correctness: tuple[str, ...]
    description: str | None
    # The correctness benchmark whose frozen reference every timed repetition's artifact
    # must match (issue 11.5): the timed run is the checked run.
    output_reference: str | None = None
    # The corpus is imported into the store (`bench corpus import`), never in the tree,
    # and the repetitions run in the strict sandbox (docs/security.md, held-out corpora).
    held_out: bool = False
    executor: str = "local"  # the benchmark's own key, else the project's
    measurement: str = "stored"  # "side_by_side": baseline re-measured in the same window
    # Repetitions run (and stored, marked warmup) before the measured ones, never gated.
    warmup_repetitions: int = 0
    # This benchmark's own CPU pinning; None falls back to [project] cpu_affinity.
    cpu_affinity: tuple[int, ...] | None = None
    # Whether the gate may compare rows measured on hosts whose identities differ.
    compare_across_hosts: bool = False

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


@dataclass(frozen=True)
class Manifest:
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
        close = difflib.get_close_matches(name, names, n=1)
        hint = (
            f"did you mean {close[0]!r}?"
            if close
            else "it declares " + ", ".join(repr(n) for n in names)
        )
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


# --- messages -------------------------------------------------------------------------

_ARTICLED_TYPES: Final = (
    (bool, "a boolean"),
    (int, "an integer"),
    (float, "a float"),
    (str, "a string"),
    (list, "an array"),
    (dict, "a table"),
)


def _show(value: object) -> str:
    """``repr`` clipped to one short line, with the TOML type it was written as."""
    text = repr(value)
    if len(text) > 80:
        text = text[:77] + "..."
    kind = next((name for typ, name in _ARTICLED_TYPES if isinstance(value, typ)), None)
    return f"{text} ({kind or 'a ' + type(value).__name__})"


def _choices(values: tuple[str, ...] | list[str]) -> str:
    return ", ".join(repr(v) for v in values)


def _did_you_mean(word: object, candidates: tuple[str, ...] | list[str]) -> str | None:
    if not isinstance(word, str):
        return None
    close = difflib.get_close_matches(word, candidates, n=1)
    return f"did you mean {close[0]!r}?" if close else None


class _Table:
    """One TOML table being validated, with the context every message needs.

    ``where`` is the message prefix after the path: ``"[project] "``, ``"benchmark 'x': "``
    or ``""`` for the top level; errors read ``<path>: <where>key 'k': problem, got v; fix``.
    """

    def __init__(self, path: Path, where: str, data: dict[str, Any]) -> None:
        self.path = path
        self.where = where
        self.data = data

    def error(
        self, key: str, problem: str, value: object = _MISSING, right: str | None = None
    ) -> ManifestError:
        message = f"{self.path}: {self.where}key {key!r}: {problem}"
        if value is not _MISSING:
            message += f", got {_show(value)}"
        if right:
            message += f"; {right}"
        return ManifestError(message)

    def reject_unknown(self, known: tuple[str, ...]) -> None:
        for key in self.data:
            if key not in known:
                right = _did_you_mean(key, known) or f"known keys are {_choices(known)}"
                raise self.error(key, "unknown key", right=right)

    def has(self, key: str) -> bool:
        return key in self.data

    def require(self, key: str, right: str) -> object:
        if key not in self.data:
            raise self.error(key, "missing", right=right)
        return self.data[key]

    def string(self, key: str, default: Any = None, *, right: str | None = None) -> Any:
        if key not in self.data:
            return default
        value = self.data[key]
        if not isinstance(value, str) or not value.strip():
            raise self.error(key, "must be a non-empty string", value, right)
        return value

    def choice(self, key: str, choices: tuple[str, ...], default: Any = None) -> Any:
        if key not in self.data:
            return default
        value = self.data[key]
        if not isinstance(value, str) or value not in choices:
            right = _did_you_mean(value, choices) or "use one of those"
            raise self.error(key, f"must be one of {_choices(choices)}", value, right)
        return value

    def boolean(self, key: str, default: bool) -> bool:
        if key not in self.data:
            return default
        value = self.data[key]
        if not isinstance(value, bool):
            raise self.error(key, "must be a boolean", value, "write true or false, unquoted")
        return value

    def integer(self, key: str, default: int, *, minimum: int, maximum: int | None = None) -> int:
        if key not in self.data:
            return default
        value = self.data[key]
        rule = f"an integer >= {minimum}" + (f" and <= {maximum}" if maximum is not None else "")
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(key, f"must be {rule}", value, "write a bare integer")
        if value < minimum or (maximum is not None and value > maximum):
            raise self.error(key, f"must be {rule}", value)
        return value

    def number(
        self, key: str, default: float | None, *, minimum: float, inclusive: bool
    ) -> float | None:
        """A finite number; ints count as floats, booleans and strings do not."""
        if key not in self.data:
            return default
        value = self.data[key]
        rule = f"a finite number {'>=' if inclusive else '>'} {minimum:g}"
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(key, f"must be {rule}", value, "write a bare number")
        number = float(value)
        in_range = number >= minimum if inclusive else number > minimum
        if not math.isfinite(number) or not in_range:
            raise self.error(key, f"must be {rule}", value)
        return number

    def array(self, key: str) -> list[Any] | None:
        if key not in self.data:
            return None
        value = self.data[key]
        if not isinstance(value, list):
            raise self.error(key, "must be an array", value, "write [ ... ]")
        return value


# --- parsing --------------------------------------------------------------------------


def _parse(
    path: Path, data: dict[str, Any], warnings: list[str]
) -> tuple[ProjectSpec, tuple[BenchmarkSpec, ...], SlurmSettings | None]:
    top = _Table(path, "", data)
    top.reject_unknown(_TOP_KEYS)
    project_data = top.require("project", "a manifest needs a [project] table")
    if not isinstance(project_data, dict):
        raise top.error("project", "must be a table", project_data, "write a [project] table")
    project = _parse_project(_Table(path, "[project] ", project_data))
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
        spec = _parse_benchmark(path, index, entry, warnings, project.executor)
        if any(other.name == spec.name for other in specs):
            raise ManifestError(
                f"{path}: benchmark {spec.name!r}: key 'name': duplicate, got {_show(spec.name)}"
                "; benchmark names must be unique within a manifest"
            )
        specs.append(spec)
    _check_requires(path, specs)
    slurm = None
    if "slurm" in data:
        slurm_data = data["slurm"]
        if not isinstance(slurm_data, dict):
            raise top.error("slurm", "must be a table", slurm_data, "write a [slurm] table")
        slurm = _parse_slurm(_Table(path, "[slurm] ", slurm_data), path.parent.parent)
    users = [spec.name for spec in specs if spec.executor == "slurm"]
    if users and slurm is None:
        raise top.error(
            "slurm",
            f'missing, but executor = "slurm" is set for {_choices(users)}',
            right='add a [slurm] table with at least spool = "/shared/path" (docs/cluster.md)',
        )
    return project, tuple(specs), slurm


def _parse_slurm(table: _Table, root: Path) -> SlurmSettings:
    """``[slurm]``: every value is handed to sbatch as one argument, never to a shell."""
    table.reject_unknown(_SLURM_KEYS)
    spool = table.require("spool", 'set spool = "/shared/path" on the cluster\'s shared filesystem')
    if not isinstance(spool, str) or not spool.strip() or "\0" in spool:
        raise table.error(
            "spool", "must be a directory path", spool, "name a directory the compute nodes share"
        )
    spool_path = Path(spool).expanduser()
    if not spool_path.is_absolute():
        spool_path = root / spool_path
    extra = table.array("extra_args") or []
    for item in extra:
        if not isinstance(item, str) or not item.startswith("-"):
            raise table.error(
                "extra_args",
                "must list sbatch options",
                item,
                'write each option as one string, e.g. ["--qos=short", "--constraint=avx2"]',
            )
    time_limit = table.string("time_limit")
    if time_limit is not None and not re.fullmatch(r"[0-9]+(-[0-9]+)?(:[0-9]+){0,2}", time_limit):
        raise table.error(
            "time_limit",
            "is not a Slurm time",
            time_limit,
            'write MM, HH:MM:SS or D-HH:MM, e.g. "30" or "2:00:00"',
        )
    max_parallel = (
        table.integer("max_parallel", 0, minimum=1) if table.has("max_parallel") else None
    )
    poll = table.number("poll_seconds", DEFAULT_POLL_SECONDS, minimum=0, inclusive=False)
    assert poll is not None
    return SlurmSettings(
        spool=Path(os.path.normpath(spool_path)),
        partition=table.string("partition"),
        account=table.string("account"),
        time_limit=time_limit,
        extra_args=tuple(extra),
        exclusive=table.boolean("exclusive", False),
        max_parallel=max_parallel,
        poll_seconds=poll,
        repetitions_per_task=table.integer(
            "repetitions_per_task", 1, minimum=1, maximum=MAX_REPETITIONS
        ),
    )


def _valid_name(value: object) -> bool:
    return isinstance(value, str) and bool(_NAME_RE.fullmatch(value)) and value[0] != "."


_NAME_RULE: Final = "use letters, digits, '_', '.' and '-' only, not starting with '.'"


def _parse_project(table: _Table) -> ProjectSpec:
    table.reject_unknown(_PROJECT_KEYS)
    name = table.require("name", 'set name = "MyProject"')
    if not _valid_name(name):
        raise table.error(
            "name", "is not a valid project name (it is used in paths)", name, _NAME_RULE
        )
    language = table.string("language", "unknown")
    invocation = table.require(
        "invocation", "set the command that runs a benchmark, with {config_path} and {output_path}"
    )
    _check_invocation(table, invocation)
    tracked = _relative_paths(table, "tracked_paths")
    assert isinstance(name, str) and isinstance(invocation, str)
    return ProjectSpec(
        name=name,
        language=language,
        invocation=invocation,
        tracked_paths=("bench/",) if tracked is None else tracked,
        sandbox=table.choice("sandbox", _SANDBOX_LEVELS, "auto"),
        network=table.boolean("network", True),
        executor=table.choice("executor", EXECUTORS, "local"),
        setup=table.string(
            "setup", None, right='write the build command as a string, e.g. setup = "make"'
        ),
        cpu_affinity=_cpu_affinity(table),
    )


def _check_invocation(table: _Table, invocation: object) -> None:
    """Validate the template the way it will be used: by ``str.format``."""
    key = "invocation"
    if not isinstance(invocation, str):
        raise table.error(key, "must be a string", invocation, "write the command as a string")
    escape = "write literal braces as {{ and }}"
    try:
        fields = [
            (name, conversion, spec)
            for _, name, spec, conversion in _formatter_parse(invocation)
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
                f"the placeholders are {{entry_point}}, {{config_path}} and {{output_path}}; "
                f"{escape}",
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
                "the harness passes the config and output files through "
                "{config_path} and {output_path}",
            )
    try:
        invocation.format(**{name: name for name in _PLACEHOLDERS})
    except (ValueError, KeyError, IndexError, AttributeError) as exc:
        raise table.error(key, f"cannot be formatted ({exc})", invocation, escape) from None


def _formatter_parse(template: str) -> list[tuple[str, str | None, str | None, str | None]]:
    return list(string.Formatter().parse(template))


def _relative_path_problem(text: str) -> str | None:
    """Why ``text`` is not a relative path that stays inside the project, or None."""
    if not text:
        return "must not be empty"
    if "\0" in text:
        return "must not contain a NUL character"
    if text.startswith("~") or PurePosixPath(text).is_absolute() or PureWindowsPath(text).anchor:
        return "must be relative to the project root"
    depth = 0
    for part in PurePosixPath(text).parts:
        depth += -1 if part == ".." else 0 if part == "." else 1
        if depth < 0:
            return "escapes the project root with '..'"
    return None


def _relative_path(table: _Table, key: str, value: object) -> str:
    if not isinstance(value, str):
        raise table.error(key, "must be a string path", value, "write a relative path")
    problem = _relative_path_problem(value)
    if problem:
        raise table.error(
            key, problem, value, "write a path relative to the project root, inside it"
        )
    return value


def _relative_paths(table: _Table, key: str) -> tuple[str, ...] | None:
    items = table.array(key)
    if items is None:
        return None
    return tuple(_relative_path(table, key, item) for item in items)


def _parse_benchmark(
    path: Path, index: int, data: dict[str, Any], warnings: list[str], executor: str
) -> BenchmarkSpec:
    name = data.get("name", _MISSING)
    label = f"benchmark {name!r}: " if _valid_name(name) else f"benchmarks[{index}]: "
    table = _Table(path, label, data)
    table.reject_unknown(_BENCHMARK_KEYS)
    name = table.require("name", 'set name = "my_benchmark"')
    if not _valid_name(name):
        raise table.error(
            "name", "is not a valid benchmark name (it is used in paths)", name, _NAME_RULE
        )
    assert isinstance(name, str)

    table.require("tier", f"set tier to one of {_choices(TIERS)}")
    tier = table.choice("tier", TIERS)
    correctness = tier == "correctness"

    entry_point = table.string("entry_point", name)
    if not _ENTRY_RE.fullmatch(entry_point):
        raise table.error(
            "entry_point",
            "must be safe on a shell command line",
            entry_point,
            "use letters, digits and _@%+=:,./- only",
        )
    description = table.string("description")

    deterministic = table.boolean("deterministic", correctness)
    if correctness and not deterministic:
        raise table.error(
            "deterministic",
            "a correctness benchmark compares output bytes, so it must be deterministic",
            False,
            "remove the key or set it to true",
        )
    direction = table.choice("metric_direction", DIRECTIONS)
    if direction is None and not correctness:
        raise table.error(
            "metric_direction",
            f"missing (required for tier {tier!r})",
            right=f"set metric_direction to one of {_choices(DIRECTIONS)}",
        )

    expected = table.number("expected_runtime_seconds", None, minimum=0, inclusive=False)
    default_timeout = DEFAULT_TIMEOUT_SECONDS if expected is None else TIMEOUT_FACTOR * expected
    timeout = table.number("timeout_seconds", default_timeout, minimum=0, inclusive=False)
    assert timeout is not None
    threads = table.integer("threads", 1, minimum=1)
    gpu = table.choice("gpu", GPU_MODES, "none")
    background = table.boolean("background_required", False)

    stochastic = not correctness and not deterministic
    repetitions = table.integer(
        "repetitions",
        DEFAULT_STOCHASTIC_REPETITIONS if stochastic else 1,
        minimum=1,
        maximum=MAX_REPETITIONS,
    )
    seeds = _baseline_seeds(table, repetitions)

    gate_policy = table.choice("gate_policy", GATE_POLICIES, "sigma")
    promotion_sigma = table.number("promotion_sigma", 2.0, minimum=0, inclusive=False)
    promotion_z = table.number("promotion_z", None, minimum=0, inclusive=False)
    min_effect = table.number("min_effect", 0.0, minimum=0, inclusive=True)
    assert promotion_sigma is not None and min_effect is not None

    corpus_path = None
    if table.has("corpus_path"):
        corpus_path = _relative_path(table, "corpus_path", data["corpus_path"])
    corpus_hash = _corpus_hash(table)
    corpus_type = table.choice("corpus_type", CORPUS_TYPES)
    for key in ("corpus_hash", "corpus_type"):
        if table.has(key) and corpus_path is None:
            raise table.error(
                key,
                "requires corpus_path",
                data[key],
                "set corpus_path to the corpus file or directory it describes",
            )
    if corpus_hash is not None and corpus_type is None:
        corpus_type = "bytes"
        warnings.append(
            f"{path}: {label}corpus_hash is set without corpus_type; treating the corpus as "
            '"bytes" (one file hashed as is); set corpus_type = "bytes", "spec" or "tree"'
        )

    reference_policy = table.choice("reference_policy", REFERENCE_POLICIES)
    if reference_policy is not None and not correctness:
        raise table.error(
            "reference_policy",
            f"applies to correctness benchmarks only, not tier {tier!r}",
            reference_policy,
            "remove the key",
        )
    if correctness and reference_policy is None:
        reference_policy = "byte_equivalence"

    metric_source = table.choice("metric_source", METRIC_SOURCES, "reported")
    if metric_source == "instructions" and not table.has("min_effect"):
        # Instruction counts jitter by ~0.03 % run to run (benchmarks in docs/runner.md):
        # a smaller "improvement" is the tool's noise, not the code's.
        min_effect = INSTRUCTIONS_MIN_EFFECT
    if correctness and table.has("metric_source"):
        raise table.error(
            "metric_source",
            "does not apply to correctness benchmarks (they gate on output bytes)",
            metric_source,
            "remove the key",
        )
    requires = _requires_correctness(table, correctness)
    output_reference = _output_reference(table, correctness)
    held_out = table.boolean("held_out", False)
    if held_out:
        for key in ("corpus_path", "corpus_hash", "corpus_type"):
            if table.has(key):
                raise table.error(
                    key,
                    "does not go with held_out = true (a held-out corpus lives in the store, "
                    "imported by `bench corpus import`, never in the project tree)",
                    data[key],
                    "remove the key",
                )
    measurement = _measurement(table, tier=tier, deterministic=deterministic, source=metric_source)
    warmups = table.integer("warmup_repetitions", 0, minimum=0, maximum=MAX_REPETITIONS)
    if correctness and table.has("warmup_repetitions"):
        raise table.error(
            "warmup_repetitions",
            "does not apply to correctness benchmarks (their output bytes need no warming up)",
            warmups,
            "remove the key",
        )
    # Timings and counts of this host differ on another one; a quality tier's reported
    # score (a seeded model's accuracy, say) does not, so only that defaults to comparable.
    host_measured = tier == "performance" or metric_source != "reported"
    across_hosts = table.boolean("compare_across_hosts", not host_measured)

    spec = BenchmarkSpec(
        name=name,
        entry_point=entry_point,
        tier=tier,
        deterministic=deterministic,
        metric_direction=direction,
        expected_runtime_seconds=expected,
        timeout_seconds=timeout,
        threads=threads,
        gpu=gpu,
        background_required=background,
        repetitions=repetitions,
        baseline_seeds=seeds,
        gate_policy=gate_policy,
        promotion_sigma=promotion_sigma,
        promotion_z=promotion_z,
        min_effect=min_effect,
        corpus_path=corpus_path,
        corpus_hash=corpus_hash,
        corpus_type=corpus_type,
        reference_policy=reference_policy,
        metric_source=metric_source,
        requires_correctness=requires,
        description=description,
        output_reference=output_reference,
        held_out=held_out,
        executor=table.choice("executor", EXECUTORS, executor),
        measurement=measurement,
        warmup_repetitions=warmups,
        cpu_affinity=_cpu_affinity(table),
        compare_across_hosts=across_hosts,
    )
    warnings.extend(f"{path}: {label}{text}" for text in _gate_warnings(spec))
    if spec.is_stochastic:
        warnings.extend(f"{path}: {label}{text}" for text in _gate_rules(table, spec))
    return spec


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


def _measurement(table: _Table, *, tier: str, deterministic: bool, source: str) -> str:
    key = "measurement"
    default = default_measurement(tier=tier, deterministic=deterministic, source=source)
    value = table.choice(key, MEASUREMENTS, default)
    if table.has(key) and tier == "correctness":
        raise table.error(
            key,
            "does not apply to correctness benchmarks (they compare output bytes)",
            value,
            "remove the key",
        )
    if table.has(key) and deterministic and value == "side_by_side":
        raise table.error(
            key,
            "a deterministic benchmark repeats exactly, so there is nothing to re-measure",
            value,
            'remove the key or set measurement = "stored"',
        )
    return value


def _baseline_seeds(table: _Table, repetitions: int) -> tuple[int, ...]:
    key = "baseline_seeds"
    items = table.array(key)
    if items is None:
        return tuple(range(1, repetitions + 1))
    if not items:
        raise table.error(
            key,
            "is empty, so a baseline would run nothing",
            items,
            "list at least one seed, or remove the key for [1, ..., repetitions]",
        )
    if len(items) > MAX_REPETITIONS:
        raise table.error(key, f"lists {len(items)} seeds", right=f"list at most {MAX_REPETITIONS}")
    seen: set[int] = set()
    for seed in items:
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < SEED_LIMIT:
            raise table.error(
                key,
                "each seed must be an integer with 0 <= seed < 2**63",
                seed,
                "write bare integers",
            )
        if seed in seen:
            raise table.error(
                key,
                "lists a seed twice (identical runs hide the real spread)",
                seed,
                "make the seeds distinct",
            )
        seen.add(seed)
    return tuple(items)


def _corpus_hash(table: _Table) -> str | None:
    key = "corpus_hash"
    if not table.has(key):
        return None
    value = table.data[key]
    shape = "write ALGO:HEX with ALGO one of " + _choices(tuple(HASH_HEX_LENGTHS))
    if not isinstance(value, str) or ":" not in value:
        raise table.error(key, "is not a digest", value, shape)
    algo, _, hexdigits = value.partition(":")
    if algo not in HASH_HEX_LENGTHS:
        right = _did_you_mean(algo, tuple(HASH_HEX_LENGTHS)) or shape
        raise table.error(key, f"has the unknown algorithm {algo!r}", value, right)
    length = HASH_HEX_LENGTHS[algo]
    if len(hexdigits) != length or not _HEX_RE.fullmatch(hexdigits):
        raise table.error(
            key,
            f"needs {length} lowercase hex digits after '{algo}:'",
            value,
            "copy the pin printed by `bench corpus hash`",
        )
    return value


def _cpu_affinity(table: _Table) -> tuple[int, ...] | None:
    """The CPU numbers as written, checked for shape only: which CPUs exist is a property
    of the host a repetition runs on, checked there (``validate_affinity``), not here."""
    key = "cpu_affinity"
    items = table.array(key)
    if items is None:
        return None
    if not items:
        raise table.error(key, "is empty", items, "list at least one CPU number, e.g. [0]")
    cpus: list[int] = []
    for cpu in items:
        if isinstance(cpu, bool) or not isinstance(cpu, int) or cpu < 0:
            raise table.error(
                key, "each entry must be a CPU number (an integer >= 0)", cpu, "write e.g. [0, 1]"
            )
        if cpu in cpus:
            raise table.error(key, "lists a CPU twice", cpu, "list each CPU once")
        cpus.append(cpu)
    return tuple(cpus)


def _requires_correctness(table: _Table, correctness: bool) -> tuple[str, ...]:
    key = "requires_correctness"
    items = table.array(key)
    if items is None:
        return ()
    if correctness:
        raise table.error(key, "does not apply to correctness benchmarks", items, "remove the key")
    names: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise table.error(key, "must list benchmark names", item, "write quoted names")
        if item in names:
            raise table.error(key, "lists a benchmark twice", item, "list each once")
        names.append(item)
    return tuple(names)


def _output_reference(table: _Table, correctness: bool) -> str | None:
    key = "output_reference"
    name = table.string(key, right="name a correctness benchmark of this manifest")
    if name is not None and correctness:
        raise table.error(
            key,
            "does not apply to correctness benchmarks (they are checked against their own "
            "reference)",
            name,
            "remove the key",
        )
    return name


def _check_requires(path: Path, specs: list[BenchmarkSpec]) -> None:
    """requires_correctness and output_reference name correctness benchmarks of this same
    manifest (a correctness benchmark is the one kind that has an artifact_path and a
    frozen reference to compare with)."""
    by_name = {spec.name: spec for spec in specs}
    correctness = [spec.name for spec in specs if spec.tier == "correctness"]
    for spec in specs:
        table = _Table(path, f"benchmark {spec.name!r}: ", {})
        named = [("requires_correctness", name) for name in spec.requires_correctness]
        if spec.output_reference is not None:
            named.append(("output_reference", spec.output_reference))
        for key, name in named:
            target = by_name.get(name)
            if target is None:
                right = _did_you_mean(name, correctness) or (
                    f"the correctness benchmarks here are {_choices(correctness)}"
                    if correctness
                    else "this manifest declares no correctness benchmark"
                )
                raise table.error(key, "names no benchmark of this manifest", name, right)
            if target.tier != "correctness":
                raise table.error(
                    key,
                    f"names a {target.tier} benchmark, not a correctness one",
                    name,
                    "name a correctness benchmark (it has an artifact_path and a reference)",
                )


def _gate_rules(table: _Table, spec: BenchmarkSpec) -> list[str]:
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

"""`bench init`: a manifest and a runner that work the moment they are committed.

The scaffold is a starting point a user edits, so it must already be right: the manifest
loads without warnings, every tier is represented, and register -> baseline -> run ->
evaluate -> freeze-reference works in a fresh git repository. Nothing is ever overwritten:
if any target exists, nothing is written at all.
"""

from __future__ import annotations

import json
import os
import re
import shlex
from pathlib import Path

from benchstone.api._errors import ApiError
from benchstone.api._scaffold_templates import (
    BENCHMARK_NAMES,
    MANIFEST,
    PYTHON_INVOCATION_COMMENT,
    PYTHON_RUNNER,
    SHELL_INVOCATION_COMMENT,
    SHELL_RUNNER,
)
from benchstone.api._types import ScaffoldReport
from benchstone.store import validate_name

RUNNER_KINDS = ("python", "shell")
#: Found on PATH when a repetition runs: the Python of the virtualenv `bench` runs in.
PYTHON_COMMAND = "python3"
MANIFEST_RELPATH = "bench/manifest.toml"
_PROTOCOL_ARGS = "--entry={entry_point} --config={config_path} --output={output_path}"
_INVALID_NAME_CHARS = re.compile(r"[^A-Za-z0-9_.-]+")


def init_project(
    path: str | Path = ".",
    *,
    runner: str = "python",
    name: str | None = None,
) -> ScaffoldReport:
    """Write ``bench/manifest.toml`` and ``bench/runner.py`` (or ``runner.sh``) under ``path``.

    ``name`` defaults to the directory's name, made valid for the store. ``path`` is created
    when it does not exist yet.
    """
    if runner not in RUNNER_KINDS:
        raise ApiError(f"runner {runner!r} is unknown; use one of {', '.join(RUNNER_KINDS)}")
    root = Path(path).expanduser().absolute()
    if root.exists() and not root.is_dir():
        raise ApiError(f"{root}: exists and is not a directory; pass the project's root folder")
    project = name if name is not None else _default_name(root)
    validate_name("project", project)
    runner_relpath = "bench/runner.py" if runner == "python" else "bench/runner.sh"
    targets = (MANIFEST_RELPATH, runner_relpath)
    existing = [rel for rel in targets if os.path.lexists(root / rel)]
    if existing:
        raise ApiError(
            f"{root / existing[0]} already exists; bench init never overwrites files "
            "(move it away, or edit it by hand)"
        )
    files = {
        MANIFEST_RELPATH: _manifest_text(project, runner, runner_relpath),
        runner_relpath: PYTHON_RUNNER if runner == "python" else SHELL_RUNNER,
    }
    try:
        (root / "bench").mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ApiError(
            f"{root / 'bench'}: cannot create the folder: {exc.strerror or exc}; "
            "pass a project root where bench/ can be a directory"
        ) from None
    written: list[Path] = []
    try:
        for rel, text in files.items():
            _write_new(root / rel, text, executable=rel.endswith(".sh"))
            written.append(root / rel)
    except ApiError:
        for done in written:  # all or nothing: never leave half a scaffold behind
            done.unlink()
        raise
    return ScaffoldReport(
        project=project,
        root=str(root),
        runner=runner,
        files=targets,
        benchmarks=BENCHMARK_NAMES,
        next_steps=_next_steps(root, project),
    )


def _default_name(root: Path) -> str:
    cleaned = _INVALID_NAME_CHARS.sub("_", root.name).lstrip(".")
    return cleaned or "project"


def _toml_string(text: str) -> str:
    """A TOML basic string: JSON's escapes are TOML's when non-ASCII is left as is."""
    return json.dumps(text, ensure_ascii=False)


def _manifest_text(project: str, runner: str, runner_relpath: str) -> str:
    if runner == "python":
        # No absolute interpreter path: the manifest is committed and read on other machines.
        # `-m bench.runner` from the project root (the harness's cwd) puts the root first on
        # sys.path, so the runner imports the project's own modules without editing it.
        # PYTHONDONTWRITEBYTECODE: imported modules would otherwise leave __pycache__
        # folders in the tree, and the next `bench run` would refuse a dirty tree.
        invocation = (
            f"PYTHONDONTWRITEBYTECODE=1 {PYTHON_COMMAND} -m {_module_name(runner_relpath)} "
            f"{_PROTOCOL_ARGS}"
        )
        comment, language = PYTHON_INVOCATION_COMMENT, "python"
    else:
        invocation = f"sh {runner_relpath} {_PROTOCOL_ARGS}"
        comment, language = SHELL_INVOCATION_COMMENT, "shell"
    return MANIFEST.substitute(
        name=_toml_string(project),
        language=_toml_string(language),
        invocation=_toml_string(invocation),
        invocation_comment=comment,
    )


def _module_name(relpath: str) -> str:
    """bench/runner.py -> bench.runner (a PEP 420 package: bench/ needs no __init__.py)."""
    return relpath.removesuffix(".py").replace("/", ".")


def _write_new(path: Path, text: str, *, executable: bool) -> None:
    """Create ``path`` exclusively, so a file that appeared meanwhile is not clobbered."""
    mode = 0o755 if executable else 0o644
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        raise ApiError(f"{path} already exists; bench init never overwrites files") from None
    except OSError as exc:
        raise ApiError(f"{path}: cannot create: {exc.strerror or exc}") from None
    with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)


def _in_git_repository(root: Path) -> bool:
    return any((folder / ".git").exists() for folder in (root, *root.parents))


def _next_steps(root: Path, project: str) -> tuple[str, ...]:
    here = shlex.quote(str(root))
    init = "" if _in_git_repository(root) else "git init && "
    return (
        f"cd {here} && {init}git add bench && git commit -m 'Add benchstone benchmarks'",
        f"bench register {here}",
        f"bench run {project} output && bench freeze-reference {project} output",
        f"bench baseline establish {project} speed",
        f"bench baseline establish {project} accuracy",
        "# change the code and commit, then:",
        f"bench run {project} output && bench run {project} speed && "
        f"bench evaluate {project} speed",
    )

"""CPU pinning of a repetition's tree, observed from inside the command at every level."""

from __future__ import annotations

import os
import shlex
import shutil
import sys
import textwrap
from pathlib import Path

import pytest

from benchstone.runner import RunnerError, Sandbox, child_environment, execute
from benchstone.runner._affinity import format_cpus, manifest_affinity
from benchstone.runner._landlock import abi_version
from benchstone.runner._manifest import load_manifest

LEVELS = [
    "none",
    pytest.param(
        "bwrap", marks=pytest.mark.skipif(shutil.which("bwrap") is None, reason="no bwrap")
    ),
    pytest.param("landlock", marks=pytest.mark.skipif(abi_version() == 0, reason="no Landlock")),
]
# The shell starts a grandchild; both write the CPUs they may use.
TREE = textwrap.dedent(
    """\
    import os, subprocess, sys
    out = sys.argv[1]
    open(out + ".child", "w").write(repr(sorted(os.sched_getaffinity(0))))
    code = "import os, sys; open(sys.argv[1], 'w').write(repr(sorted(os.sched_getaffinity(0))))"
    subprocess.run([sys.executable, "-c", code, out + ".grandchild"], check=True)
    """
)


@pytest.mark.parametrize("level", LEVELS)
def test_the_whole_tree_runs_pinned(tmp_path: Path, level: str) -> None:
    script = tmp_path / "tree.py"
    script.write_text(TREE)
    out = tmp_path / "cpus"
    before = os.sched_getaffinity(0)
    execution = execute(
        f"{shlex.quote(sys.executable)} {shlex.quote(str(script))} {shlex.quote(str(out))}",
        cwd=tmp_path,
        env=child_environment(),
        timeout=60.0,
        stdout_log=tmp_path / "out.log",
        stderr_log=tmp_path / "err.log",
        sandbox=Sandbox(level=level, hidden=(tmp_path / "store",), writable=(tmp_path,)),
        cpu_affinity=frozenset({0}),
    )
    assert execution.failure is None, (tmp_path / "err.log").read_text()
    assert (tmp_path / "cpus.child").read_text() == "[0]"
    assert (tmp_path / "cpus.grandchild").read_text() == "[0]"
    assert os.sched_getaffinity(0) == before  # the harness itself stays unpinned


def _manifest(root: Path, project: str = "", bench: str = "") -> None:
    (root / "bench").mkdir(parents=True, exist_ok=True)
    (root / "bench" / "manifest.toml").write_text(
        "[project]\n"
        'name = "p"\n'
        'invocation = "run {config_path} {output_path}"\n'
        f"{project}\n"
        "[[benchmarks]]\n"
        'name = "speed"\n'
        'tier = "performance"\n'
        'metric_direction = "minimize"\n'
        f"{bench}\n"
    )


def test_manifest_affinity_prefers_the_benchmark(tmp_path: Path) -> None:
    _manifest(tmp_path, project="cpu_affinity = [0]")
    manifest = load_manifest(tmp_path)
    assert manifest_affinity(manifest, manifest.benchmark("speed")) == {0}
    _manifest(tmp_path)
    manifest = load_manifest(tmp_path)
    assert manifest_affinity(manifest, manifest.benchmark("speed")) is None
    cpus = sorted(os.sched_getaffinity(0))
    _manifest(tmp_path, project="cpu_affinity = [0]", bench=f"cpu_affinity = {cpus}")
    manifest = load_manifest(tmp_path)
    assert manifest_affinity(manifest, manifest.benchmark("speed")) == set(cpus)


@pytest.mark.parametrize(
    ("project", "bench", "where"),
    [
        ("cpu_affinity = [{cpu}]", "", "[project] key 'cpu_affinity'"),
        ("", "cpu_affinity = [0, {cpu}]", "benchmark 'speed': key 'cpu_affinity'"),
    ],
)
def test_a_cpu_the_host_lacks_is_an_error_naming_the_key(
    tmp_path: Path, project: str, bench: str, where: str
) -> None:
    cpu = max(os.sched_getaffinity(0)) + 1
    _manifest(tmp_path, project.format(cpu=cpu), bench.format(cpu=cpu))
    manifest = load_manifest(tmp_path)  # the shape is fine on any host
    with pytest.raises(RunnerError) as caught:
        manifest_affinity(manifest, manifest.benchmark("speed"))
    message = str(caught.value)
    assert message.startswith(f"{manifest.path}: {where} = [")
    assert f"CPU {cpu} is not available on this host" in message
    assert f"allowed CPUs: {format_cpus(os.sched_getaffinity(0))}" in message

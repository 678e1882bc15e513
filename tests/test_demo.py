"""`bench demo` runs the whole loop with no setup and leaves nothing behind."""

from __future__ import annotations

import os
import subprocess

from _support import bench_command


def test_demo_shows_promote_then_reject_and_cleans_up(tmp_path):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BENCHSTONE_")}
    env["TMPDIR"] = str(scratch)
    env["HOME"] = str(tmp_path / "user-home")  # the demo must not touch the real store
    proc = subprocess.run(
        [*bench_command(), "demo"], capture_output=True, text=True, env=env, timeout=120
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "$ bench register" in out
    assert "baseline set: demo_project/sort_runtime -> " in out
    assert "verdict: PROMOTE  sigma z=" in out
    assert "baseline promoted: demo_project/sort_runtime -> " in out
    assert "verdict: REJECT  sigma z=" in out
    assert out.index("verdict: PROMOTE") < out.index("verdict: REJECT")
    # Only the harness's private parent of run directories may remain, and empty.
    left = list(scratch.iterdir())
    assert [p.name for p in left] in ([], [f"benchstone-runs-{os.getuid()}"])
    assert all(list(p.iterdir()) == [] for p in left)
    assert not (tmp_path / "user-home").exists()

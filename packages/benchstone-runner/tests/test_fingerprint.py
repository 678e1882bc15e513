"""Host fingerprint and CPU pinning, read from this real host and a real child process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchstone.runner import RunnerError
from benchstone.runner._affinity import available_cpus, format_cpus, pin_to, validate_affinity
from benchstone.runner._fingerprint import (
    Fingerprint,
    host_fingerprint,
    identity_difference,
    read_text,
)


def test_identity_names_what_makes_timings_incomparable() -> None:
    fp = host_fingerprint()
    assert set(fp.identity) == {"cpu_model", "cpu_count", "machine", "kernel", "python", "hostname"}
    assert fp.identity["cpu_count"] == str(os.cpu_count())
    assert fp.identity["kernel"] == os.uname().release
    assert fp.identity["python"].endswith(".".join(map(str, sys.version_info[:3])))
    assert set(fp.conditions) == {"governor", "turbo", "load_average", "aslr"}
    assert len(fp.conditions["load_average"].split()) == 3


def test_digest_is_stable_and_follows_the_identity_only() -> None:
    a, b = host_fingerprint(), host_fingerprint()
    assert a.identity_digest == b.identity_digest
    assert len(a.identity_digest) == 16
    busier = Fingerprint(identity=a.identity, conditions={**a.conditions, "load_average": "9"})
    assert busier.identity_digest == a.identity_digest
    other = Fingerprint(identity={**a.identity, "kernel": "0.0.1"}, conditions=a.conditions)
    assert other.identity_digest != a.identity_digest
    assert a.to_dict()["identity_digest"] == a.identity_digest


def test_difference_names_the_keys_and_both_values() -> None:
    here = host_fingerprint()
    there = Fingerprint(
        identity={**here.identity, "cpu_model": "Other CPU"}, conditions={"load_average": "7"}
    )
    message = identity_difference(here.to_dict(), there.to_dict())
    assert message == f"cpu_model: {here.identity['cpu_model']} vs Other CPU"
    assert identity_difference(here.to_dict(), host_fingerprint().to_dict()) is None
    bare = {k: v for k, v in here.identity.items() if k != "hostname"}
    assert identity_difference(bare, here.identity) == (
        f"hostname: (absent) vs {here.identity['hostname']}"
    )


def test_unreadable_files_are_unknown_not_errors(tmp_path: Path) -> None:
    assert read_text(tmp_path / "no-such-file") == "unknown"
    assert read_text(tmp_path) == "unknown"  # a directory
    (tmp_path / "empty").write_text("")
    assert read_text(tmp_path / "empty") == "unknown"
    (tmp_path / "gov").write_text("performance\n")
    assert read_text(tmp_path / "gov") == "performance"


def test_a_child_runs_pinned_to_the_chosen_cpu() -> None:
    cpu = max(available_cpus())
    chosen = validate_affinity([cpu])
    status = subprocess.run(
        ["/bin/sh", "-c", "grep Cpus_allowed_list /proc/self/status"],
        preexec_fn=pin_to(chosen),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert status.split(":")[1].strip() == str(cpu)
    # The harness itself stays unpinned.
    assert available_cpus() == frozenset(os.sched_getaffinity(0))
    assert len(os.sched_getaffinity(0)) >= 1


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ([], r"cpu_affinity = \[\]: give at least one CPU"),
        (["0"], r"cpu_affinity: '0' is not a CPU number"),
        ([True], r"cpu_affinity: True is not a CPU number"),
        ([-1], r"cpu_affinity: -1 is not a CPU number"),
        ([4096], r"cpu_affinity: CPU 4096 is not available on this host; allowed CPUs: "),
    ],
)
def test_invalid_affinity_is_a_one_line_error(value: list[object], message: str) -> None:
    with pytest.raises(RunnerError, match=message):
        validate_affinity(value)


def test_cpu_lists_use_the_kernel_format() -> None:
    assert format_cpus([0, 1, 2, 3, 6]) == "0-3,6"
    assert format_cpus([5]) == "5"
    assert format_cpus([1, 3, 4]) == "1,3-4"
    assert format_cpus([]) == ""

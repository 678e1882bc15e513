"""bench doctor on this real host, and on fake /sys and /proc trees written to tmp dirs."""

from __future__ import annotations

from pathlib import Path

import pytest
from _support import write_tree

from benchstone.runner._doctor import (
    aslr_check,
    cpu_count_check,
    doctor,
    governor_check,
    isolated_check,
    load_check,
    spread_check,
    tool_check,
    turbo_check,
)


def test_this_host_gets_every_check_and_never_raises() -> None:
    report = doctor()
    names = [c.name for c in report.checks]
    assert names == [
        "cpu count",
        "cpu governor",
        "turbo boost",
        "aslr",
        "load average",
        "isolated cpus",
        "bwrap",
        "valgrind",
        "calibration wall spread",
        "calibration cpu spread",
    ]
    assert all(c.verdict in ("ok", "warn") for c in report.checks)
    assert all(c.advice for c in report.warnings)
    text = report.render()
    assert text.splitlines()[0].split()[:3] in (["ok", "cpu", "count"], ["warn", "cpu", "count"])
    assert report.to_dict()["warnings"] == len(report.warnings)
    assert "20 rounds" in next(c.value for c in report.checks if c.name.startswith("calib"))


def test_an_empty_tree_is_unknown_everywhere_not_an_error(tmp_path: Path) -> None:
    report = doctor(root=tmp_path, calibrate=False)
    by_name = {c.name: c for c in report.checks}
    for name in ("cpu governor", "turbo boost", "aslr"):
        assert by_name[name].value == "unknown"
        assert by_name[name].verdict == "warn"
    assert by_name["isolated cpus"].value == "isolated: unknown; nohz_full: unknown"


def test_a_tuned_host_is_ok(tmp_path: Path) -> None:
    for cpu in (0, 1):
        write_tree(
            tmp_path, {f"sys/devices/system/cpu/cpu{cpu}/cpufreq/scaling_governor": "performance\n"}
        )
    write_tree(tmp_path, {"sys/devices/system/cpu/intel_pstate/no_turbo": "1\n"})
    write_tree(tmp_path, {"proc/sys/kernel/randomize_va_space": "2\n"})
    write_tree(tmp_path, {"sys/devices/system/cpu/isolated": "1\n"})
    write_tree(tmp_path, {"sys/devices/system/cpu/nohz_full": "1\n"})
    assert governor_check(tmp_path).verdict == "ok"
    assert turbo_check(tmp_path).value == "off (intel_pstate/no_turbo)"
    assert aslr_check(tmp_path).verdict == "ok"
    isolated = isolated_check(tmp_path)
    assert (isolated.verdict, isolated.value) == ("ok", "isolated: 1; nohz_full: 1")
    assert "cpu_affinity = [N]" in isolated.advice and "taskset" not in isolated.advice


def test_an_untuned_host_warns_with_the_fix(tmp_path: Path) -> None:
    write_tree(tmp_path, {"sys/devices/system/cpu/cpu0/cpufreq/scaling_governor": "performance\n"})
    write_tree(tmp_path, {"sys/devices/system/cpu/cpu1/cpufreq/scaling_governor": "powersave\n"})
    write_tree(tmp_path, {"sys/devices/system/cpu/cpufreq/boost": "1\n"})
    write_tree(tmp_path, {"proc/sys/kernel/randomize_va_space": "0\n"})
    write_tree(tmp_path, {"sys/devices/system/cpu/isolated": "\n"})
    governor = governor_check(tmp_path)
    assert (governor.verdict, governor.value) == ("warn", "performance, powersave")
    assert "cpupower frequency-set -g performance" in governor.advice
    turbo = turbo_check(tmp_path)
    assert (turbo.verdict, turbo.value) == ("warn", "on (cpufreq/boost)")
    assert "echo 0 > /sys/devices/system/cpu/cpufreq/boost" in turbo.advice
    assert aslr_check(tmp_path).value == "disabled (0)"
    assert isolated_check(tmp_path).value == "isolated: none; nohz_full: unknown"
    assert isolated_check(tmp_path).verdict == "warn"
    assert "isolcpus=N" in isolated_check(tmp_path).advice
    assert "cpu_affinity = [N]" in isolated_check(tmp_path).advice


def test_load_is_judged_per_usable_cpu() -> None:
    assert load_check(0.9, 2).verdict == "ok"
    busy = load_check(1.5, 2)
    assert busy.verdict == "warn"
    for remedy in (
        'measurement = "side_by_side"',
        "cpu_affinity",
        'metric_source = "instructions"',
    ):
        assert remedy in busy.advice, busy.advice
    assert "taskset" not in busy.advice
    assert load_check(None, 2).value == "unknown"


def test_spread_check_warns_above_three_percent() -> None:
    steady = spread_check("wall", [0.005, 0.00501, 0.00499, 0.005])
    assert steady.verdict == "ok" and steady.value.startswith("0.2% stdev/mean")
    noisy = spread_check("wall", [0.005, 0.006, 0.004, 0.0055])
    assert noisy.verdict == "warn"
    for remedy in (
        'measurement = "side_by_side"',
        "cpu_affinity",
        'metric_source = "instructions"',
    ):
        assert remedy in noisy.advice, noisy.advice
    assert spread_check("wall", [0.0, 0.0]).value == "unknown"


def test_missing_tools_name_the_package(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    check = tool_check("valgrind", "valgrind", 'metric_source = "instructions"')
    assert (check.verdict, check.value) == ("warn", "not installed")
    assert "apt-get install valgrind" in check.advice
    assert "apt-get install bubblewrap" in tool_check("bwrap", "bubblewrap", "x").advice


def test_the_advice_names_real_manifest_keys(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Side by side where the host cannot be tuned, cpu_affinity to pin, and `sandbox`
    (docs/manifest.md) for bubblewrap: no taskset, no made-up `isolation` key."""
    monkeypatch.setenv("PATH", str(tmp_path))  # no bwrap, no valgrind
    checks = {c.name: c for c in doctor(root=tmp_path, calibrate=False).checks}
    assert 'sandbox = "bwrap"' in checks["bwrap"].advice
    assert 'measurement = "side_by_side"' in checks["cpu governor"].advice  # unreadable
    assert 'measurement = "side_by_side"' in cpu_count_check(1).advice
    for check in checks.values():
        assert "isolation =" not in check.advice and "taskset" not in check.advice, check

"""The files `bench init` writes: a manifest with one benchmark per tier, and two runners.

Kept apart from the logic in ``_scaffold`` so the text a user will read and edit can be
reviewed as text. Both runners implement the same three entry points over the same toy
workload (a Monte Carlo estimate of pi), so the manifest is identical but for the
invocation line.
"""

from __future__ import annotations

from string import Template

BENCHMARK_NAMES = ("speed", "accuracy", "output")

MANIFEST = Template(
    """\
# benchstone manifest: how the harness runs this project's benchmarks.
# Every key is described in docs/manifest.md of benchstone. A manifest is trusted code:
# the invocation below runs through /bin/sh on every `bench run`.

[project]
name = $name
language = $language
# The harness fills in {entry_point}, {config_path} and {output_path} for each repetition.
$invocation_comment
invocation = $invocation
# Files whose changes make earlier candidate runs stale (default: the bench/ folder).
# tracked_paths = ["bench/", "src/"]

# Performance: how long the work takes. The gate reads the wall clock the harness measured
# around the runner process (metric_source = "wall_clock"), a number the project cannot
# forge. Remove metric_source to gate on the metric the runner reports instead.
[[benchmarks]]
name = "speed"
tier = "performance"
metric_direction = "minimize"
metric_source = "wall_clock"
repetitions = 5
baseline_seeds = [1, 2, 3, 4, 5]
gate_policy = "sigma"        # Welch's t, calibrated at every sample size
promotion_sigma = 2.0
min_effect = 0.0             # e.g. 0.02: also require an improvement of at least 2%
# A faster program that produces wrong output is never promoted: PROMOTE also needs a
# PASS of the "output" benchmark at the same commit, and every timed repetition writes
# its output too, which must match the reference of "output" (else it is an error row,
# never gated): the run that is timed is the run that is checked.
requires_correctness = ["output"]
output_reference = "output"

# Quality: how good the answer is, as reported by the runner (here: the absolute error of
# the estimate, so lower is better).
[[benchmarks]]
name = "accuracy"
tier = "quality"
metric_direction = "minimize"
repetitions = 5
baseline_seeds = [1, 2, 3, 4, 5]
gate_policy = "mann_whitney" # rank-based: robust to heavy-tailed metrics
promotion_z = 2.0
requires_correctness = ["output"]

# Correctness: the runner writes its output bytes to the artifact_path the harness gives
# it; the gate compares their digest with the reference frozen by
# `bench freeze-reference`. The output must be byte-deterministic.
[[benchmarks]]
name = "output"
tier = "correctness"
"""
)

PYTHON_INVOCATION_COMMENT = (
    "# `python3` is looked up on PATH when a repetition runs: run `bench` with the\n"
    "# virtualenv that has benchstone-protocol (and your project's dependencies) activated.\n"
    "# `-m bench.runner` runs from the project root, so the runner imports your own modules\n"
    "# (a src/ layout: `pip install -e .` into that virtualenv). PYTHONDONTWRITEBYTECODE\n"
    "# keeps __pycache__ folders out of the tree, which must stay clean for `bench run`."
)
SHELL_INVOCATION_COMMENT = "# The runner is plain POSIX sh and awk: no Python needed."

PYTHON_RUNNER = '''\
"""This project's benchmarks, run by benchstone: one process per repetition.

`bench` runs this file as bench/manifest.toml's invocation says, with --entry, --config
and --output. benchstone.protocol.Runner parses them, calls the entry point named by
--entry with the InvocationConfig (seed, corpus_path, artifact_path, ...) and writes the
result file; an exception becomes an error result. An entry point returns the metric, or a
dict with "metric" and optional "metric_components" and "metadata".

`bench` runs it as `python3 -m bench.runner` from the project root, which Python puts
first on sys.path: import your own code as usual (`from mypackage import solve`), no
sys.path edit needed. Replace estimate_pi with calls into your own code.
"""

from __future__ import annotations

import math
import random
from pathlib import Path

from benchstone.protocol import InvocationConfig, Runner

runner = Runner()


def estimate_pi(samples: int, rng: random.Random) -> float:
    """The code under test: a Monte Carlo estimate of pi."""
    inside = 0
    for _ in range(samples):
        x, y = rng.random(), rng.random()
        if x * x + y * y <= 1.0:
            inside += 1
    return 4.0 * inside / samples


def write_output(config: InvocationConfig) -> int:
    """Fixed inputs, byte-deterministic text written to artifact_path; the line count."""
    if config.artifact_path is None:
        raise RuntimeError("no artifact_path in the config: is the benchmark's tier correctness?")
    lines = [f"{seed} {estimate_pi(20_000, random.Random(seed)):.12f}\\n" for seed in range(5)]
    Path(config.artifact_path).write_text("".join(lines), encoding="utf-8")
    return len(lines)


@runner.entry_point
def speed(config: InvocationConfig) -> float:
    """Performance: the harness times this process. It does the very work "output" checks
    (output_reference = "output"), so a speed-up that breaks the output is an error."""
    return float(write_output(config))


@runner.entry_point
def accuracy(config: InvocationConfig) -> float:
    """Quality: the absolute error of one estimate (lower is better)."""
    return abs(estimate_pi(20_000, random.Random(config.seed)) - math.pi)


@runner.entry_point
def output(config: InvocationConfig) -> float:
    """Correctness: the output whose reference `bench freeze-reference` freezes."""
    return float(write_output(config))


if __name__ == "__main__":
    runner.main()
'''

SHELL_RUNNER = r"""#!/bin/sh
# This project's benchmarks, run by benchstone: one process per repetition.
#
# `bench` runs this file as bench/manifest.toml's invocation says:
#   sh bench/runner.sh --entry=NAME --config=CONFIG.json --output=RESULT.json
# It reads the seed (and, for the correctness benchmark, artifact_path) from the config
# JSON and writes a result JSON: {"status": "ok", "metric": N} or
# {"status": "error", "message": "..."}. Plain POSIX sh and awk: no Python needed.
#
# Replace estimate_pi with calls into your own code.
set -eu

entry="" config="" output=""
for arg in "$@"; do
  case $arg in
    --entry=*) entry=${arg#--entry=} ;;
    --config=*) config=${arg#--config=} ;;
    --output=*) output=${arg#--output=} ;;
    *) echo "runner.sh: unknown argument: $arg" >&2; exit 2 ;;
  esac
done
if [ -z "$config" ] || [ -z "$output" ]; then
  echo "usage: runner.sh --entry=NAME --config=PATH --output=PATH" >&2
  exit 2
fi

# config_value KEY: the JSON value of KEY in the config, decoded if it is a string.
# The harness writes one key per line; a string containing \u escapes is refused.
config_value() {
  awk -v key="\"$1\":" '
    function decode(s,    out, i, c) {
      out = ""
      for (i = 1; i <= length(s); i++) {
        c = substr(s, i, 1)
        if (c == "\\") {
          i++
          c = substr(s, i, 1)
          if (c == "n") c = "\n"
          else if (c == "t") c = "\t"
          else if (c == "r") c = "\r"
          else if (c == "b") c = "\b"
          else if (c == "f") c = "\f"
          else if (c == "u") {
            print "runner.sh: cannot decode \\u escapes" > "/dev/stderr"
            exit 3
          }
        }
        out = out c
      }
      return out
    }
    index($0, key) {
      value = substr($0, index($0, key) + length(key))
      sub(/^[ \t]+/, "", value)
      sub(/[ \t\r]*,?[ \t\r]*$/, "", value)
      if (value ~ /^".*"$/) value = decode(substr(value, 2, length(value) - 2))
      print value
      found = 1
      exit
    }
    END { if (!found) exit 1 }
  ' "$config"
}

# estimate_pi SAMPLES SEED: the code under test, a Monte Carlo estimate of pi.
estimate_pi() {
  awk -v n="$1" -v seed="$2" 'BEGIN {
    srand(seed)
    inside = 0
    for (i = 0; i < n; i++) {
      x = rand(); y = rand()
      if (x * x + y * y <= 1) inside++
    }
    printf "%.12f\n", 4 * inside / n
  }'
}

ok() { printf '{"status": "ok", "metric": %s}\n' "$1" > "$output"; }
fail() { printf '{"status": "error", "message": "%s"}\n' "$1" > "$output"; }

[ -n "$entry" ] || entry=$(config_value benchmark)
seed=$(config_value seed)
seed=$((seed % 2147483647))  # awk's srand wants a small integer; seeds go up to 2**63 - 1

case $entry in
  speed | output)
    # speed (performance) is timed by the harness and writes the very output that output
    # (correctness) checks: output_reference = "output" makes a timed repetition whose
    # output differs from the frozen reference an error. Fixed inputs, byte-deterministic.
    artifact=$(config_value artifact_path)
    if [ -z "$artifact" ] || [ "$artifact" = null ]; then
      fail "no artifact_path in the config: is the benchmark's tier correctness?"
      exit 0
    fi
    for s in 0 1 2 3 4; do
      printf '%s %s\n' "$s" "$(estimate_pi 20000 "$s")"
    done > "$artifact"
    ok 5
    ;;
  accuracy)
    # Quality: the absolute error of one estimate (lower is better).
    estimate=$(estimate_pi 20000 "$seed")
    ok "$(awk -v e="$estimate" 'BEGIN { d = e - atan2(0, -1); printf "%.12f", d < 0 ? -d : d }')"
    ;;
  *)
    fail "unknown entry point: $entry (this runner knows speed, accuracy, output)"
    ;;
esac
"""

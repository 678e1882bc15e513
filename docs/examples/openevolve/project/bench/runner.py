"""Runner of the sorting project: one repetition of `correct` or `speed` per call.

`correct` writes the sorted output of fixed cases as the artifact (the same bytes for
every seed, so one frozen reference judges them all); `speed` sorts a seeded random list
once, and the harness measures the CPU time of the whole process.
"""

import argparse
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from solution import sort_numbers  # the program OpenEvolve evolves

parser = argparse.ArgumentParser()
parser.add_argument("--entry")
parser.add_argument("--config")
parser.add_argument("--output")
args = parser.parse_args()
config = json.loads(Path(args.config).read_text())

if args.entry == "correct":
    cases = random.Random(0)
    inputs = [[cases.randint(-1000, 1000) for _ in range(n)] for n in (0, 1, 2, 7, 100, 1000)]
    inputs.append([3, 3, 1, 1, 2, 2])
    outputs = [sort_numbers(list(case)) for case in inputs]
    Path(config["artifact_path"]).write_text(json.dumps(outputs) + "\n")
    metric = float(len(outputs))
else:
    rng = random.Random(config["seed"])
    data = [rng.random() for _ in range(4000)]
    metric = float(len(sort_numbers(data)))

Path(args.output).write_text(json.dumps({"status": "ok", "metric": metric}))

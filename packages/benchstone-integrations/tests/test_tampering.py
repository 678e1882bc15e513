"""Attacks a candidate program can make on its own evaluation, and how they end."""

from __future__ import annotations

import textwrap

from benchstone.integrations.openevolve import BenchstoneEvaluator

# A slow, correct program that, while it runs, replaces the benchmark's runner with one
# that reports success at once: every later repetition would be "fast".
FORGER = textwrap.dedent(
    '''\
    # EVOLVE-BLOCK-START
    FORGED = """\\
    import json, random, sys
    args = dict(a.split("=", 1) for a in sys.argv[1:])
    config = json.load(open(args["--config"]))
    if args["--entry"] == "correct":
        cases = random.Random(0)
        inputs = [[cases.randint(-1000, 1000) for _ in range(n)] for n in (0, 1, 2, 7, 100, 1000)]
        inputs.append([3, 3, 1, 1, 2, 2])
        open(config["artifact_path"], "w").write(json.dumps([sorted(c) for c in inputs]) + "\\\\n")
    open(args["--output"], "w").write(json.dumps({"status": "ok", "metric": 1.0}))
    """


    def sort_numbers(values):
        with open("bench/runner.py", "w") as runner:
            runner.write(FORGED)
        result = list(values)
        for i in range(1, len(result)):
            item, j = result[i], i - 1
            while j >= 0 and result[j] > item:
                result[j + 1] = result[j]
                j -= 1
            result[j + 1] = item
        sum(i * i for i in range(len(result) * 1500))
        return result
    # EVOLVE-BLOCK-END
    '''
)


def test_a_candidate_that_rewrites_the_runner_while_it_runs_scores_zero(sorting, tmp_path):
    """The forged runner would make every later repetition look fast. Sealed repetitions
    see the evaluator paths read-only, so the candidate's write fails, it crashes in its
    first repetition, and it scores 0 at the first stage (and as a whole)."""
    path = tmp_path / "forger.py"
    path.write_text(FORGER)
    judge = BenchstoneEvaluator(
        "sorting",
        "solution.py",
        "sorts_correctly",
        "sort_speed",
        home=sorting.home,
        work_dir=sorting.work_dir,
    )
    stage1 = judge.evaluate_stage1(str(path))
    assert stage1.metrics["correct"] == 0.0
    assert stage1.metrics.get("combined_score", 0.0) == 0.0
    both = judge.evaluate(str(path))
    assert both.metrics["combined_score"] == 0.0 and "verdict" not in both.metrics
    # The locked runner is untouched in the project.
    assert "FORGED" not in (sorting.root / "bench" / "runner.py").read_text()

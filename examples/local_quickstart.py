"""Fine-tune a model on this machine and watch it learn a reply format (CPU, a minute or so).

    python examples/local_quickstart.py [--model DIR]

1. builds a tiny chat model offline if none is given (nothing is downloaded);
2. validates ``examples/data/format_train.jsonl`` and ``format_valid.jsonl``: every reply there
   is shaped ``ANSWER: <word> | CONFIDENCE: high`` (some first replies carry ``weight: 0`` and
   are left out of the loss);
3. submits a 4-bit QLoRA job with ``provider="local"`` and follows it to the end;
4. asks questions it never saw, before and after training;
5. evaluates the tuned model against its base on the held-out ``format_test.jsonl`` with
   ``ftbridge.evaluate``: the table (means, 95% intervals, the paired difference and its
   p-value) and where the HTML report was written.

It exits 1 if the trained model does not reply in the format, or does not beat its base
significantly, so it doubles as a smoke test.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

import ftbridge
from ftbridge._paths import subdir

DATA = Path(__file__).parent / "data"
FORMAT = re.compile(r"ANSWER:.{0,24} \| CONFIDENCE: high")
QUESTIONS = [
    "What color is a pear?",
    "What is the capital of Chile?",
    "Which animal says meow?",
    "Is the sun hot or cold?",
]


def replies(model_path: str | Path) -> list[str]:
    from ftbridge_local import load_model

    with load_model(model_path) as model:
        convs = [[{"role": "user", "content": q}] for q in QUESTIONS]
        return [r.text for r in model.chat_batch(convs, max_tokens=24, temperature=0)]


def follows_format(output: str, reference: str, record: object) -> bool:
    """The evaluation's format check: the reply has the trained shape."""
    return FORMAT.fullmatch(output.strip()) is not None


def evaluate(base: str, job: ftbridge.Job) -> bool:
    """The tuned model against its base on examples neither saw; True when it wins clearly."""
    started = time.monotonic()
    report = ftbridge.evaluate(
        {"base": f"local:{base}", "tuned": job},
        DATA / "format_test.jsonl",
        scorers=[follows_format, "f1"],
        baseline="base",
        generation={"max_tokens": 24},
    )
    print(f"\nevaluated in {time.monotonic() - started:.0f}s:\n{report.table()}")
    out = report.save(subdir("eval") / job.native_id)
    print(f"\nHTML report: {out / 'report.html'} (also report.json and records.jsonl)")
    won = report.compare("tuned", "base", "follows_format")
    return won.delta > 0 and won.p_value < 0.01


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="a local model directory (default: build a tiny one)")
    args = parser.parse_args()

    model = args.model
    if model is None:
        from ftbridge_local.testing import build_tiny_model

        model = str(build_tiny_model(subdir("models") / "tiny"))
        print(f"tiny offline model: {model}")

    train = ftbridge.validate(DATA / "format_train.jsonl", provider="local")
    valid = ftbridge.validate(DATA / "format_valid.jsonl", provider="local")
    print(
        f"validated: {train.example_count} training and {valid.example_count} validation examples"
    )

    before = replies(model)
    started = time.monotonic()
    job = ftbridge.submit(
        train,
        provider="local",
        model=model,
        validation=valid,
        hyperparameters={
            "epochs": 10,
            "batch_size": 8,
            "learning_rate": 5e-3,
            "warmup_ratio": 0,
            "tuning": "qlora",
            "lora_rank": 16,
            "lora_dropout": 0.0,
        },
        options={"max_length": 128},
    )
    print(f"submitted {job.id}; following it (Ctrl-C stops following, not training)")
    job.wait()  # a progress bar on a terminal, quiet when piped
    metrics = job.metrics()
    losses = metrics.series("train_loss")
    print(
        f"done in {time.monotonic() - started:.0f}s: {len(losses)} steps, train loss "
        f"{losses[0][1]:.2f} -> {losses[-1][1]:.2f}, eval loss {metrics.last('eval_loss'):.2f}"
    )

    after = replies(job.snapshot.details["run_dir"])
    for question, old, new in zip(QUESTIONS, before, after, strict=True):
        print(f"\nQ: {question}\n  before: {old[:60]!r}\n  after:  {new!r}")
    learned = sum(bool(FORMAT.fullmatch(text.strip())) for text in after)
    print(f"\n{learned}/{len(QUESTIONS)} replies follow the trained format")
    beats_base = evaluate(model, job)
    return 0 if learned >= len(QUESTIONS) - 1 and beats_base else 1


if __name__ == "__main__":
    sys.exit(main())

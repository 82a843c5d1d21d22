"""Move an OpenAI fine-tune off OpenAI before it shuts down, offline against the emulator.

    python examples/migrate_openai.py

The four steps a user takes with a real key (``ftbridge inventory``, ``record``, ``retrain``,
``eval --parity``), in Python: list what is at risk, record the old model's answers while it
still answers, retrain its data on the local trainer (a tiny model built offline here; a real
one is a model id or directory), and measure whether the new model matches the old one.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from ftbridge_local.testing import build_tiny_model
from ftbridge_openai.emulator import OpenAIEmulator

import ftbridge
import ftbridge.migrate

DATA = Path(__file__).parent / "data"


def main() -> int:
    os.environ.setdefault("FTBRIDGE_HOME", tempfile.mkdtemp(prefix="ftbridge-migrate-demo-"))
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
        os.environ.setdefault(name, "1")
    work = Path(tempfile.mkdtemp(prefix="ftbridge-migrate-"))
    with OpenAIEmulator(pace=0.05) as server:
        os.environ["OPENAI_BASE_URL"] = server.base_url
        os.environ.setdefault("OPENAI_API_KEY", "sk-emulator")

        # The fine-tune to move (made here; in real life it exists already).
        old = ftbridge.submit(
            DATA / "format_train.jsonl",
            provider="openai",
            model="gpt-4o-mini",
            hyperparameters={"epochs": 3, "learning_rate_multiplier": 2.0},
            suffix="support",
        )
        old.wait(timeout=120, progress=False)

        print("1. ftbridge inventory")
        for notice in ftbridge.migrate.closing_notices("openai").values():
            print(f"   openai: no new fine-tuning jobs after {notice.new_jobs_end}")
        for item in ftbridge.inventory():
            print(
                f"   {item.model}: shuts down {item.shutdown_date} ({item.days_left} days), "
                f"training data {item.training_data}"
            )

        print("2. ftbridge record")
        golden = work / "golden.jsonl"
        done = ftbridge.record(old.id, DATA / "format_valid.jsonl", out=golden)
        print(f"   {done.written} answers of {done.model} recorded into {golden}")

        print("3. ftbridge retrain --provider local")
        tiny = build_tiny_model(work / "tiny")
        new = ftbridge.retrain(old.id, provider="local", model=str(tiny))
        new.wait(timeout=600, progress=False)
        print(f"   {new.id} (retrained from {new.retrained_from}): {new.status.value}")

        print("4. ftbridge eval golden.jsonl --baseline old --parity 0.9")
        report = ftbridge.evaluate(
            {"new": new, "old": old}, golden, scorers=["exact", "chrf"], baseline="old"
        )
        print(report.table())
        for result in ftbridge.migrate.parity_all(report, target=0.9):
            print(f"   {result.sentence()}")
        print("   (the tiny demo model is far from gpt-4o-mini: with a real base model, compare")
        print("   the same way before switching traffic, and retrain until parity is met)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

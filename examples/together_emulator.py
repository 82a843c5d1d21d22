"""Fine-tune on Together AI, against a local emulator: validate -> submit -> wait -> chat.

    python examples/together_emulator.py

The emulator speaks Together's API the way the official ``together`` SDK does, so this script is
the real thing with one change: ``TOGETHER_BASE_URL`` points at loopback. Remove the emulator
lines and set ``TOGETHER_API_KEY`` to run it against Together (it costs money there).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from ftbridge_together.emulator import TogetherEmulator

import ftbridge

DATA = Path(__file__).parent / "data"
MODEL = "meta-llama/Meta-Llama-3.1-8B-Instruct-Reference"


def main() -> int:
    # Keep this demo's job store out of ~/.ftbridge unless the caller chose a place.
    os.environ.setdefault("FTBRIDGE_HOME", tempfile.mkdtemp(prefix="ftbridge-together-demo-"))
    with TogetherEmulator(pace=0.05) as server:  # 20x faster than the emulator's default pace
        os.environ["TOGETHER_BASE_URL"] = server.base_url
        os.environ.setdefault("TOGETHER_API_KEY", "emulator-key")

        dataset = ftbridge.validate(DATA / "format_train.jsonl", provider="together")
        print(
            f"{dataset.example_count} examples, valid for together: "
            f"{dataset.verdicts['together'].valid}"
        )

        job = ftbridge.submit(
            dataset,
            provider="together",
            model=MODEL,
            validation=DATA / "format_valid.jsonl",
            hyperparameters={"epochs": 2, "learning_rate": 1e-5, "tuning": "lora", "lora_rank": 16},
            suffix="format-demo",
            options={"n_evals": 2},
        )
        estimates = getattr(job, "preflight", None)
        if estimates is not None:
            print(f"estimated price: ${estimates.estimates.get('price_usd')}")
        print(f"submitted {job.id}")
        job.wait(timeout=120, progress=False)
        print(f"{job.id}: {job.status.value}, model {job.model().name}")

        for event in job.events()[-3:]:
            print(f"  event: {event.message}")
        print(f"  final train loss: {job.metrics().last('train_loss')}")

        with job.model() as model:
            reply = model.chat([{"role": "user", "content": "Is a lemon sweet or sour?"}])
            print(f"reply: {reply.text}")
            print("streamed: " + "".join(model.stream([{"role": "user", "content": "Hi"}])))
    return 0


if __name__ == "__main__":
    sys.exit(main())

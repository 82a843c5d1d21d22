"""Fine-tune on OpenAI, against a local emulator: validate -> submit -> wait -> chat.

    python examples/openai_emulator.py

The emulator speaks OpenAI's fine-tuning API the way the official ``openai`` SDK does, so this
script is the real thing with one change: ``OPENAI_BASE_URL`` points at loopback. Remove the
emulator lines and set ``OPENAI_API_KEY`` to run it against OpenAI (it costs money there).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from ftbridge_openai.emulator import OpenAIEmulator

import ftbridge

DATA = Path(__file__).parent / "data"


def main() -> int:
    # Keep this demo's job store out of ~/.ftbridge unless the caller chose a place.
    os.environ.setdefault("FTBRIDGE_HOME", tempfile.mkdtemp(prefix="ftbridge-openai-demo-"))
    with OpenAIEmulator(pace=0.05) as server:  # 20x faster than the emulator's default pace
        os.environ["OPENAI_BASE_URL"] = server.base_url
        os.environ.setdefault("OPENAI_API_KEY", "sk-emulator")

        dataset = ftbridge.validate(DATA / "format_train.jsonl", provider="openai")
        print(
            f"{dataset.example_count} examples, valid for openai: "
            f"{dataset.verdicts['openai'].valid}"
        )

        job = ftbridge.submit(
            dataset,
            provider="openai",
            model="gpt-4o-mini",
            hyperparameters={"epochs": 2, "learning_rate_multiplier": 1.5},
            suffix="format-demo",
        )
        check = getattr(job, "preflight", None)
        if check is not None:
            print(f"estimates: {check.estimates}")
        print(f"submitted {job.id}")
        job.wait(timeout=120, progress=False)
        print(f"{job.id}: {job.status.value}, model {job.fine_tuned_model}")

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

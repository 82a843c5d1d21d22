"""Fine-tune on Fireworks AI, against a local emulator: validate -> submit -> wait -> chat.

    python examples/fireworks_emulator.py

The emulator speaks Fireworks' API the way the official ``fireworks-ai`` SDK does, so this
script is the real thing with one change: ``FIREWORKS_BASE_URL`` points at loopback. Remove the
emulator lines and set ``FIREWORKS_API_KEY`` and ``FIREWORKS_ACCOUNT_ID`` to run it against
Fireworks (it costs money there).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from ftbridge_fireworks.emulator import FireworksEmulator

import ftbridge

DATA = Path(__file__).parent / "data"
MODEL = "llama-v3p1-8b-instruct"


def main() -> int:
    # Keep this demo's job store out of ~/.ftbridge unless the caller chose a place.
    os.environ.setdefault("FTBRIDGE_HOME", tempfile.mkdtemp(prefix="ftbridge-fireworks-demo-"))
    with FireworksEmulator(pace=0.05) as server:  # 20x faster than the emulator's default pace
        os.environ["FIREWORKS_BASE_URL"] = server.base_url
        os.environ.setdefault("FIREWORKS_API_KEY", "emulator-key")
        os.environ.setdefault("FIREWORKS_ACCOUNT_ID", "demo-account")

        dataset = ftbridge.validate(DATA / "format_train.jsonl", provider="fireworks")
        print(
            f"{dataset.example_count} examples, valid for fireworks: "
            f"{dataset.verdicts['fireworks'].valid}"
        )

        job = ftbridge.submit(
            dataset,
            provider="fireworks",
            model=MODEL,
            validation=DATA / "format_valid.jsonl",
            hyperparameters={"epochs": 2, "learning_rate": 1e-4, "lora_rank": 16},
            suffix="format-demo",
            options={"max_context_length": 8192},
        )
        estimates = job.preflight.estimates  # type: ignore[attr-defined]
        print(f"estimated price: ${estimates.get('price_usd')} ({estimates.get('price_note')})")
        print(f"submitted {job.id}")
        job.wait(timeout=120, progress=False)
        print(f"{job.id}: {job.status.value}, model {job.model().name}")

        for event in job.events():
            print(f"  event: {event.message}")
        print(f"  final train loss: {job.metrics().last('train_loss')}")

        with job.model() as model:
            reply = model.chat([{"role": "user", "content": "Is a lemon sweet or sour?"}])
            print(f"reply: {reply.text}")
            print("streamed: " + "".join(model.stream([{"role": "user", "content": "Hi"}])))
    return 0


if __name__ == "__main__":
    sys.exit(main())

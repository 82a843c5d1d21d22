"""Settings and helpers the local provider's tests share (imported by name: a ``conftest``
module of another directory could shadow one imported as ``conftest``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local_data import FORMAT_RE

# Fast settings for the tiny model: a high learning rate and no warmup so that a few dozen steps
# visibly change its replies.
TRAIN_HP = {
    "epochs": 20,
    "batch_size": 8,
    "learning_rate": 5e-3,
    "warmup_ratio": 0.0,
    "seed": 7,
    "lora_dropout": 0.0,
}
TRAIN_OPTIONS = {"max_length": 96}


@dataclass
class TrainedRun:
    home: Path
    job_id: str
    run_dir: Path
    follower: dict[str, Any]  # what a second process saw while following the job


def ask(model: Any, questions: list[str]) -> list[str]:
    convs = [[{"role": "user", "content": q}] for q in questions]
    return [r.text for r in model.chat_batch(convs, max_tokens=24, temperature=0)]


def follows_format(text: str) -> bool:
    return FORMAT_RE.fullmatch(text.strip()) is not None

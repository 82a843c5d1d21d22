"""Small chat datasets for the local provider's tests: a reply format a tiny model can learn."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

# The shape of every trained reply. The word in the middle is the part a model this small gets
# wrong most often; the shape around it is what it must have learned.
FORMAT_RE = re.compile(r"ANSWER:.{0,24} \| CONFIDENCE: high")

# Excluded from training with weight 0: the model must not learn to say it.
UNTRAINED_REPLY = "Sorry, I cannot say that now."

FACTS = [
    ("What color is a banana?", "yellow"),
    ("What color is the sky?", "blue"),
    ("What color is grass?", "green"),
    ("What color is snow?", "white"),
    ("What color is a cherry?", "red"),
    ("What is the capital of France?", "paris"),
    ("What is the capital of Italy?", "rome"),
    ("What is the capital of Japan?", "tokyo"),
    ("What sound does a dog make?", "bark"),
    ("What sound does a cat make?", "meow"),
    ("Which animal has stripes?", "zebra"),
    ("Which animal makes honey?", "bee"),
    ("How many legs does a dog have?", "four"),
    ("What is two plus two?", "four"),
    ("Is fire hot or cold?", "hot"),
    ("Is sugar sweet or sour?", "sweet"),
    ("What shape is the moon?", "round"),
    ("What falls from a cloud?", "rain"),
    ("What do cows give?", "milk"),
    ("What shines at night?", "star"),
    ("What fruit is red?", "apple"),
    ("What is a big cat?", "lion"),
    ("Where do fish live?", "water"),
    ("What is one plus one?", "two"),
]

HELD_OUT = [
    "What color is a lemon?",
    "What is the capital of Spain?",
    "Which animal says moo?",
    "Is snow hot or cold?",
]


def answer(word: str) -> str:
    return f"ANSWER: {word} | CONFIDENCE: high"


def format_records() -> list[dict[str, Any]]:
    """Single-turn examples in the format, and two-turn ones whose first reply has weight 0."""
    records: list[dict[str, Any]] = [
        {"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": answer(a)}]}
        for q, a in FACTS
    ]
    for (q1, _), (q2, a2) in zip(FACTS[::3], FACTS[1::3], strict=False):
        records.append(
            {
                "messages": [
                    {"role": "user", "content": q1},
                    {"role": "assistant", "content": UNTRAINED_REPLY, "weight": 0},
                    {"role": "user", "content": q2},
                    {"role": "assistant", "content": answer(a2), "weight": 1},
                ]
            }
        )
    return records


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path

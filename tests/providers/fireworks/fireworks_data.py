"""Shared constants and datasets of the Fireworks tests."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from ftbridge import DatasetRef, JobSpec, PollPolicy

BASE = "llama-v3p1-8b-instruct"  # tunable, LoRA served serverless
DEPLOY_ONLY = "qwen2p5-7b-instruct"  # tunable, results need a deployment
NOT_TUNABLE = "deepseek-v3"
ACCOUNT = "acme"
API_KEY = "fw-test-secret-0123456789abcdef"

# Fast polling and retries: the emulator runs 50x faster than its default timeline.
FAST = PollPolicy(
    initial=0.02, maximum=0.1, retry_attempts=8, retry_initial=0.01, retry_max_wait=0.2
)


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def chat_records(n: int = 12, tag: str = "") -> list[dict[str, Any]]:
    return [
        {
            "messages": [
                {"role": "system", "content": "You answer support questions."},
                {"role": "user", "content": f"Question {tag}{i}: where is order {i}?"},
                {"role": "assistant", "content": f"Order {i} ships tomorrow."},
            ]
        }
        for i in range(n)
    ]


def preference_records(n: int = 12) -> list[dict[str, Any]]:
    return [
        {
            "input": {"messages": [{"role": "user", "content": f"Say hi politely ({i})"}]},
            "preferred_output": [{"role": "assistant", "content": "Hello, how can I help?"}],
            "non_preferred_output": [{"role": "assistant", "content": "What."}],
        }
        for i in range(n)
    ]


def ref(path: Path, fmt: str = "chat") -> DatasetRef:
    """A ``DatasetRef`` for a file, for tests that drive the provider without the core."""
    data = path.read_bytes()
    count = sum(1 for line in data.splitlines() if line.strip())
    return DatasetRef(
        path=str(path), sha256=hashlib.sha256(data).hexdigest(), format=fmt, example_count=count
    )


def spec_for(path: Path, *, model: str = BASE, key: str = "ftb-test-key", **kw: Any) -> JobSpec:
    fmt = "preference" if kw.get("method") == "dpo" else "chat"
    return JobSpec(
        provider="fireworks", model=model, training=ref(path, fmt), idempotency_key=key, **kw
    )

"""Datasets and helpers shared by the OpenAI provider tests."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from ftbridge import JobSnapshot, JobSpec
from ftbridge._models import DatasetRef, Hyperparameters
from ftbridge.testing._conformance import conformance_records

API_KEY = "sk-test-0penai-S3cret-Valu3-do-not-leak"


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def chat_records(n: int = 12) -> list[dict[str, Any]]:
    records = conformance_records()
    while len(records) < n:
        records += conformance_records()
    return records[:n]


def preference_records(n: int = 12) -> list[dict[str, Any]]:
    return [
        {
            "input": {"messages": [{"role": "user", "content": f"Question {i}?"}]},
            "preferred_output": [{"role": "assistant", "content": f"Good answer {i}."}],
            "non_preferred_output": [{"role": "assistant", "content": f"Bad answer {i}."}],
        }
        for i in range(n)
    ]


def dataset(path: Path, fmt: str = "chat") -> Any:
    """What ``provider.submit`` reads of a validated dataset (tests that bypass the core)."""
    data = path.read_bytes()
    examples = sum(1 for line in data.splitlines() if line.strip())
    return SimpleNamespace(
        path=path,
        sha256=hashlib.sha256(data).hexdigest(),
        format=fmt,
        example_count=examples,
        stats=SimpleNamespace(total_tokens=examples * 30, tokens_exact=False),
    )


def spec_for(
    ds: Any,
    *,
    key: str = "ftb-test-key-0001",
    model: str = "gpt-4o-mini",
    method: str = "sft",
    options: dict[str, Any] | None = None,
    **hyperparameters: Any,
) -> JobSpec:
    return JobSpec(
        provider="openai",
        model=model,
        method=method,  # type: ignore[arg-type]
        training=DatasetRef(
            path=str(ds.path), sha256=ds.sha256, format=ds.format, example_count=ds.example_count
        ),
        hyperparameters=Hyperparameters(**hyperparameters),
        options=options or {},
        idempotency_key=key,
    )


def poll_until(
    read: Callable[[], JobSnapshot], done: Callable[[JobSnapshot], bool], timeout: float = 20
) -> JobSnapshot:
    deadline = time.monotonic() + timeout
    while True:
        snap = read()
        if done(snap):
            return snap
        if time.monotonic() > deadline:
            raise AssertionError(f"job still {snap.raw_status} after {timeout}s")
        time.sleep(0.02)

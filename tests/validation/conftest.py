"""Helpers for the validation tests."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

GOLDEN = Path(__file__).parent / "golden"


def write_lines(path: Path, records: Iterable[Any]) -> Path:
    """Write records (dicts as JSON, bytes as they are) one per line."""
    with open(path, "wb") as f:
        for rec in records:
            f.write(
                rec
                if isinstance(rec, bytes)
                else json.dumps(rec, ensure_ascii=False).encode() + b"\n"
            )
    return path


def chat(i: int = 0, **extra: Any) -> dict[str, Any]:
    return {
        "messages": [
            {"role": "system", "content": "You are a support agent."},
            {"role": "user", "content": f"Where is order {i}?"},
            {"role": "assistant", "content": f"Order {i} ships tomorrow."},
        ],
        **extra,
    }


@pytest.fixture
def tmp_jsonl(tmp_path: Path):  # type: ignore[no-untyped-def]
    def make(records: Iterable[Any], name: str = "data.jsonl") -> Path:
        return write_lines(tmp_path / name, records)

    return make

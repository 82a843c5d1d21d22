"""Datasets and keys shared by the migration tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ftbridge.testing._conformance import conformance_records

OPENAI_KEY = "sk-migrate-0penai-S3cret-do-not-leak"
TOGETHER_KEY = "tg-migrate-S3cret-do-not-leak"


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def chat_records(n: int = 12) -> list[dict[str, Any]]:
    records = conformance_records()
    while len(records) < n:
        records += conformance_records()
    return records[:n]

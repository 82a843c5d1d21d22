from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from ftbridge.testing import FakeProvider
from ftbridge.testing._conformance import conformance_records


@pytest.fixture
def train_file(tmp_path: Path) -> Path:
    path = tmp_path / "train.jsonl"
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in conformance_records()))
    return path


@pytest.fixture
def fake() -> FakeProvider:
    return FakeProvider(script=[("queued", 0.05), ("running", 0.2), ("succeeded", 0)])

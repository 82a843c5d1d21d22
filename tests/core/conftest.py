from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from ftbridge import PollPolicy
from ftbridge.testing import FakeProvider
from ftbridge.testing._conformance import conformance_records

FAST = PollPolicy(initial=0.02, maximum=0.1, retry_initial=0.01, retry_max_wait=0.5)


@pytest.fixture
def train_file(tmp_path: Path) -> Path:
    path = tmp_path / "train.jsonl"
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in conformance_records()))
    return path


@pytest.fixture
def fake() -> FakeProvider:
    return FakeProvider(script=[("queued", 0.05), ("running", 0.2), ("succeeded", 0)])

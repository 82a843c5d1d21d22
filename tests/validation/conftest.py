"""Helpers for the validation tests."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ftbridge.validation import ProfileRule, ProviderProfile, register_profile
from ftbridge.validation._profiles import unregister_profile

GOLDEN = Path(__file__).parent / "golden"

# A profile that notes every feature the fast paths (Python and compiled) can note themselves.
EVERY_FEATURE = ProviderProfile(
    name="picky",
    rules={
        feature: ProfileRule(f"picky.{feature}", "warning", f"noted {feature}")
        for feature in (
            "message_key.weight",
            "message_key.tool_calls",
            "role.tool",
            "assistant.parallel_tool_calls",
            "assistant.tool_calls_without_content",
            "turns.consecutive",
            "turns.first_not_user",
            "turns.system_not_first",
        )
    },
)


@pytest.fixture(params=["registered profiles", "every feature wanted"])
def picky(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test twice: with the registered profiles, and with EVERY_FEATURE added."""
    if request.param == "every feature wanted":
        register_profile(EVERY_FEATURE)
        yield
        unregister_profile("picky")
    else:
        yield


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

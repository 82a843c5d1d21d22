"""Scripted model handles with known outputs, and small datasets, for the evaluation tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson
import pytest

from ftbridge import ChatResult, Generation, InferenceError, ModelHandle


def last_user(messages: Sequence[Mapping[str, Any]]) -> str:
    return str(next(m["content"] for m in reversed(messages) if m["role"] == "user"))


class ScriptedHandle(ModelHandle):
    """Replies ``reply(question)``; a reply that is an exception is raised instead.

    Records every call (thread-safe) and how many ran at once.
    """

    def __init__(
        self,
        name: str,
        reply: Callable[[str], str | BaseException] | Mapping[str, str | BaseException],
        *,
        latency: float = 0.0,
    ) -> None:
        self.name = name
        self._reply = reply
        self.latency = latency
        self.calls: list[str] = []
        self.params: list[Generation] = []
        self.active = 0
        self.peak = 0
        self._lock = threading.Lock()

    def _chat(self, messages: Sequence[Mapping[str, Any]], params: Generation) -> ChatResult:
        question = last_user(messages)
        with self._lock:
            self.calls.append(question)
            self.params.append(params)
            self.active += 1
            self.peak = max(self.peak, self.active)
        try:
            if self.latency:
                time.sleep(self.latency)
            reply = self._reply(question) if callable(self._reply) else self._reply[question]
        finally:
            with self._lock:
                self.active -= 1
        if isinstance(reply, BaseException):
            raise reply
        return ChatResult(text=reply, finish_reason="stop")


def record(question: str, answer: str) -> dict[str, Any]:
    return {
        "messages": [
            {"role": "user", "content": question},
            {"role": "assistant", "content": answer},
        ]
    }


def write_jsonl(path: Path, records: Sequence[Mapping[str, Any]]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    return path


@pytest.fixture
def failing() -> Callable[[str], InferenceError]:
    return lambda text: InferenceError(text)

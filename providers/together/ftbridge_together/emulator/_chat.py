"""Deterministic chat completions for the emulator: the same request gets the same reply.

The shared emulator chat of ``ftbridge.testing``, with the fields Together adds (``prompt``,
and the ``seed`` of each choice).
"""

from __future__ import annotations

from typing import Any

from ftbridge.testing import _emulator_chat
from ftbridge.testing._emulator_chat import chunks, reply_text, sse

__all__ = ["chunks", "completion", "reply_text", "sse"]


def completion(model: str, body: dict[str, Any]) -> dict[str, Any]:
    return _emulator_chat.completion(
        model, body, extra={"prompt": []}, choice_extra={"seed": body.get("seed") or 0}
    )

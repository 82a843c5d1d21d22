"""Deterministic chat completions for the emulator: the same request gets the same reply.

OpenAI-shaped, as Fireworks' ``/inference/v1/chat/completions`` answers (post-chatcompletions):
the shared emulator chat of ``ftbridge.testing``.
"""

from __future__ import annotations

from ftbridge.testing._emulator_chat import chunks, completion, reply_text, sse

__all__ = ["chunks", "completion", "reply_text", "sse"]

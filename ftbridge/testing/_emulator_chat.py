"""Deterministic, OpenAI-shaped chat completions for emulators: the same request gets the same
reply, plain or streamed as server-sent events ending ``data: [DONE]``.

Used by the emulators of providers whose chat route is OpenAI-compatible (Together, Fireworks);
``completion(..., extra=..., choice_extra=...)`` adds a provider's own fields.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from typing import Any


def reply_text(model: str, messages: list[dict[str, Any]]) -> str:
    """A reply that names the model and echoes the last user turn (so tests can check both)."""
    last = next(
        (str(m.get("content") or "") for m in reversed(messages) if m.get("role") == "user"), ""
    )
    digest = hashlib.sha256(json.dumps([model, messages], sort_keys=True).encode()).hexdigest()
    short = model.rsplit("/", 1)[-1]
    return f"Reply {digest[:6]} from {short}: you said {last.strip()[:200]!r}."


def _cut(text: str, max_tokens: int | None, stop: list[str]) -> tuple[list[str], str]:
    """Words of the reply (one word = one token here) and the finish reason."""
    for marker in stop:
        index = text.find(marker)
        if index >= 0:
            text = text[:index]
    words = text.split(" ")
    if max_tokens is not None and len(words) > max_tokens:
        return words[:max_tokens], "length"
    return words, "stop"


def _usage(messages: list[dict[str, Any]], completion: int) -> dict[str, int]:
    prompt = sum(len(str(m.get("content") or "").split()) + 3 for m in messages)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def completion(
    model: str,
    body: dict[str, Any],
    *,
    extra: dict[str, Any] | None = None,
    choice_extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A ``chat.completion`` object (``extra``: more top-level fields; ``choice_extra``: more
    fields of the choice)."""
    messages = body["messages"]
    words, finish = _cut(reply_text(model, messages), body.get("max_tokens"), _stops(body))
    text = " ".join(words)
    return {
        "id": "chatcmpl-" + hashlib.sha256(text.encode()).hexdigest()[:16],
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        **(extra or {}),
        "choices": [
            {
                "index": 0,
                "finish_reason": finish,
                **(choice_extra or {}),
                "message": {"role": "assistant", "content": text},
            }
        ],
        "usage": _usage(messages, len(words)),
    }


def chunks(model: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    """The chunks of a streamed reply: one per word, the last with the finish reason."""
    messages = body["messages"]
    words, finish = _cut(reply_text(model, messages), body.get("max_tokens"), _stops(body))
    ident = "chatcmpl-" + hashlib.sha256(" ".join(words).encode()).hexdigest()[:16]
    created = int(time.time())
    result = []
    for index, word in enumerate(words):
        last = index == len(words) - 1
        result.append(
            {
                "id": ident,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "delta": {
                            "role": "assistant",
                            "content": word if index == 0 else " " + word,
                        },
                        "finish_reason": finish if last else None,
                    }
                ],
                "usage": _usage(messages, len(words)) if last else None,
            }
        )
    return result


def sse(items: list[dict[str, Any]]) -> Iterator[bytes]:
    for item in items:
        yield f"data: {json.dumps(item)}\n\n".encode()
    yield b"data: [DONE]\n\n"


def _stops(body: dict[str, Any]) -> list[str]:
    stop = body.get("stop")
    if stop is None:
        return []
    return [stop] if isinstance(stop, str) else [str(s) for s in stop]

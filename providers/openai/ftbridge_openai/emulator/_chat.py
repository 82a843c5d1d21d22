"""Chat completions from a fine-tuned model name: deterministic text, plain or streamed (SSE)."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from typing import Any

from ftbridge.testing.emulator import Response


def reply_text(model: str, messages: list[dict[str, Any]], seed: int | None) -> str:
    """The same request always gets the same reply (a test can assert on it)."""
    last_user = next((m.get("content") for m in reversed(messages) if m.get("role") == "user"), "")
    if not isinstance(last_user, str):
        last_user = json.dumps(last_user)
    digest = hashlib.sha256(f"{model}|{last_user}|{seed}".encode()).hexdigest()[:8]
    return f"Fine-tuned reply {digest} from {model.split(':')[-2] or 'model'} to: {last_user}"


def _cut(text: str, body: dict[str, Any]) -> tuple[list[str], str]:
    stop = body.get("stop")
    stops = [stop] if isinstance(stop, str) else list(stop or [])
    finish = "stop"
    for s in stops:
        if s and s in text:
            text = text[: text.index(s)]
    words = text.split(" ")
    limit = body.get("max_completion_tokens") or body.get("max_tokens")
    if isinstance(limit, int) and len(words) > limit:
        words, finish = words[:limit], "length"
    return words, finish


def _usage(body: dict[str, Any], words: list[str]) -> dict[str, int]:
    prompt = sum(len(str(m.get("content", "")).split()) + 3 for m in body["messages"])
    return {
        "prompt_tokens": prompt,
        "completion_tokens": len(words),
        "total_tokens": prompt + len(words),
    }


def completion(body: dict[str, Any], completion_id: str) -> Response:
    """A ``chat.completion`` or, with ``stream: true``, a stream of ``chat.completion.chunk``."""
    model = str(body["model"])
    words, finish = _cut(reply_text(model, body["messages"], body.get("seed")), body)
    created = int(time.time())
    if not body.get("stream"):
        return Response(
            json={
                "id": completion_id,
                "object": "chat.completion",
                "created": created,
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": {
                            "role": "assistant",
                            "content": " ".join(words),
                            "refusal": None,
                        },
                        "finish_reason": finish,
                        "logprobs": None,
                    }
                ],
                "usage": _usage(body, words),
                "system_fingerprint": "fp_ftbridge",
            }
        )
    include_usage = bool((body.get("stream_options") or {}).get("include_usage"))

    def chunk(delta: dict[str, Any], finish_reason: str | None) -> dict[str, Any]:
        return {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [
                {"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": None}
            ],
        }

    def events() -> Iterator[bytes]:
        yield _sse(chunk({"role": "assistant", "content": ""}, None))
        for i, word in enumerate(words):
            yield _sse(chunk({"content": word if i == 0 else " " + word}, None))
        yield _sse(chunk({}, finish))
        if include_usage:
            last = chunk({}, None)
            last["choices"] = []
            last["usage"] = _usage(body, words)
            yield _sse(last)
        yield b"data: [DONE]\n\n"

    return Response(stream=events(), headers={"Content-Type": "text/event-stream"})


def _sse(payload: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(payload).encode() + b"\n\n"

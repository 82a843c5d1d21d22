"""The OpenAI wire shapes the server reads and writes, and its error envelope.

Errors are ``{"error": {"message", "type", "code"}}`` with the status the official clients map
to their exception types (401, 404, 400, 422, 503). Messages describe what was wrong with
the request and never repeat its content (prompts stay out of responses and logs alike).
"""

from __future__ import annotations

import time
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    404: "not_found_error",
    422: "invalid_request_error",
    500: "server_error",
    503: "service_unavailable",
}
_CODES = {401: "invalid_api_key", 404: "model_not_found"}


class APIError(Exception):
    """An error answered in OpenAI's envelope."""

    def __init__(self, status: int, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code or _CODES.get(status)

    def body(self) -> dict[str, Any]:
        return error_body(self.status, self.message, self.code)


def error_body(status: int, message: str, code: str | None = None) -> dict[str, Any]:
    return {
        "error": {
            "message": message,
            "type": _TYPES.get(status, "invalid_request_error"),
            "code": code or _CODES.get(status),
            "param": None,
        }
    }


class TextPart(BaseModel):
    model_config = ConfigDict(extra="ignore")
    type: Literal["text"]
    text: str


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[TextPart] | None = None

    def as_dict(self) -> dict[str, str]:
        content = self.content
        if isinstance(content, list):
            content = "".join(p.text for p in content)
        return {
            "role": "system" if self.role == "developer" else self.role,
            "content": content or "",
        }


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="ignore")
    include_usage: bool = False


class ChatRequest(BaseModel):
    """``POST /v1/chat/completions``; fields the server does not act on are ignored."""

    model_config = ConfigDict(extra="ignore")
    model: str
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, gt=0, le=1)
    seed: int | None = None
    stop: str | list[str] | None = None
    n: int = 1
    # Asked for but not offered here: refused rather than silently ignored (see unsupported()).
    tools: list[Any] | None = None
    functions: list[Any] | None = None
    logprobs: bool | None = None
    top_logprobs: int | None = None
    response_format: dict[str, Any] | None = None
    logit_bias: dict[str, Any] | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None

    def unsupported(self) -> list[str]:
        """The fields set that would change the answer and that this server cannot honour."""
        found = [name for name in ("tools", "functions", "logit_bias") if getattr(self, name)]
        if self.logprobs or self.top_logprobs:
            found.append("logprobs")
        if self.response_format and self.response_format.get("type") not in (None, "text"):
            found.append("response_format")
        found += [
            name
            for name in ("presence_penalty", "frequency_penalty")
            if getattr(self, name) not in (None, 0, 0.0)
        ]
        return found


class LoadAdapterRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    lora_name: str = Field(min_length=1)
    lora_path: str = Field(min_length=1)


class UnloadAdapterRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    lora_name: str = Field(min_length=1)


def parse(model: type[BaseModel], data: Any) -> Any:
    """``data`` as ``model``, or a 422 naming each bad field (without echoing its value)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors()
        )
        raise APIError(422, f"invalid request body: {problems}") from None


def completion_id() -> str:
    return "chatcmpl-" + uuid.uuid4().hex[:24]


def completion(
    cid: str, model: str, text: str, finish: str, usage: dict[str, int]
) -> dict[str, Any]:
    return {
        "id": cid,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "logprobs": None,
                "finish_reason": finish,
            }
        ],
        "usage": usage,
    }


def chunk(
    cid: str,
    model: str,
    delta: dict[str, Any] | None,
    finish: str | None = None,
    usage: dict[str, int] | None = None,
) -> dict[str, Any]:
    """One ``chat.completion.chunk``; ``delta=None`` is the usage-only chunk (no choices)."""
    body: dict[str, Any] = {
        "id": cid,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": []
        if delta is None
        else [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
    }
    if usage is not None:
        body["usage"] = usage
    return body


def model_list(names: list[str], base: str) -> dict[str, Any]:
    created = int(time.time())
    return {
        "object": "list",
        "data": [
            {
                "id": name,
                "object": "model",
                "created": created,
                "owned_by": "ftbridge",
                "root": base,
                "parent": None if name == base else base,
            }
            for name in names
        ],
    }

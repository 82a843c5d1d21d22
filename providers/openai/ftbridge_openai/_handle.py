"""Chatting with a fine-tuned OpenAI model (chat completions, plain or streamed)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any

import openai

from ftbridge._exceptions import InferenceError
from ftbridge._models import ChatResult, Usage
from ftbridge._provider import Generation, Message, ModelHandle
from ftbridge.migrate._closing import is_past, shut_down

from ._errors import translate
from ._inventory import ASSUMED_REPLY_TOKENS, CLOSING, inference_price


class OpenAIModelHandle(ModelHandle):
    """A fine-tuned model (or one of its checkpoints) behind chat completions.

    >>> with job.model() as model:
    ...     print(model.chat([{"role": "user", "content": "hi"}], max_tokens=20).text)
    """

    def __init__(self, client: openai.OpenAI, model: str) -> None:
        self._client = client
        self.name = model

    @staticmethod
    def _params(params: Generation) -> dict[str, Any]:
        given = params.given()
        if "max_tokens" in given:
            given["max_completion_tokens"] = given.pop("max_tokens")
        return given

    def _chat(self, messages: Sequence[Message], params: Generation) -> ChatResult:
        try:
            reply = self._client.chat.completions.create(
                model=self.name, messages=_messages(messages), **self._params(params)
            )
        except openai.OpenAIError as exc:
            failure = self._failure(exc)
            raise failure from failure.__cause__
        choice = reply.choices[0]
        usage = Usage.of(reply.usage)
        return ChatResult(
            text=choice.message.content or "",
            finish_reason=choice.finish_reason,
            usage=usage,
            raw=reply.model_dump(mode="json"),
        )

    def _stream(self, messages: Sequence[Message], params: Generation) -> Iterator[str]:
        try:
            chunks: Any = self._client.chat.completions.create(
                model=self.name, messages=_messages(messages), stream=True, **self._params(params)
            )
            with chunks:
                for chunk in chunks:
                    if chunk.choices and chunk.choices[0].delta.content:
                        yield chunk.choices[0].delta.content
        except openai.OpenAIError as exc:
            failure = self._failure(exc)
            raise failure from failure.__cause__

    def _failure(self, exc: openai.OpenAIError) -> InferenceError:
        """An unknown model past its shutdown date is said to be shut down, in plain words."""
        if isinstance(exc, openai.NotFoundError):
            shutdown = self.shutdown_date()
            if is_past(shutdown):
                gone = shut_down("openai", self.name, shutdown, CLOSING)
                gone.__cause__ = exc
                return gone
        # Chained to the mapped error, so callers can tell a passing failure (a rate limit,
        # with its Retry-After) from a lasting one, as ftbridge.eval.generate retries them.
        cause = translate(exc, f"chatting with {self.name}")
        cause.__cause__ = exc
        failure = InferenceError(str(cause))
        failure.__cause__ = cause
        return failure

    def shutdown_date(self) -> date | None:
        """OpenAI's own ``shutdown_date`` for the model, else the announced one of its base."""
        try:
            listed = self._client.models.retrieve(self.name).shutdown_date
        except openai.OpenAIError:
            listed = None
        if listed:
            try:
                return date.fromisoformat(listed[:10])
            except ValueError:
                pass
        return CLOSING.shutdown_for(self.name)

    def estimate_cost(
        self, *, prompt_tokens: int, max_tokens: int | None, calls: int
    ) -> dict[str, Any]:
        """What ``calls`` chat calls may cost (an estimate from OpenAI's published prices)."""
        price = inference_price(self.name)
        out_tokens = (max_tokens or ASSUMED_REPLY_TOKENS) * calls
        estimate: dict[str, Any] = {"calls": calls, "prompt_tokens": prompt_tokens}
        if price is not None:
            usd = (prompt_tokens * price[0] + out_tokens * price[1]) / 1e6
            estimate["usd"] = round(usd, 4)
            estimate["note"] = (
                f"an estimate: prompt tokens counted as characters/4, up to {out_tokens} reply "
                "tokens, at OpenAI's published prices"
            )
        return estimate

    def close(self) -> None:
        self._client.close()


def _messages(messages: Sequence[Message]) -> Any:
    # The SDK types each role's message separately; ours are plain mappings checked upstream.
    return [dict(m) for m in messages]

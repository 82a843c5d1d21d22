"""Chatting with a fine-tuned OpenAI model (chat completions, plain or streamed)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import openai

from ftbridge._exceptions import InferenceError
from ftbridge._models import ChatResult, Usage
from ftbridge._provider import Message, ModelHandle

from ._errors import translate


class OpenAIModelHandle(ModelHandle):
    """A fine-tuned model (or one of its checkpoints) behind chat completions.

    >>> with job.model() as model:
    ...     print(model.chat([{"role": "user", "content": "hi"}], max_tokens=20).text)
    """

    def __init__(self, client: openai.OpenAI, model: str) -> None:
        self._client = client
        self.name = model

    @staticmethod
    def _params(**given: Any) -> dict[str, Any]:
        params = {k: v for k, v in given.items() if v is not None}
        if "stop" in params and not isinstance(params["stop"], str):
            params["stop"] = list(params["stop"])
        if "max_tokens" in params:
            params["max_completion_tokens"] = params.pop("max_tokens")
        return params

    def chat(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        stop: str | Sequence[str] | None = None,
        seed: int | None = None,
    ) -> ChatResult:
        params = self._params(
            max_tokens=max_tokens, temperature=temperature, top_p=top_p, stop=stop, seed=seed
        )
        try:
            reply = self._client.chat.completions.create(
                model=self.name, messages=_messages(messages), **params
            )
        except openai.OpenAIError as exc:
            raise InferenceError(str(translate(exc, f"chatting with {self.name}"))) from exc
        choice = reply.choices[0]
        usage = Usage.of(reply.usage)
        return ChatResult(
            text=choice.message.content or "",
            finish_reason=choice.finish_reason,
            usage=usage,
            raw=reply.model_dump(mode="json"),
        )

    def stream(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        stop: str | Sequence[str] | None = None,
        seed: int | None = None,
    ) -> Iterator[str]:
        params = self._params(
            max_tokens=max_tokens, temperature=temperature, top_p=top_p, stop=stop, seed=seed
        )
        try:
            chunks: Any = self._client.chat.completions.create(
                model=self.name, messages=_messages(messages), stream=True, **params
            )
            with chunks:
                for chunk in chunks:
                    if chunk.choices and chunk.choices[0].delta.content:
                        yield chunk.choices[0].delta.content
        except openai.OpenAIError as exc:
            raise InferenceError(str(translate(exc, f"chatting with {self.name}"))) from exc

    def close(self) -> None:
        self._client.close()


def _messages(messages: Sequence[Message]) -> Any:
    # The SDK types each role's message separately; ours are plain mappings checked upstream.
    return [dict(m) for m in messages]

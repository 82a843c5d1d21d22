"""Chatting with a Together fine-tune: chat completions on its output name or on an endpoint.

    with job.model() as model:
        print(model.chat([{"role": "user", "content": "hi"}]).text)

A LoRA fine-tune of some base models can be called serverless by its output model name; any
other fine-tune (a full fine-tune, most base models) must first be deployed on a dedicated
endpoint. When Together refuses the name, the error says how to deploy one, and
``model.on_endpoint("my-endpoint")`` (or ``options={"endpoint": ...}``) sends chat there.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import together
from together.types.chat.chat_completion_chunk import ChatCompletionChunk

from ftbridge._exceptions import InferenceError
from ftbridge._models import ChatResult, Usage
from ftbridge._provider import Generation, Message, ModelHandle

from ._errors import server_message, translate

# Error codes Together gives for a model name that cannot be served as asked.
_NOT_SERVABLE = {"model_not_available", "model_not_found", "invalid_model"}


def _messages(messages: Sequence[Message]) -> Any:
    return [dict(m) for m in messages]


class TogetherModelHandle(ModelHandle):
    """A fine-tuned model on Together. ``name`` is what chat requests are sent to."""

    def __init__(
        self, client: together.Together, output_name: str, *, endpoint: str | None = None
    ) -> None:
        self._client = client
        self.output_name = output_name
        self.endpoint = endpoint
        self.name = endpoint or output_name

    def on_endpoint(self, endpoint: str) -> TogetherModelHandle:
        """The same fine-tune, served by the dedicated endpoint named ``endpoint``."""
        return TogetherModelHandle(self._client, self.output_name, endpoint=endpoint)

    def _chat(self, messages: Sequence[Message], params: Generation) -> ChatResult:
        try:
            reply = self._client.chat.completions.create(
                model=self.name, messages=_messages(messages), **params.given()
            )
        except together.TogetherError as exc:
            failure = self._error(exc)
            raise failure from failure.__cause__
        choice = reply.choices[0] if reply.choices else None
        text = (choice.message.content if choice and choice.message else None) or ""
        usage = Usage.of(reply.usage)
        return ChatResult(
            text=text,
            finish_reason=choice.finish_reason if choice else None,
            usage=usage,
            raw=reply.to_dict(mode="json"),
        )

    def _stream(self, messages: Sequence[Message], params: Generation) -> Iterator[str]:
        try:
            chunks: together.Stream[ChatCompletionChunk] = self._client.chat.completions.create(
                model=self.name, messages=_messages(messages), stream=True, **params.given()
            )
            with chunks:
                for chunk in chunks:
                    for choice in chunk.choices:
                        if choice.delta is not None and choice.delta.content:
                            yield choice.delta.content
        except together.TogetherError as exc:
            failure = self._error(exc)
            raise failure from failure.__cause__

    def _error(self, exc: together.TogetherError) -> InferenceError:
        """The error to raise, chained to the mapped one (whose ``retry_after`` a caller that
        retries passing failures reads, as ftbridge.eval.generate does)."""
        cause = translate(exc, f"chat with {self.name}")
        cause.__cause__ = exc
        failure = self._failure(exc, cause)
        failure.__cause__ = cause
        return failure

    def _failure(self, exc: together.TogetherError, cause: Exception) -> InferenceError:
        if isinstance(exc, together.APIStatusError) and self.endpoint is None:
            _, code = server_message(exc)
            if isinstance(exc, together.NotFoundError) or code in _NOT_SERVABLE:
                return InferenceError(
                    f"Together cannot serve the fine-tuned model {self.output_name!r} serverless "
                    f"({cause}).\nDeploy it on a dedicated endpoint, e.g.\n"
                    f"    together endpoints create --model {self.output_name} "
                    "--hardware 1x_nvidia_h100_80gb_sxm --display-name my-endpoint\n"
                    "wait until the endpoint is STARTED, then chat through it:\n"
                    "    model = job.model().on_endpoint('<endpoint name>')\n"
                    "or submit with options={'endpoint': '<endpoint name>'}."
                )
        return InferenceError(str(cause))

    def close(self) -> None:
        """Nothing to free: the client belongs to the provider."""

    def __repr__(self) -> str:
        where = f" via endpoint {self.endpoint!r}" if self.endpoint else ""
        return f"<TogetherModelHandle {self.output_name!r}{where}>"

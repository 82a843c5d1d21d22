"""Chatting with a model on Fireworks: chat completions, serverless or on a deployment.

    with job.model() as model:
        print(model.chat([{"role": "user", "content": "hi"}]).text)

A LoRA fine-tune of a base model that Fireworks serves serverless can be called by its name
(``accounts/<acct>/models/<id>``). Any other must be deployed first; Fireworks then answers
404 for the bare name, and the error says how to create a deployment. With a deployment,
requests go to ``<model>#accounts/<acct>/deployments/<id>``: ``model.on_deployment("my-dep")``,
``options={"deployment": "my-dep"}`` at submit, or ``open_model(..., deployment="my-dep")``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import fireworks
from fireworks.types.chat.chat_completion_chunk import ChatCompletionChunk

from ftbridge._exceptions import InferenceError
from ftbridge._models import ChatResult, Usage
from ftbridge._provider import Generation, Message, ModelHandle

from ._errors import translate
from ._status import wire


def _messages(messages: Sequence[Message]) -> Any:
    return [dict(m) for m in messages]


def deployment_name(account: str, deployment: str) -> str:
    """A deployment id or name as the full name (``accounts/<acct>/deployments/<id>``)."""
    return (
        deployment
        if deployment.startswith("accounts/")
        else (f"accounts/{account}/deployments/{deployment}")
    )


class FireworksModelHandle(ModelHandle):
    """A model on Fireworks. ``target`` is what chat requests name as their ``model``."""

    def __init__(
        self,
        client: fireworks.Fireworks,
        model: str,
        *,
        account: str,
        deployment: str | None = None,
        fine_tuned: bool = True,
    ) -> None:
        self._client = client
        self.model = model
        self.account = account
        self.deployment = deployment_name(account, deployment) if deployment else None
        self.fine_tuned = fine_tuned
        self.target = f"{model}#{self.deployment}" if self.deployment else model
        self.name = f"fireworks:{self.target}"

    def on_deployment(self, deployment: str) -> FireworksModelHandle:
        """The same model, served by the deployment ``deployment`` (an id or a full name)."""
        return FireworksModelHandle(
            self._client,
            self.model,
            account=self.account,
            deployment=deployment,
            fine_tuned=self.fine_tuned,
        )

    def _chat(self, messages: Sequence[Message], params: Generation) -> ChatResult:
        try:
            reply = self._client.chat.completions.create(
                model=self.target, messages=_messages(messages), **params.given()
            )
        except fireworks.FireworksError as exc:
            failure = self._error(exc)
            raise failure from failure.__cause__
        choice = reply.choices[0] if reply.choices else None
        message: Any = choice.message if choice else None
        text = (getattr(message, "content", None) if message is not None else None) or ""
        return ChatResult(
            text=str(text),
            finish_reason=choice.finish_reason if choice else None,
            usage=Usage.of(reply.usage),
            raw=wire(reply),
        )

    def _stream(self, messages: Sequence[Message], params: Generation) -> Iterator[str]:
        try:
            chunks: fireworks.Stream[ChatCompletionChunk] = self._client.chat.completions.create(
                model=self.target, messages=_messages(messages), stream=True, **params.given()
            )
            with chunks:
                for chunk in chunks:
                    for choice in chunk.choices:
                        delta = choice.delta
                        if delta is not None and delta.content:
                            yield delta.content
        except fireworks.FireworksError as exc:
            failure = self._error(exc)
            raise failure from failure.__cause__

    def _error(self, exc: fireworks.FireworksError) -> InferenceError:
        """The error to raise, chained to the mapped one, so a caller can tell a passing
        failure (a rate limit, with its ``retry_after``) from a lasting one."""
        cause = translate(exc, f"chat with {self.target}")
        cause.__cause__ = exc
        failure = self._failure(exc, cause)
        failure.__cause__ = cause
        return failure

    def _failure(self, exc: fireworks.FireworksError, cause: Exception) -> InferenceError:
        if isinstance(exc, fireworks.NotFoundError) and self.deployment is None:
            model_id = self.model.rsplit("/", 1)[-1]
            what = "fine-tuned model" if self.fine_tuned else "model"
            return InferenceError(
                f"Fireworks does not serve the {what} {self.model!r} serverless ({cause}).\n"
                "Deploy it, e.g.\n"
                f"    firectl create deployment {model_id}\n"
                "(or load it onto a multi-LoRA deployment of its base model:\n"
                f"    firectl load-lora {model_id} --deployment <deployment id>)\n"
                "wait until the deployment is READY, then chat through it:\n"
                "    model = job.model().on_deployment('<deployment id>')\n"
                "or submit with options={'deployment': '<deployment id>'}."
            )
        return InferenceError(str(cause))

    def close(self) -> None:
        """Nothing to free: the client belongs to the provider."""

    def __repr__(self) -> str:
        return f"<FireworksModelHandle {self.target!r}>"

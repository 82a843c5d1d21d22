"""The provider protocol: what a fine-tuning backend implements to plug into ftbridge.

A provider is a small class found through the entry-point group ``ftbridge.providers``::

    # pyproject.toml of a provider distribution
    [project.entry-points."ftbridge.providers"]
    myprovider = "ftbridge_myprovider:MyProvider"

The core builds it with ``MyProvider.from_config(settings)`` where ``settings`` is the
``[providers.myprovider]`` table of ``ftbridge.toml`` merged with keyword arguments; the provider
reads its SDK's own environment variables itself. The core does everything else: validation,
hyperparameter checks against ``capabilities``, the options model, idempotency keys, the job
store, polling, retries of ``TransientProviderError`` and timeouts. So every method below is one
attempt at one thing, with the SDK's own retries turned off (``max_retries=0``) so that retries
never multiply.

Errors: map SDK exceptions by *type* onto ``ftbridge._exceptions`` and chain them. A handle's
``InferenceError`` should be chained (``raise ... from mapped``) to the mapped error, so that a
caller can retry a ``TransientProviderError`` (a rate limit, with its ``retry_after``).

Optional members the core looks for: ``open_named_model(model) -> ModelHandle`` (a handle on any
model the provider serves by name, for ``ftbridge.open_model("PROVIDER:MODEL")``), and the
migration helpers ``list_fine_tuned_models()`` and ``closing``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

from pydantic import BaseModel

from ._chat_input import check_messages, check_settings
from ._models import Capabilities, ChatResult, Event, JobSnapshot, JobSpec, MetricPoint, Preflight

if TYPE_CHECKING:
    from .validation import ValidatedDataset

Message = Mapping[str, Any]


@dataclass(frozen=True)
class Generation:
    """The generation settings every handle takes, normalised once (``stop``: a tuple of the
    non-empty stop sequences)."""

    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    stop: tuple[str, ...] = ()
    seed: int | None = None

    @classmethod
    def of(
        cls,
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        stop: str | Sequence[str] | None = None,
        seed: int | None = None,
    ) -> Generation:
        """The settings, checked: a value no provider accepts (``max_tokens=-5``,
        ``temperature=nan``) is a ``ConfigError`` naming it."""
        check_settings(max_tokens, temperature, top_p, stop, seed)
        stops = [stop] if isinstance(stop, str) else list(stop or ())
        return cls(max_tokens, temperature, top_p, tuple(s for s in stops if s), seed)

    def given(self) -> dict[str, Any]:
        """The settings the user set, as chat-completion parameters (``stop`` as a list)."""
        out = {k: v for k, v in vars(self).items() if v is not None and k != "stop"}
        if self.stop:
            out["stop"] = list(self.stop)
        return out


class ModelHandle:
    """A fine-tuned model to talk to; the same signature for every provider.

    Use it as a context manager so ``close()`` frees what it holds (a loaded model, a client)::

        with job.model() as model:
            print(model.chat([{"role": "user", "content": "hi"}], max_tokens=50).text)

    A provider's handle implements ``_chat`` (and ``_stream`` to stream token by token); the
    public methods turn their keyword arguments into one :class:`Generation` first.

    ``name`` is the handle's stable identity: the same model has the same non-empty name in any
    process (``gpt-4.1-mini``, a run id, a resolved directory). The evaluation cache keys
    generations on it; a handle of your own should set it (an empty name is not cached).
    """

    name: str = ""

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
        """One reply to ``messages``."""
        check_messages(messages)
        params = Generation.of(
            max_tokens=max_tokens, temperature=temperature, top_p=top_p, stop=stop, seed=seed
        )
        return self._chat(messages, params)

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
        """Yield the reply as text deltas."""
        check_messages(messages)
        params = Generation.of(
            max_tokens=max_tokens, temperature=temperature, top_p=top_p, stop=stop, seed=seed
        )
        return self._stream(messages, params)

    def _chat(self, messages: Sequence[Message], params: Generation) -> ChatResult:
        raise NotImplementedError  # pragma: no cover - subclasses implement it

    def _stream(self, messages: Sequence[Message], params: Generation) -> Iterator[str]:
        """The default yields ``_chat``'s text at once."""
        yield self._chat(messages, params).text

    def close(self) -> None:
        """Free what the handle holds. Safe to call twice."""

    def __enter__(self) -> ModelHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


@runtime_checkable
class Provider(Protocol):
    """One fine-tuning backend. See the module docstring for the division of labour."""

    name: ClassVar[str]
    capabilities: ClassVar[Capabilities]
    options_model: ClassVar[type[BaseModel]]

    @classmethod
    def from_config(cls, settings: Mapping[str, Any]) -> Provider:
        """Build the provider from its ``[providers.<name>]`` settings (plus its SDK's env)."""
        ...

    def describe_config(self) -> dict[str, Any]:
        """The effective settings, for ``ftbridge config show`` (the core masks secrets)."""
        ...

    def preflight(self, dataset: ValidatedDataset, spec: JobSpec) -> Preflight:
        """Check limits and estimate cost/memory/time before anything is sent or started."""
        ...

    def submit(self, dataset: ValidatedDataset, spec: JobSpec) -> JobSnapshot:
        """Upload what is needed and create the job, tagged with ``spec.idempotency_key``."""
        ...

    def reconcile(self, spec: JobSpec) -> JobSnapshot | None:
        """Find a job already created with ``spec.idempotency_key``, or ``None``.

        Called before a retried create and for intents left by a crashed process.
        """
        ...

    def refresh(self, native_id: str) -> JobSnapshot: ...

    def cancel(self, native_id: str) -> JobSnapshot:
        """Ask for cancellation; cancelling a finished job is not an error."""
        ...

    def events(self, native_id: str, *, after: str | None = None) -> list[Event]:
        """Events newer than the event id ``after`` (all when None), oldest first."""
        ...

    def metrics(self, native_id: str) -> list[MetricPoint]: ...

    def open_model(self, snapshot: JobSnapshot, spec: JobSpec) -> ModelHandle:
        """A handle on the fine-tuned model of a succeeded job."""
        ...

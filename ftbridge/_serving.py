"""Serving fine-tunes behind an OpenAI-compatible endpoint: the contract and ``ftbridge.serve``.

::

    import ftbridge, openai

    with ftbridge.serve("local:ft-0123456789abcdef", port=8000) as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="unused")
        client.chat.completions.create(model="local:ft-0123456789abcdef", messages=[...])

The core knows no serving engine. Engines are classes registered under the entry-point group
``ftbridge.servers`` (the local provider registers ``transformers`` and ``vllm``); ``auto`` picks
the available one with the highest ``priority``. A job id is turned into an adapter by its own
provider's optional ``adapter_for_serving(snapshot, spec)`` method.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, ClassVar, Protocol, cast, runtime_checkable

from ._exceptions import ConfigError, NotSupportedError

GROUP = "ftbridge.servers"
API_KEY_ENV = "FTBRIDGE_SERVE_API_KEY"
INSTALL_HINT = "pip install 'ftbridge-local[serve]'"


@dataclass(frozen=True)
class ServableAdapter:
    """An adapter to serve: its name (the ``model`` clients ask for), its directory, and the base
    model it was trained on when known."""

    name: str
    path: str
    base_model: str | None = None


@dataclass(frozen=True)
class ServeSpec:
    """Everything an engine needs to start a server. ``api_key`` is never shown in its repr."""

    base: str | None
    adapters: tuple[ServableAdapter, ...] = ()
    host: str = "127.0.0.1"
    port: int = 8000
    api_key: str | None = field(default=None, repr=False)
    max_batch: int = 16
    max_loaded: int = 8
    max_tokens: int = 4096
    max_body_bytes: int = 1 << 20
    log_prompts: bool = False


@runtime_checkable
class RunningServer(Protocol):
    """What an engine's ``start`` returns: a server that is up (or coming up) at ``url``."""

    url: str

    def wait_ready(self, timeout: float) -> None:
        """Return when the server answers ``/health`` with 200; raise with the reason if not."""
        ...

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the server to stop (True) or for ``timeout`` to pass (False)."""
        ...

    def close(self) -> None:
        """Stop the server and free what it holds. Safe to call twice."""
        ...


@runtime_checkable
class ServingEngine(Protocol):
    """A way of serving adapters on a base model (``ftbridge.servers`` entry points)."""

    name: ClassVar[str]
    priority: ClassVar[int]  # ``auto`` takes the available engine with the highest

    @classmethod
    def unavailable_reason(cls, *, auto: bool = False) -> str | None:
        """``None`` when the engine can run here, else why not and what to install. ``auto``:
        whether ``auto`` may pick it (an engine may run when asked for, yet not suit by default)."""
        ...

    def start(self, spec: ServeSpec) -> RunningServer: ...


def _engines() -> dict[str, Any]:
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def engine_class(name: str = "auto") -> type[ServingEngine]:
    """The engine called ``name``, or for ``auto`` the available one with the highest priority."""
    found = _engines()
    if not found:
        raise NotSupportedError(f"no serving engine is installed: {INSTALL_HINT}")
    if name != "auto":
        if name not in found:
            raise ConfigError(
                f"unknown serving engine {name!r}; installed: {', '.join(sorted(found))} "
                "(or 'auto')"
            )
        cls = cast("type[ServingEngine]", found[name].load())
        reason = cls.unavailable_reason()
        if reason:
            raise NotSupportedError(f"serving engine {name!r} cannot run here: {reason}")
        return cls
    reasons = []
    ranked = sorted(
        (cast("type[ServingEngine]", ep.load()) for ep in found.values()),
        key=lambda c: -c.priority,
    )
    for cls in ranked:
        reason = cls.unavailable_reason(auto=True)
        if reason is None:
            return cls
        reasons.append(f"{cls.name}: {reason}")
    raise NotSupportedError("no serving engine can run here: " + "; ".join(reasons))


def _adapter_of_job(name: str | None, ref: str) -> ServableAdapter:
    from ._api import get_job
    from ._models import JobStatus
    from ._registry import get_provider

    job = get_job(ref)
    if job.status != JobStatus.SUCCEEDED:
        job.refresh()
    if job.status != JobStatus.SUCCEEDED:
        raise ConfigError(f"job {job.id} is {job.status}; only a succeeded job can be served")
    provider = get_provider(job.provider)
    method = getattr(provider, "adapter_for_serving", None)
    if method is None:
        raise NotSupportedError(
            f"{provider.name} jobs cannot be served by ftbridge serve: that provider serves its "
            "fine-tunes itself (use its endpoint)"
        )
    found = cast("ServableAdapter", method(job.snapshot, job.spec))
    return ServableAdapter(name or job.id, found.path, found.base_model)


def resolve_refs(refs: Iterable[str]) -> list[ServableAdapter]:
    """``REF`` or ``NAME=REF`` job references, as adapters named by ``NAME`` (else the job id)."""
    out = []
    for item in refs:
        name, sep, ref = item.partition("=")
        out.append(_adapter_of_job(name if sep else None, ref if sep else item))
    return out


def build_spec(
    refs: Iterable[str] = (),
    *,
    base: str | None = None,
    adapters: Mapping[str, str] | None = None,
    host: str = "127.0.0.1",
    port: int = 8000,
    api_key: str | None = None,
    max_batch: int = 16,
    max_loaded: int = 8,
    max_tokens: int = 4096,
    log_prompts: bool = False,
) -> ServeSpec:
    """The spec for ``refs`` and ``adapters``; the base defaults to the one the jobs share."""
    found = resolve_refs(refs)
    found += [ServableAdapter(n, str(p)) for n, p in (adapters or {}).items()]
    names = [a.name for a in found]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(f"adapter name(s) given twice: {', '.join(dupes)}; use NAME=REF")
    if base is None:
        bases = sorted({a.base_model for a in found if a.base_model})
        if len(bases) > 1:
            raise ConfigError(
                "these adapters were trained on different base models "
                f"({', '.join(bases)}); one server serves one base: pass --base and the "
                "adapters trained on it"
            )
        base = bases[0] if bases else None
    if base is None:
        raise ConfigError("nothing to serve: pass job ids, or --base MODEL (and --adapter ...)")
    for number, label in ((max_batch, "max_batch"), (max_loaded, "max_loaded")):
        if number < 1:
            raise ConfigError(f"{label} must be at least 1 (got {number})")
    if not 0 <= port <= 65535:
        raise ConfigError(f"port must be 0..65535 (got {port})")
    key = api_key if api_key is not None else os.environ.get(API_KEY_ENV) or None
    return ServeSpec(
        base=base,
        adapters=tuple(found),
        host=host,
        port=port,
        api_key=key,
        max_batch=max_batch,
        max_loaded=max_loaded,
        max_tokens=max_tokens,
        log_prompts=log_prompts,
    )


class Server:
    """A started server. ``base_url`` is what ``openai.OpenAI(base_url=...)`` takes."""

    def __init__(self, running: RunningServer, spec: ServeSpec, engine: str) -> None:
        self._running = running
        self.spec = spec
        self.engine = engine
        self.url = running.url.rstrip("/")
        self.base_url = self.url + "/v1"

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the server stops (True) or ``timeout`` passes (False)."""
        return self._running.join(timeout)

    def close(self) -> None:
        self._running.close()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Server {self.engine} at {self.base_url}>"


def serve(
    *refs: str,
    base: str | None = None,
    adapters: Mapping[str, str] | None = None,
    host: str = "127.0.0.1",
    port: int = 8000,
    engine: str = "auto",
    api_key: str | None = None,
    max_batch: int = 16,
    max_loaded: int = 8,
    max_tokens: int = 4096,
    log_prompts: bool = False,
    ready_timeout: float = 600.0,
) -> Server:
    """Start an OpenAI-compatible server for fine-tuned adapters on one base model.

    >>> server = ftbridge.serve("local:ft-0123456789abcdef", port=0)   # 0: any free port
    >>> server.base_url
    'http://127.0.0.1:54321/v1'
    >>> server.close()

    ``refs`` are job ids (``NAME=REF`` names the adapter); ``adapters`` maps names to adapter
    directories. ``api_key`` (or ``$FTBRIDGE_SERVE_API_KEY``) makes every route but ``/health``
    require ``Authorization: Bearer <key>``. Returns once the server answers ``/health``.
    """
    spec = build_spec(
        refs,
        base=base,
        adapters=adapters,
        host=host,
        port=port,
        api_key=api_key,
        max_batch=max_batch,
        max_loaded=max_loaded,
        max_tokens=max_tokens,
        log_prompts=log_prompts,
    )
    cls = engine_class(engine)
    running = cls().start(spec)
    try:
        running.wait_ready(ready_timeout)
    except BaseException:
        running.close()
        raise
    return Server(running, spec, cls.name)

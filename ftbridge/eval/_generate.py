"""Generating replies for many prompts: cached, concurrent for remote models, batched locally.

    from ftbridge.eval import generate, GenerationCache

    replies = generate(handle, [example.prompt for example in examples],
                       {"max_tokens": 64}, concurrency=8, cache=True)
    [r.text for r in replies]          # None where a generation failed; r.error says why

- Settings: temperature 0 unless given; ``seed`` passed to the handle when set. A prompt that
  occurs twice is asked once.
- Cache: a :class:`GenerationCache` (``cache=True``: the default one under ``$FTBRIDGE_HOME``).
  Every success is stored as soon as it arrives, so an interrupted run resumes where it
  stopped. A handle with an empty ``name`` has no identity to key on and is not cached.
- A handle with a ``chat_batch(conversations, **settings)`` method (the local one) gets the
  prompts in batches of ``batch_size``, shortest first (less padding); any other handle is
  called from ``concurrency`` threads.
- Rate limits: a handle's ``InferenceError`` chained to a ``TransientProviderError`` (how the
  providers report a 429, a 5xx or a dropped connection), or such an error itself, is retried
  with the core's backoff, after exactly the ``Retry-After`` the provider sent when it sent one.
  A generation that still fails is returned with its error, never raised.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

import orjson

from .._exceptions import FtbridgeError, TransientProviderError
from .._polling import PollPolicy, call_with_retries
from .._progress import progress as progress_bar
from .._provider import Generation, ModelHandle
from .._secrets import scrub
from ._cache import Generated, GenerationCache

log = logging.getLogger("ftbridge")

Prompt = Sequence[Mapping[str, Any]]
RETRY = PollPolicy(retry_attempts=6, retry_initial=0.5, retry_max_wait=60.0)
_SETTINGS = ("max_tokens", "temperature", "top_p", "stop", "seed")


def generation_of(
    value: Generation | Mapping[str, Any] | None, seed: int | None = None
) -> Generation:
    """The settings to generate with: temperature 0 unless given, ``seed`` when none is set."""
    if isinstance(value, Generation):
        gen = value
    else:
        given = dict(value or {})
        unknown = sorted(set(given) - set(_SETTINGS))
        if unknown:
            from .._exceptions import ConfigError

            raise ConfigError(
                f"unknown generation setting(s) {', '.join(unknown)}; known: {', '.join(_SETTINGS)}"
            )
        gen = Generation.of(**given)
    if gen.temperature is None:
        gen = Generation(gen.max_tokens, 0.0, gen.top_p, gen.stop, gen.seed)
    if gen.seed is None and seed is not None:
        gen = Generation(gen.max_tokens, gen.temperature, gen.top_p, gen.stop, seed)
    from .._chat_input import check_settings  # the seed given apart, or a Generation built whole

    check_settings(gen.max_tokens, gen.temperature, gen.top_p, list(gen.stop), gen.seed)
    return gen


def _kwargs(gen: Generation) -> dict[str, Any]:
    return {
        "max_tokens": gen.max_tokens,
        "temperature": gen.temperature,
        "top_p": gen.top_p,
        "stop": list(gen.stop) or None,
        "seed": gen.seed,
    }


def transient_cause(exc: BaseException) -> TransientProviderError | None:
    """The ``TransientProviderError`` ``exc`` is or is chained to, if any."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, TransientProviderError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def _describe(exc: BaseException) -> str:
    text = str(exc) if isinstance(exc, FtbridgeError) else f"{type(exc).__name__}: {exc}"
    return scrub(text.strip() or type(exc).__name__)


def _one(handle: ModelHandle, prompt: Prompt, gen: Generation, policy: PollPolicy) -> Generated:
    """One reply, retried while the failure is a passing one."""

    def attempt() -> Any:
        try:
            return handle.chat(prompt, **_kwargs(gen))
        except TransientProviderError:
            raise
        except Exception as exc:
            cause = transient_cause(exc)
            if cause is None:
                raise
            raise cause from exc

    started = time.monotonic()
    try:
        result = call_with_retries(attempt, policy)
    except Exception as exc:
        return Generated(text=None, error=_describe(exc), seconds=time.monotonic() - started)
    usage = result.usage.model_dump() if getattr(result, "usage", None) is not None else None
    return Generated(
        text=result.text,
        finish_reason=result.finish_reason,
        usage=usage,
        seconds=time.monotonic() - started,
    )


def _batched(
    handle: Any,
    items: list[tuple[int, Prompt]],
    gen: Generation,
    policy: PollPolicy,
    batch_size: int,
    done: Callable[[int, Generated], None],
) -> None:
    order = sorted(items, key=lambda item: sum(len(str(m.get("content", ""))) for m in item[1]))
    for start in range(0, len(order), batch_size):
        chunk = order[start : start + batch_size]
        began = time.monotonic()
        try:
            results = handle.chat_batch([p for _, p in chunk], **_kwargs(gen))
        except Exception as exc:  # one bad prompt must not fail its neighbours: one at a time
            log.debug("batch of %d failed (%s); generating one by one", len(chunk), exc)
            for index, prompt in chunk:
                done(index, _one(handle, prompt, gen, policy))
            continue
        seconds = (time.monotonic() - began) / max(1, len(chunk))
        for (index, _), result in zip(chunk, results, strict=True):
            usage = result.usage.model_dump() if result.usage is not None else None
            done(
                index,
                Generated(result.text, None, result.finish_reason, usage, seconds=seconds),
            )


def _threaded(
    handle: ModelHandle,
    items: list[tuple[int, Prompt]],
    gen: Generation,
    policy: PollPolicy,
    concurrency: int,
    done: Callable[[int, Generated], None],
    keep: Callable[[int, Generated], None],
) -> None:
    """``keep`` stores a reply in the worker that got it, so a reply that arrives while the
    run is being interrupted is not lost (and not paid for twice on the next run)."""

    def work(index: int, prompt: Prompt) -> Generated:
        generated = _one(handle, prompt, gen, policy)
        keep(index, generated)
        return generated

    if concurrency <= 1:
        for index, prompt in items:
            done(index, work(index, prompt))
        return
    pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="ftbridge-eval")
    try:
        pending: dict[Future[Generated], int] = {
            pool.submit(work, index, prompt): index for index, prompt in items
        }
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                done(pending.pop(future), future.result())
    finally:  # interrupted: drop what has not started, keep what is already on its way
        pool.shutdown(wait=True, cancel_futures=True)


def generate(
    handle: ModelHandle,
    prompts: Sequence[Prompt],
    generation: Generation | Mapping[str, Any] | None = None,
    *,
    concurrency: int = 8,
    cache: GenerationCache | bool | None = True,
    batch_size: int = 16,
    progress: bool | None = None,
    desc: str | None = None,
    retry: PollPolicy | None = None,
) -> list[Generated]:
    """One :class:`Generated` per prompt, in order. See the module docstring."""
    if concurrency < 1 or batch_size < 1:
        from .._exceptions import ConfigError

        raise ConfigError("concurrency and batch_size must be at least 1")
    gen = generation_of(generation)
    policy = retry or RETRY
    name = handle.name
    if cache is not False and cache is not None and not name:
        log.warning("%r has no name: its generations are not cached", handle)
        cache = None
    store: GenerationCache | None = GenerationCache() if cache is True else (cache or None)
    keys = [GenerationCache.key(name, p, gen) for p in prompts] if store is not None else []
    out: list[Generated | None] = [None] * len(prompts)
    if store is not None:
        known = store.get_many(keys)
        for i, key in enumerate(keys):
            out[i] = known.get(key)
    # the same prompt twice is asked once (a set may repeat a question; the judge its pairs)
    idents: Sequence[Any] = keys or [
        orjson.dumps([dict(m) for m in p], option=orjson.OPT_SORT_KEYS) for p in prompts
    ]
    first: dict[Any, int] = {}
    repeats: dict[int, list[int]] = {}
    todo: list[tuple[int, Prompt]] = []
    for i, g in enumerate(out):
        if g is None:
            if idents[i] in first:
                repeats.setdefault(first[idents[i]], []).append(i)
            else:
                first[idents[i]] = i
                todo.append((i, prompts[i]))
    try:
        with progress_bar(
            total=len(prompts), desc=desc or "generating", unit="ex", enabled=progress
        ) as bar:
            bar.update(len(prompts) - len(todo) - sum(len(r) for r in repeats.values()))
            failures = 0

            def keep(index: int, generated: Generated) -> None:
                if store is not None:
                    store.put(keys[index], name, generated)

            def done(index: int, generated: Generated) -> None:
                nonlocal failures
                copies = [index, *repeats.get(index, ())]
                for i in copies:
                    out[i] = generated
                if not generated.ok:
                    failures += len(copies)
                    bar.note(f"{failures} failed")
                bar.update(len(copies))

            batch = getattr(handle, "chat_batch", None)
            if callable(batch) and batch_size > 1:

                def kept(index: int, generated: Generated) -> None:
                    keep(index, generated)
                    done(index, generated)

                _batched(handle, todo, gen, policy, batch_size, kept)
            else:
                _threaded(handle, todo, gen, policy, concurrency, done, keep)
    finally:
        if cache is True and store is not None:
            store.close()
    return [g for g in out if g is not None]

"""The models of an evaluation: display names, what each refers to, and their open handles."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .._exceptions import ConfigError, FtbridgeError, JobNotSucceededError
from .._job import Job
from .._open import find_job, model_of_job, open_model
from .._provider import ModelHandle
from ._report import ModelInfo

ModelRef = str | Job | ModelHandle


@dataclass
class Opened:
    """A model ready to generate: its handle, where it came from, whether we must close it."""

    name: str
    handle: ModelHandle
    info: ModelInfo
    job: Job | None
    owned: bool

    def close(self) -> None:
        if self.owned:
            with contextlib.suppress(Exception):  # best effort: the report is what matters
                self.handle.close()


def describe(ref: Any) -> str:
    if isinstance(ref, Job):
        return ref.id
    if isinstance(ref, ModelHandle):
        return ref.name or repr(ref)
    return str(ref)


def named_refs(
    models: Mapping[str, ModelRef] | Sequence[ModelRef] | ModelRef,
) -> list[tuple[str, ModelRef]]:
    """``[(display name, ref), ...]`` from a mapping, or a sequence (names are the refs)."""
    if isinstance(models, (str, Job, ModelHandle)):
        models = [models]
    pairs = (
        [(str(k), v) for k, v in models.items()]
        if isinstance(models, Mapping)
        else [(describe(ref), ref) for ref in models]
    )
    if not pairs:
        raise ConfigError("no models to evaluate: pass {name: ref, ...}")
    names = [n for n, _ in pairs]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(f"two models are named {dupes[0]!r}; give each a distinct name")
    for name, _ in pairs:
        if not name.strip():
            raise ConfigError("a model's display name must not be empty")
    return pairs


def open_one(name: str, ref: ModelRef) -> Opened:
    """Open ``ref``; a bad one is an error naming the model, raised before any generation."""
    job = ref if isinstance(ref, Job) else find_job(ref) if isinstance(ref, str) else None
    try:
        handle = model_of_job(job) if job is not None else open_model(ref)
    except JobNotSucceededError as exc:
        raise JobNotSucceededError(f"model {name!r}: {exc}", job_id=exc.job_id) from exc
    except FtbridgeError as exc:
        raise ConfigError(f"model {name!r} ({describe(ref)}): {exc}") from exc
    identity = handle.name or ""
    info = ModelInfo(
        name=name,
        ref=describe(ref),
        handle=identity,
        job=job.id if job is not None else None,
        cached=bool(identity),
    )
    return Opened(name, handle, info, job, owned=not isinstance(ref, ModelHandle))


def open_all(pairs: Sequence[tuple[str, ModelRef]]) -> list[Opened]:
    opened: list[Opened] = []
    try:
        for name, ref in pairs:
            opened.append(open_one(name, ref))
    except BaseException:
        for o in opened:
            o.close()
        raise
    return opened

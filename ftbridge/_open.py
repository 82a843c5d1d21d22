"""``ftbridge.open_model``: a model handle from a job, a job id, or ``PROVIDER:MODEL``.

    base = ftbridge.open_model("openai:gpt-4.1-mini")       # any model a provider serves by name
    tuned = ftbridge.open_model("local:ft-0123456789")       # a job in the store (or a prefix)
    with ftbridge.open_model("local:./models/tiny") as model:
        print(model.chat([{"role": "user", "content": "hi"}]).text)

The job store is looked up first; a reference that names no job there is ``PROVIDER:MODEL`` and
goes to the provider's optional ``open_named_model(model)``. The core knows no provider: each
one says through that method what it can serve by name.
"""

from __future__ import annotations

from typing import Any

from ._exceptions import ConfigError, JobNotSucceededError, NotSupportedError
from ._job import Job
from ._models import JobStatus
from ._provider import ModelHandle

# What a model reference may be, for error messages.
REF_FORMS = (
    "a job id from `ftbridge jobs` (or an unambiguous prefix), a Job, a ModelHandle, or "
    "PROVIDER:MODEL (local:./models/tiny, openai:gpt-4.1-mini, together:<model name>)"
)


def find_job(ref: str) -> Job | None:
    """The stored job ``ref`` names (full id, key or unambiguous prefix), or None; a prefix of
    several jobs is an error that lists them."""
    from ._api import get_job, list_jobs
    from ._exceptions import JobNotFoundError

    try:
        return get_job(ref)
    except JobNotFoundError:
        pass
    matches = [j.id for j in list_jobs() if j.id.startswith(ref) or j.native_id.startswith(ref)]
    if len(matches) > 1:
        shown = ", ".join(matches[:5]) + (", ..." if len(matches) > 5 else "")
        raise ConfigError(f"{ref!r} matches {len(matches)} jobs ({shown}); give more of the id")
    return None


def model_of_job(job: Job) -> ModelHandle:
    """The job's model, with a clear error when the job has not succeeded (no provider call
    is made for a job the store already knows ended otherwise)."""
    status = job.status
    if status.is_terminal and status is not JobStatus.SUCCEEDED:
        raise JobNotSucceededError(
            f"job {job.id} is {status.value}; only a succeeded job has a model to evaluate",
            job_id=job.id,
        )
    return job.model()


def split_ref(ref: str) -> tuple[str, str]:
    """``"openai:gpt-4.1-mini"`` -> ``("openai", "gpt-4.1-mini")``; a clear error otherwise."""
    provider, sep, model = ref.partition(":")
    if not sep or not provider or not model:
        raise ConfigError(
            f"no job {ref!r} in the job store, and it is not PROVIDER:MODEL; use {REF_FORMS}"
        )
    return provider, model


def open_model(ref: str | Job | ModelHandle, **settings: Any) -> ModelHandle:
    """A handle on the model ``ref`` names. ``settings`` go to the provider (``base_url``...).

    ``ref``: a :class:`ModelHandle` (returned as is), a :class:`Job` (its fine-tuned model), a
    job id in the store (``local:ft-abc``, or an unambiguous prefix), or ``PROVIDER:MODEL``
    for a model the provider serves by name: a base model or a fine-tune not in the store.
    Raises ``JobNotSucceededError`` for a job without a model, ``NotSupportedError`` for a
    provider that cannot open models by name, ``ConfigError`` for anything else unusable.
    """
    if isinstance(ref, ModelHandle):
        return ref
    if isinstance(ref, Job):
        return model_of_job(ref)
    if not isinstance(ref, str) or not ref.strip():
        raise ConfigError(f"a model reference must be {REF_FORMS}; got {ref!r}")
    ref = ref.strip()
    job = find_job(ref)
    if job is not None:
        return model_of_job(job)
    provider_name, model = split_ref(ref)
    from ._registry import get_provider

    provider = get_provider(provider_name, **settings)
    opener = getattr(provider, "open_named_model", None)
    if opener is None:
        raise NotSupportedError(
            f"the {provider_name} provider cannot open a model by name ({ref!r}); "
            "pass one of its jobs instead (`ftbridge jobs` lists them)",
            provider=provider_name,
        )
    handle = opener(model)
    if not isinstance(handle, ModelHandle):
        raise TypeError(f"{provider_name}.open_named_model returned {type(handle).__name__}")
    return handle

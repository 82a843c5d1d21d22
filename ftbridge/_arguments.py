"""What callers pass to the public functions, checked where they enter.

A wrong type (``model=123``, ``options="x"``, ``get_job(None)``) is a :class:`ConfigError` that
says what to pass, not a ``TypeError`` or ``AttributeError`` from deep inside. A job reference
that matches several jobs lists them instead of claiming there is no such job.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from ._chat_input import check_text, check_value
from ._exceptions import ConfigError, JobNotFoundError

if TYPE_CHECKING:
    from ._store import JobRecord, JobStore


def _shown(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text[:40] + '...' if len(text) > 40 else text}"


def text_or_none(name: str, value: Any, what: str) -> None:
    """``value`` must be a non-empty string or None (``what`` says what it names)."""
    if value is None:
        return
    if not isinstance(value, str):
        raise ConfigError(f"{name} must be a string ({what}), not {_shown(value)}")
    if not value.strip():
        raise ConfigError(f"{name} is empty; give {what}")
    check_text(value, name)


def mapping_or_none(name: str, value: Any, model: type[BaseModel] | None = None) -> None:
    """``value`` must be a mapping of names to values (or an instance of ``model``), or None."""
    if value is None:
        return
    if isinstance(value, Mapping):
        check_value(value, name)
        return
    if isinstance(value, BaseModel) and (model is None or isinstance(value, model)):
        return
    example = f'{name}={{"name": value, ...}}'
    raise ConfigError(f"{name} must be a mapping such as {example}, not {_shown(value)}")


def provider_or_none(value: Any) -> None:
    """A provider name, a provider object, or None (the configured default)."""
    if value is None or isinstance(value, str):
        text_or_none("provider", value, "a provider name such as 'openai'")
        return
    if not all(hasattr(value, attr) for attr in ("name", "capabilities", "submit")):
        raise ConfigError(
            f"provider must be a provider name such as 'openai' or a provider object, "
            f"not {_shown(value)}"
        )


def job_reference(value: Any) -> str:
    """A job id or prefix, as ``get_job`` takes it."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(
            "a job is named by its id, a string such as 'openai:ftjob-abc123' (or an "
            f"unambiguous prefix of it), not {_shown(value)}; `ftbridge jobs` lists them"
        )
    check_text(value, "the job id")
    return value.strip()


def matching_job(store: JobStore, ref: str) -> JobRecord:
    """The one job whose id or native id starts with ``ref``; else say none or which ones.

    A job not yet confirmed by its provider is named ``<provider>:<idempotency key>``.
    """
    found = [
        r
        for r in store.query(include_intents=True)
        if (r.id or f"{r.provider}:{r.key}").startswith(ref) or (r.native_id or "").startswith(ref)
    ]
    if len(found) == 1:
        return found[0]
    if not found:
        raise JobNotFoundError(
            f"no job {ref!r} in the job store ({store.path}); `ftbridge jobs` lists them",
            job_id=ref,
        )
    shown = ", ".join(r.id or f"{r.provider}:{r.key}" for r in found[:10])
    more = f" and {len(found) - 10} more" if len(found) > 10 else ""
    raise JobNotFoundError(
        f"{ref!r} matches {len(found)} jobs: {shown}{more}; give more of the id",
        job_id=ref,
    )

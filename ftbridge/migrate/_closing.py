"""Plain-words errors for a provider that closes: no new jobs, or a model shut down."""

from __future__ import annotations

from datetime import date

from .._exceptions import ModelShutDownError, ProviderClosedError, ProviderError
from ._models import ProviderClosing

RETRAIN_HINT = (
    "move a job's data elsewhere with `ftbridge retrain JOB --provider local` (or another provider); "
    "`ftbridge inventory` lists what is at risk"
)


def closed_for_jobs(
    provider: str, closing: ProviderClosing | None, cause: ProviderError, today: date | None = None
) -> ProviderClosedError:
    """The error for a refused job create on a provider that winds fine-tuning down."""
    today = today or date.today()
    said = f"{provider} refused to start a new fine-tuning job ({cause})."
    if closing is not None and closing.new_jobs_end is not None:
        end = closing.new_jobs_end
        verb = "stopped" if end < today else "stops"
        said += (
            f" {provider} {verb} accepting new fine-tuning jobs on {end.isoformat()}"
            f" (source: {closing.source})."
        )
    return ProviderClosedError(
        f"{said} Its existing fine-tunes still answer until their shutdown dates; {RETRAIN_HINT}",
        provider=provider,
        code=cause.code,
        status_code=cause.status_code,
    )


def shut_down(
    provider: str,
    model: str,
    shutdown: date | None,
    closing: ProviderClosing | None,
    today: date | None = None,
) -> ModelShutDownError:
    """The error for a model that no longer answers because its provider retired it."""
    today = today or date.today()
    when = f" on {shutdown.isoformat()}" if shutdown else ""
    source = f" (source: {closing.source})" if closing is not None and shutdown else ""
    return ModelShutDownError(
        f"{provider} shut down {model}{when}{source}: it can no longer answer, so it cannot be "
        "recorded or evaluated. What is still possible: retrain it from its training data with "
        "`ftbridge retrain JOB --provider local` (the job's stored data, or --data FILE), or "
        "train on a golden set recorded earlier with `ftbridge record`"
    )


def is_past(shutdown: date | None, today: date | None = None) -> bool:
    return shutdown is not None and shutdown <= (today or date.today())

"""What OpenAI holds for the account: its fine-tuned models with their shutdown dates, and
OpenAI's announced end of fine-tuning (kept here as data, with its source)."""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import openai

from ftbridge._models import Hyperparameters, JobSnapshot
from ftbridge._paging import Page, paginate
from ftbridge.migrate import ProviderClosing, RemoteModel

from ._errors import mapped

#: OpenAI's deprecations page (notice of 2026-05-07): no new fine-tuning jobs after 2027-01-06;
#: these base models, and every fine-tune built on them, shut down on 2027-01-14.
CLOSING = ProviderClosing(
    new_jobs_end=date(2027, 1, 6),
    model_shutdowns={
        "gpt-4o": date(2027, 1, 14),
        "gpt-4o-mini": date(2027, 1, 14),
        "gpt-4.1": date(2027, 1, 14),
        "gpt-4.1-mini": date(2027, 1, 14),
        "gpt-4.1-nano": date(2026, 10, 23),
    },
    source="https://platform.openai.com/docs/deprecations (OpenAI's deprecations page)",
    announced=date(2026, 5, 7),
)
#: USD per million (input, output) tokens of a fine-tuned model, from OpenAI's pricing page;
#: for ``ftbridge record``'s estimate only.
FINE_TUNED_INFERENCE_PRICES = {
    "gpt-4o-mini": (0.30, 1.20),
    "gpt-4o": (3.75, 15.00),
    "gpt-4.1": (3.00, 12.00),
    "gpt-4.1-mini": (0.80, 3.20),
    "gpt-4.1-nano": (0.20, 0.80),
}
ASSUMED_REPLY_TOKENS = 256


def inference_price(model: str) -> tuple[float, float] | None:
    """The (input, output) price of ``model`` or the fine-tunes of its base, if known."""
    name = model.removeprefix("ft:").split(":")[0]
    for family in sorted(FINE_TUNED_INFERENCE_PRICES, key=len, reverse=True):
        if name == family or name.startswith(family + "-2"):
            return FINE_TUNED_INFERENCE_PRICES[family]
    return None


def _date(value: Any) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _time(seconds: Any) -> datetime | None:
    return datetime.fromtimestamp(seconds, timezone.utc) if seconds else None


def fine_tuned_models(client: openai.OpenAI) -> list[RemoteModel]:
    """Every fine-tuned model of the account: from its succeeded jobs and from ``/v1/models``."""
    from_jobs: dict[str, Any] = {}

    def fetch(cursor: Any) -> Page[Any]:
        with mapped("listing fine-tuning jobs"):
            page = client.fine_tuning.jobs.list(limit=100, after=cursor or openai.omit)
        last = page.data[-1].id if page.data else None
        return Page(page.data, last if page.has_more else None)

    for job in paginate(fetch, key=lambda j: j.id, what="fine-tuning jobs"):
        if job.fine_tuned_model:
            from_jobs[job.fine_tuned_model] = job
    with mapped("listing models"):
        listed = {m.id: m for m in client.models.list().data if m.id.startswith("ft:")}
    out = []
    for name in sorted(set(from_jobs) | set(listed)):
        model = listed.get(name)
        if model is None:  # made by a job but not listed: ask for it alone
            with mapped(f"reading model {name}"):
                try:
                    model = client.models.retrieve(name)
                except openai.NotFoundError:
                    continue  # deleted
        made_by = from_jobs.get(name)
        out.append(
            RemoteModel(
                model=name,
                base_model=made_by.model if made_by is not None else name.split(":")[1],
                created_at=_time(
                    made_by.finished_at or made_by.created_at if made_by else model.created
                ),
                job=made_by.id if made_by is not None else None,
                shutdown_date=_date(getattr(model, "shutdown_date", None)),
            )
        )
    return out


def trained_hyperparameters(snapshot: JobSnapshot) -> Hyperparameters:
    """What OpenAI resolved for a job's "auto" settings, in ftbridge's unified names."""
    hp = snapshot.details.get("hyperparameters") or {}
    names = {
        "n_epochs": "epochs",
        "batch_size": "batch_size",
        "learning_rate_multiplier": "learning_rate_multiplier",
    }
    values: dict[str, Any] = {
        ours: hp[theirs]
        for theirs, ours in names.items()
        if isinstance(hp.get(theirs), (int, float)) and not isinstance(hp.get(theirs), bool)
    }
    if isinstance(snapshot.details.get("seed"), int):
        values["seed"] = snapshot.details["seed"]
    return Hyperparameters.model_validate(values)


def download_training_file(client: openai.OpenAI, snapshot: JobSnapshot, dest: Path) -> bool:
    """Write the training file OpenAI still holds for the job to ``dest``; False if it has none."""
    file_id = snapshot.details.get("training_file")
    if not file_id:
        return False
    with mapped(f"downloading training file {file_id}"):
        content = client.files.content(file_id)
    dest.write_bytes(content.content)
    return True

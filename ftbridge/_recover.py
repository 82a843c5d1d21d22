"""Settling jobs whose submit stopped before the provider confirmed them.

A submit interrupted during its remote create (Ctrl-C, a killed process, a lost connection)
leaves an intent in the job store: ``ftbridge jobs`` shows it as ``pending``. This asks the
provider, by the intent's idempotency key, what became of it: the job it finds is adopted (it
becomes an ordinary job with its provider's id); when there is none, nothing was created (or
billed) and the intent is dropped; while another live process still creates it, it is left
alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ._leases import release, take_over
from ._polling import PollPolicy, call_with_retries
from ._provider import Provider
from ._store import JobRecord, JobStore

Outcome = Literal["adopted", "not_created", "in_flight"]


@dataclass(frozen=True)
class Recovery:
    """What became of one intent. ``record``: the job row once adopted."""

    key: str
    provider: str
    outcome: Outcome
    message: str
    record: JobRecord | None = None

    @property
    def name(self) -> str:
        """How the intent was named while pending (``<provider>:<key>``)."""
        return f"{self.provider}:{self.key}"


def recover_intent(
    store: JobStore, key: str, provider: Provider, policy: PollPolicy | None = None
) -> Recovery:
    """Settle the intent ``key`` with ``provider`` (see the module docstring)."""
    name = f"{provider.name}:{key}"
    claimed = take_over(store, key)
    if claimed is None:
        return Recovery(
            key,
            provider.name,
            "not_created",
            f"job {name} is no longer in the job store: its submit was refused or settled",
        )
    if claimed.verdict == "created":
        record = claimed.record
        return Recovery(key, provider.name, "adopted", f"{name} is job {record.id}", record)
    if claimed.verdict == "waiting":
        owner = claimed.owner.describe() if claimed.owner else "another process"
        return Recovery(
            key,
            provider.name,
            "in_flight",
            f"job {name} is still being created by {owner}",
        )
    try:
        spec = claimed.record.spec
        found = call_with_retries(lambda: provider.reconcile(spec), policy or PollPolicy())
        if found is not None:
            record = store.attach(key, found)
            return Recovery(
                key,
                provider.name,
                "adopted",
                f"{name} was created by {provider.name} as job {record.id}; it is tracked now",
                record,
            )
        store.forget_intent(key)
        return Recovery(
            key,
            provider.name,
            "not_created",
            f"job {name} never reached {provider.name}: its submit stopped before the job was "
            "created, so nothing runs and nothing is billed; it is removed from the job store "
            "(submit it again to start it)",
        )
    finally:
        release(store, key)


def open_intents(store: JobStore, provider: str | None = None) -> list[JobRecord]:
    """Every job not yet confirmed by its provider, oldest first."""
    records = store.query(provider=provider, include_intents=True)
    return sorted((r for r in records if r.is_intent), key=lambda r: r.created_at)

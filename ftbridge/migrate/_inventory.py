"""``ftbridge.inventory()``: every fine-tuned model the configured accounts own, most urgent first.

The list comes from each provider's own listing (``Provider.list_fine_tuned_models``), not only
from the job store; the store adds what it knows (the ftbridge job id, whether the training data
is still at hand). Shutdown dates are the provider's own field; where it gives none the date is
unknown, never guessed.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import date
from pathlib import Path

from .._exceptions import ConfigError, MissingCredentialsError, ProviderNotInstalledError
from .._paths import home
from .._registry import get_provider, list_providers
from .._store import JobRecord, JobStore
from ._models import InventoryItem, ProviderClosing, RemoteModel

log = logging.getLogger("ftbridge")


def _listing_providers(provider: str | None) -> list[str]:
    if provider is not None:
        return [provider]
    return [p.name for p in list_providers() if p.installed]


def stored_dataset(sha256: str, path: str | None = None) -> Path | None:
    """A file on this machine holding exactly the bytes with ``sha256``, or None.

    The canonical copy under ``$FTBRIDGE_HOME/datasets`` first, then the path the job was
    submitted from (checked by hash: a file edited since does not count).
    """
    candidates = [home() / "datasets" / f"{sha256}.jsonl"]
    if path:
        candidates.append(Path(path))
    for candidate in candidates:
        try:
            if candidate.is_file() and _sha256(candidate) == sha256:
                return candidate
        except OSError:
            continue
    return None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _days_left(shutdown: date | None, today: date) -> int | None:
    return None if shutdown is None else (shutdown - today).days


def _match(store_rows: list[JobRecord], provider: str, remote: RemoteModel) -> JobRecord | None:
    for row in store_rows:
        if remote.job and row.native_id == remote.job:
            return row
    for row in store_rows:
        if row.snapshot is not None and row.snapshot.model == remote.model:
            return row
    return None


def inventory(provider: str | None = None, *, today: date | None = None) -> list[InventoryItem]:
    """Fine-tuned models of every configured provider that can list them, most urgent first.

    >>> for item in ftbridge.inventory():
    ...     print(item.model, item.shutdown_date, item.days_left, item.training_data)

    ``provider`` limits it to one provider (its errors are raised then); otherwise providers that
    are not configured (no credentials) or cannot list models are left out.
    """
    today = today or date.today()
    store = JobStore()
    items: list[InventoryItem] = []
    for name in _listing_providers(provider):
        try:
            prov = get_provider(name)
        except (MissingCredentialsError, ProviderNotInstalledError, ConfigError):
            if provider is not None:
                raise
            log.info("inventory: %s is not configured; skipped", name)
            continue
        lister = getattr(prov, "list_fine_tuned_models", None)
        if lister is None:
            if provider is not None:
                raise ConfigError(f"{name} cannot list its fine-tuned models")
            continue
        rows = store.query(provider=name)
        for remote in lister():
            row = _match(rows, name, remote)
            data = "missing"
            if row is not None and stored_dataset(row.spec.training.sha256, row.spec.training.path):
                data = "stored"
            items.append(
                InventoryItem(
                    provider=name,
                    model=remote.model,
                    job=row.id if row is not None else None,
                    base_model=remote.base_model,
                    created_at=remote.created_at,
                    shutdown_date=remote.shutdown_date,
                    days_left=_days_left(remote.shutdown_date, today),
                    training_data=data,  # type: ignore[arg-type]
                )
            )
    items.sort(key=lambda i: (i.days_left is None, i.days_left or 0, i.provider, i.model))
    return items


def closing_notices(provider: str | None = None) -> dict[str, ProviderClosing]:
    """What each installed provider has announced about closing (from its package's data)."""
    from .._registry import provider_class

    notices: dict[str, ProviderClosing] = {}
    for name in _listing_providers(provider):
        try:
            cls = provider_class(name)
        except (ProviderNotInstalledError, ConfigError):
            continue
        closing = getattr(cls, "closing", None)
        if isinstance(closing, ProviderClosing):
            notices[name] = closing
    return notices

"""The data of a migration: models a provider holds for the user, and when a provider closes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RemoteModel(_Frozen):
    """A fine-tuned model as its provider lists it (``Provider.list_fine_tuned_models``)."""

    model: str = Field(description="the name to call it by")
    base_model: str | None = None
    created_at: datetime | None = None
    job: str | None = Field(default=None, description="the provider's id of the job that made it")
    shutdown_date: date | None = Field(
        default=None, description="the provider's own shutdown date; None when it gives none"
    )


class ProviderClosing(_Frozen):
    """What a provider has announced about closing, with where it said so.

    A provider package keeps this as data (``closing`` on its provider class), so that
    ``ftbridge inventory`` and error messages can name the dates without guessing.
    """

    new_jobs_end: date | None = Field(default=None, description="the last day new jobs start")
    model_shutdowns: dict[str, date] = Field(
        default_factory=dict,
        description="base model -> the day it and every fine-tune built on it stop answering",
    )
    source: str = Field(description="where the provider announced it")
    announced: date | None = None

    def shutdown_for(self, base_model: str | None) -> date | None:
        """The announced shutdown of ``base_model`` (a dated snapshot matches its family)."""
        if not base_model:
            return None
        name = base_model.removeprefix("ft:").split(":")[0]
        for family in sorted(self.model_shutdowns, key=len, reverse=True):
            if name == family or name.startswith(family + "-2"):
                return self.model_shutdowns[family]
        return None


class InventoryItem(_Frozen):
    """One fine-tuned model at risk (or not), as ``ftbridge inventory`` lists it."""

    provider: str
    model: str
    job: str | None = Field(default=None, description="the ftbridge job id when the store has it")
    base_model: str | None = None
    created_at: datetime | None = None
    shutdown_date: date | None = None
    days_left: int | None = None
    training_data: Literal["stored", "missing"] = "missing"

    def to_json(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "model": self.model,
            "job": self.job,
            "base_model": self.base_model,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "shutdown_date": self.shutdown_date.isoformat() if self.shutdown_date else None,
            "days_left": self.days_left,
            "training_data": self.training_data,
        }

"""The data ftbridge passes around: job specs, snapshots, events, metrics.

All models are frozen and refuse unknown fields, so a typo in a hyperparameter name is an error
instead of a silently ignored value.
"""

from __future__ import annotations

import enum
from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class JobStatus(str, enum.Enum):
    """One status model for every provider.

    Providers map their own states onto these; an unknown state maps to the nearest
    non-terminal value and the provider's own string is kept in ``JobSnapshot.raw_status``.
    """

    PENDING = "pending"
    VALIDATING = "validating"
    QUEUED = "queued"
    RUNNING = "running"
    PAUSED = "paused"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        return self in _TERMINAL

    def __str__(self) -> str:
        return self.value


_TERMINAL = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED})


Tuning = Literal["full", "lora", "qlora", "dora"]
#: The unified names that shape a LoRA adapter (meaningless for tuning "full").
LORA_SHAPE = ("lora_rank", "lora_alpha", "lora_dropout")
# The largest whole number a seed, a batch size or a rank may be: what every provider and
# library takes (a larger one cannot even be written into the job store's JSON).
INT32_MAX = 2**31 - 1


class Hyperparameters(_Frozen):
    """Unified hyperparameter names; ``None`` means "the provider's default".

    ``batch_size`` is examples per optimizer step on every provider. Numbers must be finite
    (``nan`` and ``inf`` are refused as such, not as out of range).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    epochs: int | None = Field(default=None, ge=1, le=1000)
    batch_size: int | None = Field(default=None, ge=1, le=INT32_MAX)
    learning_rate: float | None = Field(default=None, gt=0, lt=1)
    learning_rate_multiplier: float | None = Field(default=None, gt=0)
    warmup_ratio: float | None = Field(default=None, ge=0, le=1)
    seed: int | None = Field(default=None, ge=0, le=INT32_MAX)
    tuning: Tuning | None = Field(
        default=None,
        description="what is trained: full (every weight), lora (low-rank adapters), qlora "
        "(LoRA on a 4-bit quantised base), dora (weight-decomposed LoRA)",
    )
    lora_rank: int | None = Field(default=None, ge=1, le=INT32_MAX, description="LoRA rank (r)")
    lora_alpha: float | None = Field(default=None, gt=0, description="LoRA scale numerator")
    lora_dropout: float | None = Field(default=None, ge=0, lt=1, description="LoRA dropout")

    @model_validator(mode="after")
    def _lora_shape_needs_adapters(self) -> Hyperparameters:
        given = [name for name in LORA_SHAPE if getattr(self, name) is not None]
        if self.tuning == "full" and given:
            raise ValueError(
                f"{', '.join(given)} shape LoRA adapters (tuning lora, qlora or dora), and "
                "tuning 'full' trains no adapter: drop them or choose an adapter tuning"
            )
        return self

    def given(self) -> dict[str, Any]:
        """The hyperparameters the user actually set."""
        return {k: v for k, v in self.model_dump().items() if v is not None}


class DatasetRef(_Frozen):
    """Where a validated dataset lives and what it is (enough to upload it again)."""

    path: str
    sha256: str
    format: str
    example_count: int


Method = Literal["sft", "dpo"]


class JobSpec(_Frozen):
    """Everything needed to start (or reconcile) one job. Stored; never holds a secret."""

    provider: str
    model: str
    method: Method = "sft"
    training: DatasetRef
    validation: DatasetRef | None = None
    hyperparameters: Hyperparameters = Hyperparameters()
    suffix: str | None = None
    options: dict[str, Any] = Field(default_factory=dict)
    idempotency_key: str = Field(
        description="Client-side key recorded before the remote create; a retried create with "
        "the same key must find the job instead of starting a second one."
    )
    retrained_from: str | None = Field(
        default=None, description="the ftbridge id of the job whose data this one retrains"
    )


class JobErrorInfo(_Frozen):
    """Why a job failed, in the provider's own words."""

    code: str | None = None
    message: str
    param: str | None = None


class JobSnapshot(_Frozen):
    """What a provider said about a job at one moment."""

    native_id: str
    status: JobStatus
    raw_status: str
    model: str | None = Field(default=None, description="the fine-tuned model's name, when known")
    created_at: datetime | None = None
    finished_at: datetime | None = None
    step: int | None = None
    total_steps: int | None = None
    epoch: float | None = None
    loss: float | None = None
    trained_tokens: int | None = None
    estimated_finish: datetime | None = None
    error: JobErrorInfo | None = None
    details: dict[str, Any] = Field(
        default_factory=dict,
        description="provider-specific, JSON-able facts (file ids, checkpoints, cost so far)",
    )


EventLevel = Literal["debug", "info", "warning", "error"]


class Event(_Frozen):
    """One line of a job's history. ``id`` is unique within the job (used to de-duplicate)."""

    id: str
    time: datetime
    level: EventLevel = "info"
    message: str
    step: int | None = None
    metrics: dict[str, float] = Field(default_factory=dict)


class MetricPoint(_Frozen):
    """The metrics reported at one training step (``train_loss``, ``learning_rate``...)."""

    step: int
    epoch: float | None = None
    values: dict[str, float]


class MetricSeries(_Frozen):
    """All metric points of a job, in step order."""

    points: tuple[MetricPoint, ...] = ()

    def names(self) -> list[str]:
        return sorted({name for p in self.points for name in p.values})

    def series(self, name: str) -> list[tuple[int, float]]:
        """``[(step, value), ...]`` for one metric."""
        return [(p.step, p.values[name]) for p in self.points if name in p.values]

    def last(self, name: str) -> float | None:
        values = self.series(name)
        return values[-1][1] if values else None


class Capabilities(_Frozen):
    """What a provider can do; the core checks requests against it before calling the provider."""

    methods: frozenset[Method] = frozenset({"sft"})
    formats: frozenset[str] = frozenset({"chat"})
    hyperparameters: frozenset[str] = frozenset()
    hyperparameter_hints: dict[str, str] = Field(
        default_factory=dict,
        description="for a unified name the provider cannot honour: what to use instead",
    )
    tunings: frozenset[str] = Field(
        default=frozenset(),
        description="the kinds of tuning the provider trains (values of Hyperparameters.tuning)",
    )
    renamed_options: dict[str, str] = Field(
        default_factory=dict,
        description="old provider option -> the unified hyperparameter that replaced it; the "
        "old spelling still works, with a deprecation warning",
    )
    validation_file: bool = False
    cancel: bool = True
    pause: bool = False
    resume: bool = False
    events: bool = True
    metrics: bool = True
    poll_interval: float | None = Field(
        default=None,
        gt=0,
        description="seconds between status checks that suit this provider when the user sets "
        "no PollPolicy (a local run's state is a file read: it can be checked often)",
    )


class Preflight(_Frozen):
    """A provider's verdict on a job before anything is sent."""

    problems: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    estimates: dict[str, Any] = Field(
        default_factory=dict,
        description="shown to the user before the job starts: cost, memory, time, limits",
    )

    @property
    def ok(self) -> bool:
        return not self.problems


class Usage(_Frozen):
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None

    @classmethod
    def of(cls, counts: Any) -> Usage | None:
        """From an SDK's usage object (``prompt_tokens``, ``completion_tokens``...), or None."""
        if counts is None:
            return None
        return cls(
            prompt_tokens=getattr(counts, "prompt_tokens", None),
            completion_tokens=getattr(counts, "completion_tokens", None),
            total_tokens=getattr(counts, "total_tokens", None),
        )


class ChatResult(_Frozen):
    """One reply of a fine-tuned model."""

    text: str
    finish_reason: str | None = None
    usage: Usage | None = None
    raw: Any = None

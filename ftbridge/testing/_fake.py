"""``FakeProvider``: a provider with no network, for testing code that uses ftbridge.

    provider = FakeProvider(script=[("queued", 0.1), ("running", 0.5), ("succeeded", 0)])
    job = ftbridge.submit("train.jsonl", provider=provider, model="fake-base")
    provider.fail("refresh", ftbridge.RateLimitError("slow down", retry_after=0.1), times=2)
    job.wait()                                   # retried twice, then succeeds
    assert [c.method for c in provider.calls].count("submit") == 1

Jobs advance on the wall clock along their script and live in files under
``$FTBRIDGE_HOME/fake-provider`` (or ``state_dir``), so a job submitted in one process can be
followed, cancelled and chatted with from another. It is registered as the provider ``fake``,
so ``ftbridge submit data.jsonl --provider fake --model fake-base`` works too.
"""

from __future__ import annotations

import math
import os
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import orjson
from pydantic import BaseModel, ConfigDict, Field

from .._exceptions import InferenceError, ProviderNotFoundError
from .._models import (
    Capabilities,
    ChatResult,
    Event,
    JobErrorInfo,
    JobSnapshot,
    JobSpec,
    JobStatus,
    MetricPoint,
    Preflight,
    Usage,
)
from .._paths import subdir
from .._provider import Generation, Message, ModelHandle

if TYPE_CHECKING:
    from ..validation import ValidatedDataset

Script = Sequence[tuple[str, float]]

DEFAULT_SCRIPT: tuple[tuple[str, float], ...] = (
    ("validating", 0.05),
    ("queued", 0.05),
    ("running", 0.3),
    ("succeeded", 0.0),
)

STATUS_MAP: dict[str, JobStatus] = {s.value: s for s in JobStatus}


class FakeOptions(BaseModel):
    """Per-job knobs of the fake provider."""

    model_config = ConfigDict(extra="forbid")

    script: list[tuple[str, float]] | None = Field(
        default=None, description="[(raw status, seconds in it), ...]; the last one stays"
    )
    total_steps: int = Field(default=10, ge=1)
    error: JobErrorInfo | None = Field(default=None, description="reported when the job fails")


class _FakeSettings(BaseModel):
    """``[providers.fake]`` of ``ftbridge.toml``. Other names are taken and never used, as a
    real provider's key or settings would be (tests of secret scrubbing pass some)."""

    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)

    script: list[tuple[str, float]] | None = None
    total_steps: int = Field(default=10, ge=1)
    state_dir: str | None = None
    create_delay: float = Field(default=0.0, ge=0)


@dataclass
class Call:
    """One recorded provider call."""

    method: str
    target: str | None
    time: float = field(default_factory=time.monotonic)


@dataclass
class _Failure:
    error: BaseException
    times: int
    after_effect: bool


def _now() -> float:
    return time.time()


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, timezone.utc)


class FakeProvider:
    """A scripted, file-backed provider. See the module docstring."""

    name: ClassVar[str] = "fake"
    capabilities: ClassVar[Capabilities] = Capabilities(
        methods=frozenset({"sft", "dpo"}),
        formats=frozenset({"chat", "preference", "instruction", "text"}),
        hyperparameters=frozenset(
            {"epochs", "batch_size", "learning_rate", "warmup_ratio", "seed"}
        ),
        hyperparameter_hints={
            "learning_rate_multiplier": "the fake provider takes an absolute learning_rate"
        },
        validation_file=True,
        pause=True,
        resume=True,
    )
    options_model: ClassVar[type[BaseModel]] = FakeOptions

    def __init__(
        self,
        *,
        script: Script | None = None,
        total_steps: int = 10,
        state_dir: str | Path | None = None,
        name: str | None = None,
        create_delay: float = 0.0,
    ) -> None:
        self.script = tuple(script or DEFAULT_SCRIPT)
        #: Seconds each ``submit`` takes before the job exists: a slow remote create.
        self.create_delay = float(create_delay)
        self.total_steps = total_steps
        self.state_dir = Path(state_dir) if state_dir else subdir("fake-provider")
        self.state_dir.mkdir(parents=True, exist_ok=True)
        if name:
            self.name = name  # type: ignore[misc]
        self.calls: list[Call] = []
        self._failures: dict[str, list[_Failure]] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_config(cls, settings: Mapping[str, Any]) -> FakeProvider:
        from pydantic import ValidationError

        from .._exceptions import ConfigError

        try:
            given = _FakeSettings.model_validate(dict(settings))
        except ValidationError as exc:  # "script = 5" was a TypeError even for config show
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in exc.errors()
            )
            raise ConfigError(f"[providers.fake]: {problems}") from None
        return cls(
            script=given.script,
            total_steps=given.total_steps,
            state_dir=given.state_dir,
            create_delay=given.create_delay,
        )

    def describe_config(self) -> dict[str, Any]:
        return {"state_dir": str(self.state_dir), "script": [list(s) for s in self.script]}

    # -- test controls --------------------------------------------------------------------------

    def fail(
        self, method: str, error: BaseException, *, times: int = 1, after_effect: bool = False
    ) -> None:
        """Make the next ``times`` calls of ``method`` raise ``error``.

        With ``after_effect=True`` the call does its work first and then raises: a create whose
        response was lost on the way back.
        """
        with self._lock:
            self._failures.setdefault(method, []).append(_Failure(error, times, after_effect))

    def count(self, method: str) -> int:
        return sum(1 for c in self.calls if c.method == method)

    def _enter(self, method: str, target: str | None) -> _Failure | None:
        with self._lock:
            self.calls.append(Call(method, target))
            queue = self._failures.get(method)
            if not queue:
                return None
            failure = queue[0]
            failure.times -= 1
            if failure.times <= 0:
                queue.pop(0)
        if not failure.after_effect:
            raise failure.error
        return failure

    # -- state files ----------------------------------------------------------------------------

    def _path(self, native_id: str) -> Path:
        return self.state_dir / f"{native_id}.json"

    def _load(self, native_id: str) -> dict[str, Any]:
        try:
            return dict(orjson.loads(self._path(native_id).read_bytes()))
        except FileNotFoundError:
            raise ProviderNotFoundError(
                f"no fake job {native_id!r}", provider=self.name, status_code=404
            ) from None

    def _save(self, state: dict[str, Any]) -> None:
        path = self._path(state["id"])
        tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_bytes(orjson.dumps(state))
        os.replace(tmp, path)

    # -- the timeline ---------------------------------------------------------------------------

    @staticmethod
    def _timeline(state: dict[str, Any], now: float) -> list[tuple[str, float]]:
        """``[(raw status, entered at), ...]`` up to ``now``."""
        t = state["created"] + state.get("paused_total", 0.0)
        entered: list[tuple[str, float]] = []
        for raw, seconds in state["script"]:
            if t > now and entered:
                break
            entered.append((raw, t))
            t += seconds
        for key, raw in (("paused_at", "paused"), ("cancelled_at", "cancelled")):
            at = state.get(key)
            if at is not None and at <= now:
                before = [e for e in entered if e[1] <= at]
                if before and STATUS_MAP.get(before[-1][0], JobStatus.RUNNING).is_terminal:
                    continue  # it had already finished
                entered = [*before, (raw, at)]
        return entered

    def _snapshot(self, state: dict[str, Any], now: float | None = None) -> JobSnapshot:
        now = _now() if now is None else now
        timeline = self._timeline(state, now)
        raw, entered = timeline[-1]
        status = STATUS_MAP.get(raw, JobStatus.RUNNING)
        total = state["total_steps"]
        step = self._step(state, timeline, now)
        loss = self._loss(step, total) if step else None
        error = None
        if status is JobStatus.FAILED:
            error = JobErrorInfo.model_validate(
                state.get("error") or {"code": "fake_failure", "message": "scripted failure"}
            )
        return JobSnapshot(
            native_id=state["id"],
            status=status,
            raw_status=raw,
            model=f"fake:{state['model']}:{state['id']}" if status is JobStatus.SUCCEEDED else None,
            created_at=_dt(state["created"]),
            finished_at=_dt(entered) if status.is_terminal else None,
            step=step,
            total_steps=total,
            loss=loss,
            error=error,
            details={"key": state["key"]},
        )

    @staticmethod
    def _step(state: dict[str, Any], timeline: list[tuple[str, float]], now: float) -> int:
        total = state["total_steps"]
        span = next(
            (
                (t, s)
                for (raw, s), (r2, t) in zip(state["script"], timeline, strict=False)
                if raw == "running"
            ),
            None,
        )
        if span is None:
            return 0
        started, seconds = span
        if timeline[-1][0] == "succeeded":
            return int(total)
        end = timeline[-1][1] if timeline[-1][0] != "running" else now
        frac = 1.0 if seconds <= 0 else max(0.0, min(1.0, (end - started) / seconds))
        return int(total * frac)

    @staticmethod
    def _loss(step: int, total: int) -> float:
        return round(2.0 * math.exp(-2.0 * step / total) + 0.1, 6)

    # -- the Provider protocol ------------------------------------------------------------------

    def preflight(self, dataset: ValidatedDataset, spec: JobSpec) -> Preflight:
        self._enter("preflight", spec.idempotency_key)
        return Preflight(estimates={"examples": dataset.example_count, "cost_usd": 0.0})

    def submit(self, dataset: ValidatedDataset, spec: JobSpec) -> JobSnapshot:
        failure = self._enter("submit", spec.idempotency_key)
        if self.create_delay:
            time.sleep(self.create_delay)
        opts = FakeOptions.model_validate(spec.options)
        state = {
            "id": f"fakejob-{uuid.uuid4().hex[:12]}",
            "key": spec.idempotency_key,
            "model": spec.model,
            "created": _now(),
            "script": [list(s) for s in (opts.script or self.script)],
            "total_steps": opts.total_steps if "total_steps" in spec.options else self.total_steps,
            "error": opts.error.model_dump() if opts.error else None,
            "examples": dataset.example_count,
        }
        self._save(state)
        if failure is not None:
            raise failure.error
        return self._snapshot(state)

    def reconcile(self, spec: JobSpec) -> JobSnapshot | None:
        self._enter("reconcile", spec.idempotency_key)
        for path in self.state_dir.glob("*.json"):
            try:
                state = orjson.loads(path.read_bytes())
            except (OSError, orjson.JSONDecodeError):
                continue
            if state.get("key") == spec.idempotency_key:
                return self._snapshot(state)
        return None

    def refresh(self, native_id: str) -> JobSnapshot:
        self._enter("refresh", native_id)
        return self._snapshot(self._load(native_id))

    def cancel(self, native_id: str) -> JobSnapshot:
        self._enter("cancel", native_id)
        state = self._load(native_id)
        if not self._snapshot(state).status.is_terminal and state.get("cancelled_at") is None:
            state["cancelled_at"] = _now()
            self._save(state)
        return self._snapshot(state)

    def pause(self, native_id: str) -> JobSnapshot:
        self._enter("pause", native_id)
        state = self._load(native_id)
        if not self._snapshot(state).status.is_terminal and state.get("paused_at") is None:
            state["paused_at"] = _now()
            self._save(state)
        return self._snapshot(state)

    def resume(self, native_id: str) -> JobSnapshot:
        self._enter("resume", native_id)
        state = self._load(native_id)
        paused_at = state.pop("paused_at", None)
        if paused_at is not None:
            state["paused_total"] = state.get("paused_total", 0.0) + _now() - paused_at
            self._save(state)
        return self._snapshot(state)

    def events(self, native_id: str, *, after: str | None = None) -> list[Event]:
        self._enter("events", native_id)
        state = self._load(native_id)
        now = _now()
        timeline = self._timeline(state, now)
        out = [
            Event(
                id=f"status-{i}",
                time=_dt(t),
                message=f"status: {raw}",
                level="error" if raw == "failed" else "info",
            )
            for i, (raw, t) in enumerate(timeline)
        ]
        total = state["total_steps"]
        last = self._step(state, timeline, now)
        run_start = next((t for raw, t in timeline if raw == "running"), state["created"])
        for step in range(1, last + 1):
            loss = self._loss(step, total)
            out.append(
                Event(
                    id=f"step-{step}",
                    time=_dt(run_start + step * 1e-6),
                    message=f"step {step}/{total}: loss {loss}",
                    step=step,
                    metrics={"train_loss": loss},
                )
            )
        out.sort(key=lambda e: e.time)
        if after is not None:
            ids = [e.id for e in out]
            out = out[ids.index(after) + 1 :] if after in ids else out
        return out

    def metrics(self, native_id: str) -> list[MetricPoint]:
        self._enter("metrics", native_id)
        state = self._load(native_id)
        now = _now()
        last = self._step(state, self._timeline(state, now), now)
        total = state["total_steps"]
        return [
            MetricPoint(step=s, epoch=s / total, values={"train_loss": self._loss(s, total)})
            for s in range(1, last + 1)
        ]

    def open_model(self, snapshot: JobSnapshot, spec: JobSpec) -> ModelHandle:
        self._enter("open_model", snapshot.native_id)
        if snapshot.model is None:
            raise InferenceError(f"fake job {snapshot.native_id} has no model")
        return FakeModelHandle(snapshot.model)

    def open_named_model(self, model: str) -> ModelHandle:
        """A handle on a model by name: ``open_model("fake:base")`` talks to ``fake:base``."""
        self._enter("open_named_model", model)
        return FakeModelHandle(f"{self.name}:{model}")


class FakeModelHandle(ModelHandle):
    """Replies ``"<model> heard: <last user message>"``, deterministically."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.closed = False

    def _reply(self, messages: Sequence[Message], params: Generation) -> str:
        if self.closed:
            raise InferenceError("this model handle is closed")
        user = next((m for m in reversed(messages) if m.get("role") == "user"), None)
        if user is None:
            raise InferenceError("messages need at least one user message")
        words = f"{self.name} heard: {user.get('content')}".split()
        text = " ".join(words[: params.max_tokens] if params.max_tokens else words)
        for s in params.stop:
            text = text.split(s)[0]
        return text

    def _chat(self, messages: Sequence[Message], params: Generation) -> ChatResult:
        text = self._reply(messages, params)
        n = len(text.split())
        return ChatResult(
            text=text,
            finish_reason="stop",
            raw={"text": text},
            usage=Usage(
                prompt_tokens=len(messages), completion_tokens=n, total_tokens=len(messages) + n
            ),
        )

    def _stream(self, messages: Sequence[Message], params: Generation) -> Iterator[str]:
        words = self._reply(messages, params).split(" ")
        for i, word in enumerate(words):
            yield word if i == 0 else " " + word

    def close(self) -> None:
        self.closed = True

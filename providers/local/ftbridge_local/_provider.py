"""``LocalProvider``: fine-tuning on this machine, followed exactly like a remote job.

::

    import ftbridge

    job = ftbridge.submit("data.jsonl", provider="local", model="./models/tiny",
                          hyperparameters={"epochs": 3, "learning_rate": 2e-4},
                          hyperparameters={"tuning": "qlora", "lora_rank": 16})
    job.wait()
    print(job.model().chat([{"role": "user", "content": "hi"}]).text)

A job is a run directory under ``$FTBRIDGE_HOME/runs/`` plus a detached worker process; every
method here reads or signals that directory and returns at once.
"""

from __future__ import annotations

import shutil
import signal
import time
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import ValidationError

from ftbridge._exceptions import (
    ConfigError,
    JobNotSucceededError,
    OptionsError,
    ProviderNotFoundError,
    RequestRejectedError,
)
from ftbridge._models import (
    Capabilities,
    Event,
    JobErrorInfo,
    JobSnapshot,
    JobSpec,
    JobStatus,
    MetricPoint,
    Preflight,
)

from . import _launch
from ._data import template_file
from ._options import FORMATS, RENAMED_OPTIONS, LocalOptions
from ._runs import MODEL_META, RunDir, now_iso, read_json, run_id_for, write_json_atomic

if TYPE_CHECKING:
    from ftbridge._serving import ServableAdapter
    from ftbridge.validation import ValidatedDataset

    from ._handle import LocalModelHandle

_TERMINAL = {"succeeded", "failed", "cancelled"}
# A run whose worker has not written its pid yet counts as starting for this long.
_START_GRACE_S = 60.0


def _model_dir_for(model: str) -> Path:
    """The directory of a model named by path or by Hugging Face hub id."""
    path = Path(model).expanduser()
    if path.is_dir():
        return path.resolve()
    looks_like_hub_id = model.count("/") == 1 and not model.startswith((".", "/", "~"))
    if not looks_like_hub_id:
        raise ConfigError(
            f"no local model directory {model!r} (from {Path.cwd()}); give a directory with a "
            "Hugging Face model or a run, or a hub id such as Qwen/Qwen2.5-0.5B-Instruct"
        )
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(model))
    except Exception as exc:  # offline, unknown repo, no access: one message for all
        raise ConfigError(
            f"cannot open the Hugging Face model {model!r}: {exc.__class__.__name__}: {exc}"
        ) from exc


def _parse_time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


class LocalProvider:
    """Local QLoRA/LoRA/DoRA/full fine-tuning (SFT and DPO) through TRL, PEFT and bitsandbytes."""

    name: ClassVar[str] = "local"
    capabilities: ClassVar[Capabilities] = Capabilities(
        methods=frozenset({"sft", "dpo"}),
        formats=FORMATS,
        hyperparameters=frozenset(
            {"epochs", "batch_size", "learning_rate", "warmup_ratio", "seed"}
            | {"tuning", "lora_rank", "lora_alpha", "lora_dropout"}
        ),
        hyperparameter_hints={
            "learning_rate_multiplier": "the local trainer takes an absolute learning rate: "
            "pass hyperparameters={'learning_rate': 2e-4} (the default for adapters; 1e-5 for "
            "tuning 'full')",
        },
        tunings=frozenset({"qlora", "lora", "dora", "full"}),
        renamed_options=RENAMED_OPTIONS,
        validation_file=True,
        cancel=True,
        pause=False,
        resume=True,
        events=True,
        metrics=True,
        # a run's state is a file read: cheap to check often, so a wait ends when the run does
        poll_interval=0.25,
    )
    options_model: ClassVar[type[LocalOptions]] = LocalOptions

    def __init__(self) -> None:
        pass

    @classmethod
    def from_config(cls, settings: Mapping[str, Any]) -> LocalProvider:
        """``[providers.local]`` holds only ``model`` (the core's default model for it);
        training knobs go in ``options=...``."""
        unknown = set(settings) - {"model"}
        if unknown:
            raise ConfigError(
                f"[providers.local]: unknown setting(s) {', '.join(sorted(unknown))}; the only "
                "one is 'model'. Training knobs go in hyperparameters=... and options=..., e.g. "
                "hyperparameters={'tuning': 'lora', 'lora_rank': 8}"
            )
        return cls()

    @staticmethod
    def default_learning_rate(tuning: str | None) -> float:
        """The learning rate a job gets when it sets none (``ftbridge retrain`` scales it)."""
        from ._options import DEFAULT_ADAPTER_LR, DEFAULT_FULL_LR

        return DEFAULT_FULL_LR if tuning == "full" else DEFAULT_ADAPTER_LR

    def describe_config(self) -> dict[str, Any]:
        from ftbridge._paths import subdir

        return {"runs_dir": str(subdir("runs"))}

    # -- helpers ------------------------------------------------------------------------------

    @staticmethod
    def _run(native_id: str) -> RunDir:
        try:
            run = RunDir.for_id(native_id)
        except ValueError as exc:
            raise ProviderNotFoundError(str(exc), provider="local") from exc
        if not run.exists():
            raise ProviderNotFoundError(
                f"no local run {native_id!r} in {run.path.parent}", provider="local"
            )
        return run

    @staticmethod
    def _options(spec: JobSpec) -> LocalOptions:
        try:
            return LocalOptions(**spec.options)
        except ValidationError as exc:
            raise OptionsError(f"invalid options for the local provider: {exc}") from exc

    # -- the protocol -------------------------------------------------------------------------

    def preflight(self, dataset: ValidatedDataset, spec: JobSpec) -> Preflight:
        from ._preflight import preflight

        return preflight(dataset, spec, self._options(spec))

    def submit(self, dataset: ValidatedDataset, spec: JobSpec) -> JobSnapshot:
        opts = self._options(spec)
        run = RunDir.for_id(run_id_for(spec.idempotency_key))
        if run.exists():
            return self.refresh(run.id)  # the same submit again: adopt, never start twice
        run.path.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(spec.training.path, run.train_file)
        if spec.validation is not None:
            shutil.copyfile(spec.validation.path, run.valid_file)
        (run.path / "dataset.sha256").write_text(spec.training.sha256 + "\n")
        # The worker runs in the run directory: make a local model path absolute, and store a
        # chat template file's text so the run does not depend on files that may change.
        updates: dict[str, Any] = {}
        model_path = Path(spec.model).expanduser()
        if model_path.is_dir():
            updates["model"] = str(model_path.resolve())
        template = template_file(opts.chat_template) if opts.chat_template else None
        if template is not None:
            text = template.read_text(encoding="utf-8")
            updates["options"] = {**spec.options, "chat_template": text}
        stored = spec.model_copy(update=updates) if updates else spec
        run.update_state(status="queued", raw_status="queued", created_at=now_iso(), attempt=1)
        write_json_atomic(run.spec_file, stored.model_dump(mode="json"))
        _launch.spawn(run, opts.num_processes, resume=False)
        return self.refresh(run.id)

    def reconcile(self, spec: JobSpec) -> JobSnapshot | None:
        run = RunDir.for_id(run_id_for(spec.idempotency_key))
        return self.refresh(run.id) if run.exists() else None

    def refresh(self, native_id: str) -> JobSnapshot:
        run = self._run(native_id)
        state = run.state()
        if state.get("status") not in _TERMINAL and not self._starting_or_alive(run, state):
            state = run.state()  # it may have finished between the two looks
            if state.get("status") not in _TERMINAL:
                state = self._mark_dead(run)
        return self._snapshot(run, state)

    @staticmethod
    def _starting_or_alive(run: RunDir, state: dict[str, Any]) -> bool:
        if _launch.is_alive(run):
            return True
        if run.process():
            return False
        updated = _parse_time(state.get("updated_at"))
        return updated is not None and (time.time() - updated.timestamp()) < _START_GRACE_S

    @staticmethod
    def _mark_dead(run: RunDir) -> dict[str, Any]:
        last = run.last_checkpoint()
        where = f"resumable from checkpoint {last[0]}" if last else "no checkpoint was saved"
        if run.cancel_requested():
            return run.update_state(
                status="cancelled", raw_status="cancelled", finished_at=now_iso()
            )
        message = f"worker exited unexpectedly; {where} (log: {run.log_file})"
        return run.update_state(
            status="failed",
            raw_status="worker_died",
            finished_at=now_iso(),
            error={"code": "worker_died", "message": message},
        )

    @staticmethod
    def _snapshot(run: RunDir, state: dict[str, Any]) -> JobSnapshot:
        status = state.get("status", "queued")
        raw = state.get("raw_status") or status
        if status not in _TERMINAL and run.cancel_requested():
            raw = "cancelling"
        last = run.last_checkpoint()
        error = state.get("error")
        return JobSnapshot(
            native_id=run.id,
            status=JobStatus(status),
            raw_status=raw,
            model=state.get("model"),
            created_at=_parse_time(state.get("created_at")),
            finished_at=_parse_time(state.get("finished_at")),
            step=state.get("step"),
            total_steps=state.get("total_steps"),
            epoch=state.get("epoch"),
            loss=state.get("loss"),
            trained_tokens=state.get("trained_tokens"),
            estimated_finish=_parse_time(state.get("estimated_finish")),
            error=JobErrorInfo(**error) if error else None,
            details={
                "run_dir": str(run.path),
                "log": str(run.log_file),
                "last_checkpoint": last[0] if last else None,
                "attempt": state.get("attempt", 1),
                "pid": run.process().get("pid"),
                "peak_memory_gib": state.get("peak_memory_gib"),
            },
        )

    def cancel(self, native_id: str) -> JobSnapshot:
        run = self._run(native_id)
        snapshot = self.refresh(native_id)
        if snapshot.status.is_terminal:
            return snapshot
        run.cancel_file.write_text(now_iso() + "\n")
        _launch.signal_workers(run, signal.SIGTERM)
        return self.refresh(native_id)

    def resume(self, native_id: str) -> JobSnapshot:
        """Continue a failed or cancelled run from its last checkpoint to the planned end."""
        run = self._run(native_id)
        snapshot = self.refresh(native_id)
        if snapshot.status == JobStatus.SUCCEEDED:
            raise RequestRejectedError(f"run {native_id} already succeeded", provider="local")
        if not snapshot.status.is_terminal:
            raise RequestRejectedError(
                f"run {native_id} is still {snapshot.status}", provider="local"
            )
        spec = JobSpec.model_validate_json(run.spec_file.read_text(encoding="utf-8"))
        run.cancel_file.unlink(missing_ok=True)
        run.update_state(
            status="queued",
            raw_status="resuming",
            error=None,
            finished_at=None,
            attempt=int(run.state().get("attempt", 1)) + 1,
        )
        _launch.spawn(run, self._options(spec).num_processes, resume=True)
        return self.refresh(native_id)

    def events(self, native_id: str, *, after: str | None = None) -> list[Event]:
        run = self._run(native_id)
        start = int(after) if after and after.isdigit() else 0
        return [
            Event(
                id=e["id"],
                time=datetime.fromisoformat(e["time"]),
                level=e["level"],
                message=e["message"],
                step=e.get("step"),
                metrics=e.get("metrics") or {},
            )
            for e in run.read_events()
            if int(e["id"]) > start
        ]

    def metrics(self, native_id: str) -> list[MetricPoint]:
        """One point per step; after a resume, the steps that were redone keep their new values."""
        by_step: dict[int, dict[str, float]] = {}
        epochs: dict[int, float] = {}
        for event in self.events(native_id):
            if event.step is None or not event.metrics:
                continue
            values = dict(event.metrics)
            if "epoch" in values:
                epochs[event.step] = values.pop("epoch")
            by_step.setdefault(event.step, {}).update(values)
        return [
            MetricPoint(step=s, epoch=epochs.get(s), values=v)
            for s, v in sorted(by_step.items())
            if v
        ]

    def open_model(self, snapshot: JobSnapshot, spec: JobSpec) -> LocalModelHandle:
        if snapshot.status != JobStatus.SUCCEEDED:
            raise JobNotSucceededError(
                f"run {snapshot.native_id} is {snapshot.status}; only a succeeded run has a model",
                job_id=f"local:{snapshot.native_id}",
            )
        from ._handle import LocalModelHandle

        return LocalModelHandle(self._run(snapshot.native_id).model_dir)

    def open_named_model(self, model: str) -> LocalModelHandle:
        """A handle on a model by name: a local directory (a Hugging Face model or a run's
        model) or a Hugging Face hub id (from the local cache, downloaded when allowed).

        Its ``name`` is the resolved directory, so the same model has the same name from any
        working directory.
        """
        from ._handle import LocalModelHandle

        return LocalModelHandle(_model_dir_for(model))

    def adapter_for_serving(self, snapshot: JobSnapshot, spec: JobSpec) -> ServableAdapter:
        """The run's adapter and its base, for ``ftbridge serve`` (``ftbridge_local.serve``)."""
        from ftbridge._serving import ServableAdapter

        run = self._run(snapshot.native_id)
        if snapshot.status != JobStatus.SUCCEEDED or not run.model_dir.is_dir():
            raise JobNotSucceededError(
                f"run {snapshot.native_id} is {snapshot.status}; only a succeeded run is served",
                job_id=f"local:{snapshot.native_id}",
            )
        # The recipe saved with the model names the base it was trained on.
        meta = read_json(run.model_dir / MODEL_META, default=None) or {}
        base = str(meta.get("base_model") or spec.model)
        return ServableAdapter(name=f"local:{run.id}", path=str(run.model_dir), base_model=base)

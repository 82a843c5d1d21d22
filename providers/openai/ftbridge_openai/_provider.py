"""``OpenAIProvider``: ftbridge's provider for OpenAI fine-tuning, on the official SDK.

    job = ftbridge.submit("train.jsonl", provider="openai", model="gpt-4o-mini",
                          hyperparameters={"epochs": 3, "learning_rate_multiplier": 1.5})

Credentials come from ``api_key`` in ``[providers.openai]`` or ``OPENAI_API_KEY``; the base URL
from ``base_url`` or ``OPENAI_BASE_URL`` (point it at ``python -m ftbridge_openai.emulator`` to
work offline). Each method makes one attempt: the SDK's own retries are off (the core retries).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Hashable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import openai
from pydantic import BaseModel

from ftbridge import _network, _secrets
from ftbridge._exceptions import (
    ConfigError,
    JobNotSucceededError,
    MissingCredentialsError,
    PermissionDeniedError,
    RequestRejectedError,
)
from ftbridge._models import Capabilities, Event, JobSnapshot, JobSpec, MetricPoint, Preflight
from ftbridge._paging import Page, paginate
from ftbridge._settings import seconds_setting, text_setting, url_setting
from ftbridge.migrate import ProviderClosing, RemoteModel
from ftbridge.migrate._closing import closed_for_jobs
from ftbridge.validation._profiles import openai_estimate

from . import _metrics
from ._errors import mapped
from ._handle import OpenAIModelHandle
from ._inventory import (
    CLOSING,
    download_training_file,
    fine_tuned_models,
    trained_hyperparameters,
)
from ._options import OpenAIOptions
from ._status import snapshot
from ._upload import UploadCache, account_digest, upload

if TYPE_CHECKING:
    from ftbridge.validation import ValidatedDataset

log = logging.getLogger("ftbridge.openai")

IDEMPOTENCY_KEY = "ftbridge_idempotency_key"
DEFAULT_BASE_URL = "https://api.openai.com/v1"
SETTINGS = ("api_key", "base_url", "organization", "project", "timeout")
MIN_EXAMPLES = 10
# Training price per million tokens (USD), for the preflight estimate only.
PRICE_PER_M_TOKENS = {
    "gpt-4o-mini": 3.0,
    "gpt-4o": 25.0,
    "gpt-4.1": 25.0,
    "gpt-4.1-mini": 5.0,
    "gpt-4.1-nano": 1.5,
    "gpt-3.5-turbo": 8.0,
}
RECONCILE_PAGES = 10


class OpenAIProvider:
    """Fine-tuning on OpenAI (supervised and DPO), following ``ftbridge.Provider``."""

    name: ClassVar[str] = "openai"
    capabilities: ClassVar[Capabilities] = Capabilities(
        methods=frozenset({"sft", "dpo"}),
        formats=frozenset({"chat", "preference"}),
        hyperparameters=frozenset(
            {"epochs", "batch_size", "learning_rate_multiplier", "seed", "tuning"}
        ),
        hyperparameter_hints={
            "learning_rate": "OpenAI takes learning_rate_multiplier (a factor applied to its own "
            "base learning rate), not an absolute learning_rate; pass "
            "learning_rate_multiplier=... instead",
            "warmup_ratio": "OpenAI has no warmup setting; drop warmup_ratio",
            **{
                name: f"OpenAI trains the full weights (tuning 'full'), with no LoRA adapter to "
                f"shape; drop {name}"
                for name in ("lora_rank", "lora_alpha", "lora_dropout")
            },
        },
        tunings=frozenset({"full"}),
        validation_file=True,
        cancel=True,
        pause=True,
        resume=False,
        events=True,
        metrics=True,
    )
    options_model: ClassVar[type[BaseModel]] = OpenAIOptions
    #: OpenAI's announced end of fine-tuning (data with its source; see ``ftbridge inventory``).
    closing: ClassVar[ProviderClosing] = CLOSING
    #: Events fetched per request (OpenAI allows up to 100).
    events_page_size: int = 100

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        organization: str | None = None,
        project: str | None = None,
        timeout: float | None = None,
    ) -> None:
        key = api_key or os.environ.get("OPENAI_API_KEY")
        if not key:
            raise MissingCredentialsError(
                "no OpenAI API key: set the OPENAI_API_KEY environment variable "
                "(or api_key in [providers.openai] of ftbridge.toml)"
            )
        _secrets.register(key)  # scrubbed from every message, log and stored row
        self._key_source = "settings" if api_key else "OPENAI_API_KEY"
        env_url = None if base_url else os.environ.get("OPENAI_BASE_URL")
        url = base_url or env_url or DEFAULT_BASE_URL
        if isinstance(url, str):
            _secrets.register_url(url)  # before any message could show its password
        source = "OPENAI_BASE_URL" if env_url else None
        self._base_url = url_setting("openai", "base_url", url, source=source)
        self._organization = text_setting("openai", "organization", organization)
        self._project = text_setting("openai", "project", project)
        self._timeout = seconds_setting("openai", "timeout", timeout, default=120.0)
        # The key lives only inside the SDK clients; we keep a digest for the upload cache.
        self._client_args: dict[str, Any] = {
            "api_key": key,
            "base_url": self._base_url,
            "organization": organization,
            "project": project,
            "timeout": openai.Timeout(
                self._timeout, connect=min(self._timeout, _network.CONNECT_TIMEOUT)
            ),
            "max_retries": 0,  # one attempt per call: the core retries
        }
        self._client = openai.OpenAI(**self._client_args)
        self._uploads = UploadCache(account_digest(self._base_url, key))

    @classmethod
    def from_config(cls, settings: Mapping[str, Any]) -> OpenAIProvider:
        """Build from ``[providers.openai]`` (``api_key``, ``base_url``, ``organization``,
        ``project``, ``timeout``; ``model`` is the core's default model)."""
        unknown = set(settings) - {*SETTINGS, "model"}
        if unknown:
            raise ConfigError(
                f"[providers.openai]: unknown setting(s) {', '.join(sorted(unknown))}; "
                f"known: {', '.join(sorted({*SETTINGS, 'model'}))}"
            )
        given = {k: settings[k] for k in SETTINGS if settings.get(k) is not None}
        if "timeout" in given:
            try:
                given["timeout"] = float(given["timeout"])
            except (TypeError, ValueError):
                raise ConfigError(
                    f"[providers.openai] timeout must be a number of seconds, "
                    f"not {given['timeout']!r}"
                ) from None
        return cls(**given)

    def __repr__(self) -> str:
        return _secrets.scrub(f"<OpenAIProvider base_url={self._base_url!r}>")

    def describe_config(self) -> dict[str, Any]:
        return {
            "base_url": self._base_url,
            "organization": self._organization,
            "project": self._project,
            "timeout": self._timeout,
            # Where the key came from, never the key (nor a field the core would mask).
            "authentication": f"bearer, from {self._key_source}",
        }

    def _new_client(self) -> openai.OpenAI:
        return openai.OpenAI(**self._client_args)

    # -- before anything is sent ---------------------------------------------------------------

    def preflight(self, dataset: ValidatedDataset, spec: JobSpec) -> Preflight:
        options = OpenAIOptions.model_validate(spec.options)
        problems: list[str] = []
        warnings: list[str] = []
        examples = int(getattr(dataset, "example_count", 0) or 0)
        if examples < MIN_EXAMPLES:
            problems.append(
                f"OpenAI needs at least {MIN_EXAMPLES} training examples; this dataset has "
                f"{examples}"
            )
        if options.beta is not None and spec.method != "dpo":
            problems.append("the beta option applies to DPO (preference data) only")
        if len(options.metadata) > 15:
            problems.append("at most 15 metadata entries (OpenAI allows 16; ftbridge uses one)")
        stats = getattr(dataset, "stats", None)
        exact = bool(getattr(stats, "tokens_exact", False))
        # validation's estimate for OpenAI: each example's tokens up to the billing cap
        verdicts = getattr(dataset, "verdicts", None) or {}
        verdict = verdicts.get(self.name)
        billed = (verdict.estimate or {}).get("billing_tokens_per_epoch") if verdict else None
        if billed is None:  # validated without OpenAI's profile: every token counts
            billed = int(getattr(stats, "total_tokens", 0) or 0)
        est = openai_estimate(examples, billed, exact, spec.hyperparameters.epochs)
        estimates: dict[str, Any] = {"examples": examples, "epochs": est["epochs"]}
        if billed:
            estimates["billable_tokens"] = est["charged_tokens"]
            estimates["token_counter"] = getattr(stats, "tokenizer", None)
            price = _price(spec.model)
            if price is not None:
                estimates["estimated_cost_usd"] = round(est["charged_tokens"] * price / 1e6, 2)
            if not exact:
                warnings.append(
                    "token counts are estimates; OpenAI bills what it counts (exact "
                    "o200k_base counts: validate with provider='openai', with "
                    "'ftbridge[tokens]' installed)"
                )
        return Preflight(problems=tuple(problems), warnings=tuple(warnings), estimates=estimates)

    # -- create and find -----------------------------------------------------------------------

    def submit(self, dataset: ValidatedDataset, spec: JobSpec) -> JobSnapshot:
        options = OpenAIOptions.model_validate(spec.options)
        training = upload(self._client, Path(dataset.path), dataset.sha256, options, self._uploads)
        validation = None
        if spec.validation is not None:
            validation = upload(
                self._client,
                Path(spec.validation.path),
                spec.validation.sha256,
                options,
                self._uploads,
            )
        hp = spec.hyperparameters
        hyper: dict[str, Any] = {
            "n_epochs": hp.epochs or "auto",
            "batch_size": hp.batch_size or "auto",
            "learning_rate_multiplier": hp.learning_rate_multiplier or "auto",
        }
        kind = "dpo" if spec.method == "dpo" else "supervised"
        if kind == "dpo":
            hyper["beta"] = options.beta if options.beta is not None else "auto"
        body: dict[str, Any] = {
            "model": spec.model,
            "training_file": training,
            "method": {"type": kind, kind: {"hyperparameters": hyper}},
            "metadata": {**options.metadata, IDEMPOTENCY_KEY: spec.idempotency_key},
        }
        if validation is not None:
            body["validation_file"] = validation
        if spec.suffix:
            body["suffix"] = spec.suffix
        if hp.seed is not None:
            body["seed"] = hp.seed
        if options.wandb_project:
            wandb: dict[str, Any] = {"project": options.wandb_project}
            if options.wandb_entity:
                wandb["entity"] = options.wandb_entity
            if options.wandb_tags:
                wandb["tags"] = options.wandb_tags
            body["integrations"] = [{"type": "wandb", "wandb": wandb}]
        try:
            with mapped(f"creating a fine-tuning job on {spec.model}"):
                job = self._client.fine_tuning.jobs.create(**body)
        except PermissionDeniedError as exc:  # how a closed account's create is refused
            raise closed_for_jobs(self.name, CLOSING, exc) from exc
        return snapshot(job)

    def list_fine_tuned_models(self) -> list[RemoteModel]:
        """The account's fine-tuned models, with OpenAI's own ``shutdown_date`` for each."""
        return fine_tuned_models(self._client)

    #: What OpenAI resolved for the "auto" settings of a job (used by ``ftbridge retrain``).
    trained_hyperparameters = staticmethod(trained_hyperparameters)

    def download_training_data(self, snapshot: JobSnapshot, dest: Path) -> bool:
        """The job's training file as OpenAI holds it, written to ``dest``."""
        return download_training_file(self._client, snapshot, dest)

    def reconcile(self, spec: JobSpec) -> JobSnapshot | None:
        """The job created with ``spec.idempotency_key``, found by its metadata, or ``None``."""
        key = spec.idempotency_key

        def fetch(cursor: Hashable | None) -> Page[Any]:
            with mapped("looking for an already created job"):
                page = self._client.fine_tuning.jobs.list(
                    metadata={IDEMPOTENCY_KEY: key}, limit=20, after=_after(cursor)
                )
            return _page(page)

        # The server filters by metadata; the check below also covers one that does not.
        for job in paginate(fetch, key=_id, max_pages=RECONCILE_PAGES, what="fine-tuning jobs"):
            if (job.metadata or {}).get(IDEMPOTENCY_KEY) == key:
                return snapshot(job)
        return None

    # -- follow --------------------------------------------------------------------------------

    def refresh(self, native_id: str) -> JobSnapshot:
        with mapped(f"reading job {native_id}"):
            job = self._client.fine_tuning.jobs.retrieve(native_id)
        checkpoints = None
        if job.status not in ("validating_files", "queued"):
            checkpoints = self._checkpoints(native_id)
        return snapshot(job, checkpoints)

    def _checkpoints(self, native_id: str) -> list[dict[str, Any]]:
        def fetch(cursor: Hashable | None) -> Page[Any]:
            with mapped(f"listing checkpoints of job {native_id}"):
                page = self._client.fine_tuning.jobs.checkpoints.list(
                    native_id, limit=100, after=_after(cursor)
                )
            return _page(page)

        found = [
            {
                "id": item.id,
                "step": item.step_number,
                "model": item.fine_tuned_model_checkpoint,
                "metrics": item.metrics.model_dump(exclude_none=True),
            }
            for item in paginate(fetch, key=_id, what=f"checkpoints of job {native_id}")
        ]
        return sorted(found, key=lambda c: c["step"])

    def events(self, native_id: str, *, after: str | None = None) -> list[Event]:
        def fetch(cursor: Hashable | None) -> Page[Any]:
            with mapped(f"reading events of job {native_id}"):
                page = self._client.fine_tuning.jobs.list_events(
                    native_id, limit=self.events_page_size, after=_after(cursor)
                )
            return _page(page)

        newest_first: list[Any] = []
        for item in paginate(fetch, key=_id, what=f"events of job {native_id}"):
            if item.id == after:  # OpenAI lists newest first: the rest are known
                break
            newest_first.append(item)
        return [_event(e) for e in reversed(newest_first)]

    def metrics(self, native_id: str) -> list[MetricPoint]:
        with mapped(f"reading job {native_id}"):
            job = self._client.fine_tuning.jobs.retrieve(native_id)
        from_events = _metrics.points_from_event_data(
            dict(e.metrics, step=e.step) for e in self.events(native_id) if e.metrics
        )
        if not job.result_files:
            return from_events
        with mapped(f"downloading the result file of job {native_id}"):
            text = self._client.files.content(job.result_files[0]).text
        return _metrics.merge(_metrics.parse_results_csv(text), from_events)

    # -- control -------------------------------------------------------------------------------

    def cancel(self, native_id: str) -> JobSnapshot:
        try:
            with mapped(f"cancelling job {native_id}"):
                job = self._client.fine_tuning.jobs.cancel(native_id)
        except RequestRejectedError:
            current = self.refresh(native_id)
            if current.status.is_terminal:  # already over: nothing to cancel
                return current
            raise
        return snapshot(job)

    def pause(self, native_id: str) -> JobSnapshot:
        with mapped(f"pausing job {native_id}"):
            return snapshot(self._client.fine_tuning.jobs.pause(native_id))

    def resume(self, native_id: str) -> JobSnapshot:
        with mapped(f"resuming job {native_id}"):
            return snapshot(self._client.fine_tuning.jobs.resume(native_id))

    # -- use -----------------------------------------------------------------------------------

    def open_model(self, snapshot: JobSnapshot, spec: JobSpec) -> OpenAIModelHandle:
        options = OpenAIOptions.model_validate(spec.options)
        name = snapshot.model
        if options.checkpoint_step is not None:
            checkpoints = snapshot.details.get("checkpoints") or self._checkpoints(
                snapshot.native_id
            )
            matching = [c for c in checkpoints if c["step"] == options.checkpoint_step]
            if not matching:
                steps = ", ".join(str(c["step"]) for c in checkpoints) or "none"
                raise ConfigError(
                    f"job {snapshot.native_id} has no checkpoint at step "
                    f"{options.checkpoint_step} (checkpoints at steps: {steps})"
                )
            name = matching[0]["model"]
        if not name:
            raise JobNotSucceededError(
                f"job {snapshot.native_id} has no fine-tuned model yet "
                f"(status: {snapshot.raw_status})",
                job_id=snapshot.native_id,
            )
        return OpenAIModelHandle(self._new_client(), name)

    def open_named_model(self, model: str) -> OpenAIModelHandle:
        """A handle on any model OpenAI serves by name: a base model (``gpt-4.1-mini``) or a
        fine-tune (``ft:gpt-4o-mini:org::abc``). A name OpenAI does not know is refused here,
        before any chat; a passing failure of that check is left to the first chat."""
        from ftbridge._exceptions import TransientProviderError

        try:
            with mapped(f"looking up the model {model}"):
                self._client.models.retrieve(model)
        except TransientProviderError:
            pass
        return OpenAIModelHandle(self._new_client(), model)


def _id(item: Any) -> str:
    return str(item.id)


def _after(cursor: Hashable | None) -> Any:
    return cursor if isinstance(cursor, str) else openai.omit


def _page(page: Any) -> Page[Any]:
    """An OpenAI cursor page: the next one starts after the last id, while ``has_more``."""
    data = list(page.data)
    return Page(data, data[-1].id if data and page.has_more else None)


def _event(item: Any) -> Event:
    from datetime import datetime, timezone

    data = item.data if isinstance(getattr(item, "data", None), dict) else {}
    metrics = {}
    step = None
    if getattr(item, "type", None) == "metrics" or "train_loss" in data:
        for point in _metrics.points_from_event_data([data]):
            metrics, step = dict(point.values), point.step
    level = {"warn": "warning", "error": "error"}.get(str(item.level), "info")
    return Event(
        id=item.id,
        time=datetime.fromtimestamp(item.created_at, timezone.utc),
        level=level,  # type: ignore[arg-type]
        message=item.message,
        step=step,
        metrics=metrics,
    )


def _price(model: str) -> float | None:
    base = model.split(":")[1] if model.startswith("ft:") else model
    for name in sorted(PRICE_PER_M_TOKENS, key=len, reverse=True):
        if base == name or base.startswith(name + "-2"):
            return PRICE_PER_M_TOKENS[name]
    return None

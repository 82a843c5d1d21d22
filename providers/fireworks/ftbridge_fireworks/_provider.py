"""The Fireworks AI provider: the official ``fireworks-ai`` SDK behind ftbridge's ``Provider``.

    import ftbridge

    job = ftbridge.submit("chat.jsonl", provider="fireworks", model="llama-v3p1-8b-instruct",
                          hyperparameters={"epochs": 2, "learning_rate": 1e-4, "lora_rank": 16})
    job.wait()
    print(job.model().chat([{"role": "user", "content": "hi"}]).text)

Settings (``[providers.fireworks]`` in ``ftbridge.toml``, or keyword arguments): ``api_key``
(better: ``FIREWORKS_API_KEY``), ``account_id`` (or ``FIREWORKS_ACCOUNT_ID``), ``base_url``
(or ``FIREWORKS_BASE_URL``; every route, inference included, then goes under it), ``timeout``
in seconds, ``dataset_timeout`` (how long to wait for a dataset to be READY),
``direct_upload_limit`` (bytes; larger files go through a signed URL), ``model``.

Job ids are chosen by ftbridge from the idempotency key (``ftb-`` + 24 hex digits), so a
retried create is refused by Fireworks instead of starting a second paid job, and a create
whose answer was lost is found with one read. The job's ftbridge id is
``fireworks:sft/<id>`` or ``fireworks:dpo/<id>``.
"""

from __future__ import annotations

import os
from collections.abc import Hashable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import fireworks
from pydantic import BaseModel

from ftbridge import _network, _secrets
from ftbridge._exceptions import (
    ConfigError,
    InferenceError,
    MissingCredentialsError,
    ProviderNotFoundError,
    RequestRejectedError,
)
from ftbridge._models import (
    Capabilities,
    Event,
    Hyperparameters,
    JobSnapshot,
    JobSpec,
    MetricPoint,
    Preflight,
)
from ftbridge._settings import seconds_setting, url_setting, whole_setting

from . import _metrics, _request, _status
from ._errors import PROVIDER, is_already_exists, sdk_errors, translate
from ._handle import FireworksModelHandle
from ._options import FireworksOptions
from ._upload import DIRECT_UPLOAD_LIMIT, Uploader

if TYPE_CHECKING:
    from ftbridge.migrate import ProviderClosing, RemoteModel
    from ftbridge.validation import ValidatedDataset

_SETTINGS = {
    "api_key",
    "account_id",
    "base_url",
    "timeout",
    "dataset_timeout",
    "direct_upload_limit",
    "model",
}


def _base_url(value: str | None) -> str | None:
    if not value:
        return None
    # The SDK's routes start with /v1 (and /inference/v1 lives under the same prefix then).
    return value.rstrip("/").removesuffix("/inference/v1").removesuffix("/v1")


class FireworksProvider:
    """Fine-tuning on Fireworks AI. Build it with ``from_config`` or directly::

    provider = FireworksProvider(account_id="my-account", base_url="http://127.0.0.1:8765")
    """

    name: ClassVar[str] = "fireworks"
    capabilities: ClassVar[Capabilities] = Capabilities(
        methods=frozenset({"sft", "dpo"}),
        formats=frozenset({"chat", "preference"}),
        hyperparameters=frozenset({"epochs", "learning_rate", "batch_size", "tuning", "lora_rank"}),
        tunings=frozenset({"lora"}),
        hyperparameter_hints={
            "learning_rate_multiplier": "Fireworks takes an absolute learning rate: set "
            "learning_rate instead (its default depends on the model)",
            "warmup_ratio": "Fireworks counts warmup in steps: "
            "options={'learning_rate_warmup_steps': N}",
            "seed": "Fireworks' fine-tuning API has no seed",
            "lora_alpha": "Fireworks chooses LoRA alpha itself; only lora_rank can be set",
            "lora_dropout": "Fireworks' fine-tuning API has no LoRA dropout setting",
            "tuning": "Fireworks trains LoRA adapters only (its API has no full fine-tuning)",
        },
        validation_file=True,
        cancel=True,
        pause=False,
        resume=True,
        events=True,
        metrics=True,
    )
    options_model: ClassVar[type[BaseModel]] = FireworksOptions
    #: Fireworks has announced no end of fine-tuning (``ftbridge inventory`` reads this).
    closing: ClassVar[ProviderClosing | None] = None

    def __init__(
        self,
        *,
        api_key: str | None = None,
        account_id: str | None = None,
        base_url: str | None = None,
        timeout: float | None = None,
        dataset_timeout: float = 900.0,
        direct_upload_limit: int = DIRECT_UPLOAD_LIMIT,
    ) -> None:
        key = api_key or os.environ.get("FIREWORKS_API_KEY")
        if not key:
            raise MissingCredentialsError(
                "no Fireworks API key: set the FIREWORKS_API_KEY environment variable "
                "(or api_key in [providers.fireworks] of ftbridge.toml)"
            )
        account = account_id or os.environ.get("FIREWORKS_ACCOUNT_ID")
        if not account:
            raise ConfigError(
                "no Fireworks account: set the FIREWORKS_ACCOUNT_ID environment variable "
                "(or account_id in [providers.fireworks] of ftbridge.toml); it is the id in "
                "your account's resource names, accounts/<id>/..."
            )
        _secrets.register(key)  # scrubbed from every message, log and stored row
        self._key_source = "api_key setting" if api_key else "FIREWORKS_API_KEY"
        self.account_id = str(account)
        env_url = None if base_url else os.environ.get("FIREWORKS_BASE_URL")
        url = base_url or env_url or None
        if isinstance(url, str):
            _secrets.register_url(url)  # before any message could show its password
        if url is not None:
            source = "FIREWORKS_BASE_URL" if env_url else None
            url = url_setting("fireworks", "base_url", url, source=source)
        self.base_url = _base_url(url)
        self.timeout = seconds_setting("fireworks", "timeout", timeout, default=60.0)
        # max_retries=0: the core retries (the SDK would also retry creates and 409s).
        self._client = fireworks.Fireworks(
            api_key=key,
            account_id=self.account_id,
            base_url=self.base_url,
            # a host that never answers is known unreachable in seconds, not after the timeout
            timeout=fireworks.Timeout(
                self.timeout, connect=min(self.timeout, _network.CONNECT_TIMEOUT)
            ),
            max_retries=0,
        )
        self._uploads = Uploader(
            self._client,
            self.account_id,
            direct_limit=whole_setting(
                "fireworks", "direct_upload_limit", direct_upload_limit, default=DIRECT_UPLOAD_LIMIT
            ),
            timeout=seconds_setting("fireworks", "dataset_timeout", dataset_timeout, default=900.0),
        )
        self._models: dict[str, dict[str, Any] | None] = {}

    @classmethod
    def from_config(cls, settings: Mapping[str, Any]) -> FireworksProvider:
        unknown = set(settings) - _SETTINGS
        if unknown:
            raise ConfigError(
                f"[providers.fireworks]: unknown setting(s) {', '.join(sorted(unknown))}; "
                f"known: {', '.join(sorted(_SETTINGS))}"
            )
        return cls(
            api_key=settings.get("api_key"),
            account_id=settings.get("account_id"),
            base_url=settings.get("base_url"),
            timeout=settings.get("timeout"),
            dataset_timeout=settings.get("dataset_timeout", 900.0),
            direct_upload_limit=settings.get("direct_upload_limit", DIRECT_UPLOAD_LIMIT),
        )

    def describe_config(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "base_url": self.base_url or "https://api.fireworks.ai",
            "timeout": self.timeout,
            "dataset_timeout": self._uploads.timeout,
            "direct_upload_limit": self._uploads.direct_limit,
            "authentication": f"API key from {self._key_source}",
        }

    def __repr__(self) -> str:
        return f"FireworksProvider(account_id={self.account_id!r}, base_url={self.base_url!r})"

    # -- before the job ---------------------------------------------------------------------

    def _model_info(self, model: str) -> dict[str, Any] | None:
        """The base model as Fireworks describes it; None when Fireworks has no such model."""
        name = _request.base_model_name(model)
        if name not in self._models:
            try:
                account, model_id = _request.model_parts(name)
            except ValueError as exc:
                raise ConfigError(str(exc)) from exc
            try:
                self._models[name] = _status.wire(
                    self._client.models.get(model_id, account_id=account)
                )
            except fireworks.NotFoundError:
                self._models[name] = None
            except fireworks.FireworksError as exc:
                raise translate(exc, f"read model {name}") from exc
        return self._models[name]

    def preflight(self, dataset: ValidatedDataset, spec: JobSpec) -> Preflight:
        """Check the job against Fireworks' rules and the base model; estimate what it costs."""
        options = FireworksOptions.model_validate(spec.options)
        info = None if options.warm_start_from else self._model_info(spec.model)
        if info is None and not options.warm_start_from:
            return Preflight(
                problems=(
                    f"Fireworks has no model {_request.base_model_name(spec.model)!r}; the "
                    "models it can fine-tune: https://fireworks.ai/models?filter=Tunable",
                )
            )
        stats = getattr(dataset, "stats", None)
        examples = spec.training.example_count
        problems, warnings = _request.check(
            spec,
            options,
            info,
            examples=examples,
            max_example_tokens=getattr(stats, "max_example_tokens", None),
            tokens_exact=bool(getattr(stats, "tokens_exact", False)),
        )
        estimates = _metrics.estimate(spec, info, stats)
        if info is not None:
            estimates["limits"] = {
                "training_context_length": info.get("trainingContextLength")
                or info.get("contextLength"),
                "max_lora_rank": _request.MAX_LORA_RANK,
                "max_examples": 3_000_000,
                "serverless_lora": info.get("supportsServerless"),
            }
            if info.get("supportsServerless") is False:
                warnings.append(
                    f"Fireworks does not serve {spec.model} serverless: chatting with the result "
                    "needs a deployment (the chat error says how to create one)"
                )
        return Preflight(problems=tuple(problems), warnings=tuple(warnings), estimates=estimates)

    # -- the job ----------------------------------------------------------------------------

    def _jobs(self, kind: str) -> Any:
        if kind == "dpo":
            return self._client.dpo_jobs
        return self._client.supervised_fine_tuning_jobs

    def _get(self, kind: str, job_id: str) -> dict[str, Any]:
        with sdk_errors(f"read job {job_id}"):
            return _status.wire(self._jobs(kind).get(job_id, account_id=self.account_id))

    def submit(self, dataset: ValidatedDataset, spec: JobSpec) -> JobSnapshot:
        options = FireworksOptions.model_validate(spec.options)
        kind = spec.method
        training = self._uploads.ensure(spec.training)
        if kind == "dpo":
            kwargs = _request.dpo_kwargs(spec, options, dataset=training)
        else:
            evaluation = self._uploads.ensure(spec.validation) if spec.validation else None
            kwargs = _request.sft_kwargs(spec, options, dataset=training, evaluation=evaluation)
        job_id = _request.job_id(spec.idempotency_key)
        try:
            job = self._jobs(kind).create(account_id=self.account_id, **kwargs)
        except fireworks.FireworksError as exc:
            if is_already_exists(exc):
                # This key's job exists already (a retried create whose first answer was lost).
                return _status.snapshot(self._get(kind, job_id), kind, self.account_id)
            raise translate(exc, "create the fine-tuning job") from exc
        return _status.snapshot(job, kind, self.account_id)

    def reconcile(self, spec: JobSpec) -> JobSnapshot | None:
        """The job created with ``spec``'s key: its id is derived from the key."""
        kind, job_id = spec.method, _request.job_id(spec.idempotency_key)
        try:
            return _status.snapshot(self._get(kind, job_id), kind, self.account_id)
        except ProviderNotFoundError:
            return None

    def refresh(self, native_id: str) -> JobSnapshot:
        kind, job_id = _status.split_id(native_id)
        return _status.snapshot(self._get(kind, job_id), kind, self.account_id)

    def cancel(self, native_id: str) -> JobSnapshot:
        """Ask Fireworks to stop the job; a job that has already ended is returned as it is."""
        kind, job_id = _status.split_id(native_id)
        current = self.refresh(native_id)
        if current.status.is_terminal or current.raw_status == "JOB_STATE_CANCELLING":
            return current
        try:
            with sdk_errors(f"cancel job {job_id}"):
                self._jobs(kind).cancel(job_id, account_id=self.account_id, body={})
        except RequestRejectedError:
            current = self.refresh(native_id)
            if current.status.is_terminal:  # it ended between the read and the cancel
                return current
            raise
        return self.refresh(native_id)

    def resume(self, native_id: str) -> JobSnapshot:
        """Continue a paused, failed or cancelled job from where it stopped (``:resume``)."""
        kind, job_id = _status.split_id(native_id)
        with sdk_errors(f"resume job {job_id}"):
            job = self._jobs(kind).resume(job_id, account_id=self.account_id, body={})
        return _status.snapshot(job, kind, self.account_id)

    def events(self, native_id: str, *, after: str | None = None) -> list[Event]:
        """What the job object reports (Fireworks has no event list): its creation and its
        state with the status message."""
        kind, job_id = _status.split_id(native_id)
        return _status.events(self._get(kind, job_id), after)

    def metrics(self, native_id: str) -> list[MetricPoint]:
        """The job's metrics file (JSONL, one row per step) once Fireworks has written one."""
        kind, job_id = _status.split_id(native_id)
        if kind == "dpo":
            with sdk_errors(f"ask for the metrics of job {job_id}"):
                answer = self._client.dpo_jobs.get_metrics_file_endpoint(
                    job_id, account_id=self.account_id
                )
            url = answer.signed_url
        else:
            url = self._get(kind, job_id).get("metricsFileSignedUrl")
        return _metrics.read(url, timeout=self.timeout) if url else []

    # -- models -----------------------------------------------------------------------------

    def open_model(
        self, snapshot: JobSnapshot, spec: JobSpec, *, deployment: str | None = None
    ) -> FireworksModelHandle:
        """Chat with the fine-tuned model; with ``deployment`` (or ``options["deployment"]``)
        on that deployment instead of serverless."""
        model = snapshot.model or snapshot.details.get("output_model")
        if not model:
            raise InferenceError(
                f"Fireworks has not named the fine-tuned model of job {snapshot.native_id} yet"
            )
        return FireworksModelHandle(
            self._client,
            str(model),
            account=self.account_id,
            deployment=deployment or spec.options.get("deployment"),
        )

    def open_named_model(
        self, model: str, *, deployment: str | None = None
    ) -> FireworksModelHandle:
        """A handle on any model Fireworks serves by name: a base model
        (``llama-v3p1-8b-instruct`` or ``accounts/fireworks/models/...``) or a fine-tuned one
        (``accounts/<acct>/models/<id>``). Its ``name`` is ``fireworks:<full model name>``."""
        if not model or not model.strip():
            raise ConfigError("open_named_model: give a Fireworks model name")
        name = _request.base_model_name(model.strip())
        return FireworksModelHandle(
            self._client,
            name,
            account=self.account_id,
            deployment=deployment,
            fine_tuned=not name.startswith("accounts/fireworks/"),
        )

    @staticmethod
    def trained_hyperparameters(snapshot: JobSnapshot) -> Hyperparameters:
        """What Fireworks resolved for a job, in ftbridge's names (for ``ftbridge retrain``)."""
        d = snapshot.details
        values: dict[str, Any] = {"tuning": "lora"}
        pairs = (
            ("epochs", "epochs"),
            ("loraRank", "lora_rank"),
            ("batchSizeSamples", "batch_size"),
        )
        for theirs, ours in pairs:
            if isinstance(d.get(theirs), int) and not isinstance(d.get(theirs), bool):
                values[ours] = d[theirs]
        rate = d.get("learningRate")
        if isinstance(rate, (int, float)) and 0 < rate < 1:
            values["learning_rate"] = float(rate)
        return Hyperparameters.model_validate(values)

    def list_fine_tuned_models(self) -> list[RemoteModel]:
        """The account's fine-tuned (LoRA addon) models, read through the core's bounded
        pager (Fireworks gives no shutdown dates for them)."""
        from ftbridge._paging import Page, paginate
        from ftbridge.migrate import RemoteModel

        def fetch(cursor: Hashable | None) -> Page[Any]:
            listing = self._client.models.list(
                account_id=self.account_id,
                page_size=200,
                page_token=str(cursor) if cursor else fireworks.omit,
            )
            return Page(listing.models or [], listing.next_page_token or None)

        with sdk_errors("list the account's models"):
            rows = [
                _status.wire(m)
                for m in paginate(fetch, key=lambda m: str(m.name), what="Fireworks models")
            ]
        return [
            RemoteModel(
                model=str(row["name"]),
                base_model=(row.get("peftDetails") or {}).get("baseModel"),
                created_at=_status.parse_time(row.get("createTime")),
                job=_job_ref(row.get("fineTuningJob")),
            )
            for row in rows
            if row.get("kind") == "HF_PEFT_ADDON"
        ]


def _job_ref(name: Any) -> str | None:
    """``accounts/a/supervisedFineTuningJobs/j`` -> the native id ``sft/j``."""
    parts = str(name or "").split("/")
    if len(parts) != 4:
        return None
    kind = {"supervisedFineTuningJobs": "sft", "dpoJobs": "dpo"}.get(parts[2])
    return _status.native_id(kind, parts[3]) if kind else None


__all__ = ["PROVIDER", "FireworksProvider"]

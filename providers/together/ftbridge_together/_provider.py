"""The Together AI provider: the official ``together`` SDK behind ftbridge's ``Provider``.

    import ftbridge

    job = ftbridge.submit("chat.jsonl", provider="together",
                          model="meta-llama/Meta-Llama-3.1-8B-Instruct-Reference",
                          hyperparameters={"epochs": 2, "learning_rate": 1e-5},
                          hyperparameters={"tuning": "lora", "lora_rank": 16})
    job.wait()
    print(job.model().chat([{"role": "user", "content": "hi"}]).text)

Settings (``[providers.together]`` in ``ftbridge.toml``, or keyword arguments): ``api_key``
(better: the ``TOGETHER_API_KEY`` variable), ``base_url`` (or ``TOGETHER_BASE_URL``), ``timeout``
in seconds, ``file_timeout`` (how long to wait for Together to validate an upload).

Your fine-tuned model's name ends with a short tag such as ``ftb3f9a01c2d4``: ftbridge puts it in
the job's suffix so that a create whose response was lost is found again instead of starting a
second paid job (Together jobs have no metadata field to carry it).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import together
from pydantic import BaseModel
from together.lib.resources.fine_tuning import create_finetune_request

from ftbridge import _network, _secrets
from ftbridge._exceptions import (
    ConfigError,
    InferenceError,
    MissingCredentialsError,
    PreflightError,
    ProviderNotFoundError,
    RequestRejectedError,
)
from ftbridge._models import (
    Capabilities,
    DatasetRef,
    Event,
    JobSnapshot,
    JobSpec,
    MetricPoint,
    Preflight,
)
from ftbridge._settings import seconds_setting, url_setting
from ftbridge.migrate import RemoteModel

from . import _inventory, _request, _status, _upload
from ._errors import PROVIDER, sdk_errors
from ._handle import TogetherModelHandle
from ._options import RENAMED_OPTIONS, TogetherOptions

if TYPE_CHECKING:
    from ftbridge.validation import ValidatedDataset

_SETTINGS = {"api_key", "base_url", "timeout", "file_timeout", "model"}


class TogetherProvider:
    """Fine-tuning on Together AI. Build it with ``from_config`` or directly::

    provider = TogetherProvider(base_url="http://127.0.0.1:8765")   # key from TOGETHER_API_KEY
    """

    name: ClassVar[str] = "together"
    capabilities: ClassVar[Capabilities] = Capabilities(
        methods=frozenset({"sft", "dpo"}),
        formats=frozenset({"chat", "preference", "instruction", "text"}),
        hyperparameters=frozenset(
            {"epochs", "batch_size", "learning_rate", "warmup_ratio", "seed"}
            | {"tuning", "lora_rank", "lora_alpha", "lora_dropout"}
        ),
        hyperparameter_hints={
            "learning_rate_multiplier": "Together takes an absolute learning rate: set "
            "learning_rate instead (Together's default is 1e-5; preflight shows the range the "
            "model allows)",
        },
        tunings=frozenset({"lora", "full"}),
        renamed_options=RENAMED_OPTIONS,
        validation_file=True,
        cancel=True,
        pause=False,
        resume=False,
    )
    options_model: ClassVar[type[BaseModel]] = TogetherOptions

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | None = None,
        file_timeout: float = 900.0,
    ) -> None:
        key = api_key or os.environ.get("TOGETHER_API_KEY")
        if not key:
            raise MissingCredentialsError(
                "no Together API key: set the TOGETHER_API_KEY environment variable "
                "(or api_key in [providers.together] of ftbridge.toml)"
            )
        _secrets.register(key)  # scrubbed from every message, log and stored row
        env_url = None if base_url else os.environ.get("TOGETHER_BASE_URL")
        url = base_url or env_url or None
        if isinstance(url, str):
            _secrets.register_url(url)  # before any message could show its password
        if url is not None:
            url = url_setting(
                "together", "base_url", url, source="TOGETHER_BASE_URL" if env_url else None
            )
            # The SDK's paths start with /v1; a base URL that ends with it would double it.
            url = url.rstrip("/").removesuffix("/v1")
        self._key_source = "api_key setting" if api_key else "TOGETHER_API_KEY"
        self.base_url = url or "https://api.together.ai"
        self.timeout = seconds_setting("together", "timeout", timeout, default=60.0)
        self.file_timeout = seconds_setting("together", "file_timeout", file_timeout, default=900.0)
        # max_retries=0: the core retries, and the SDK would also retry 409s and creates.
        self._client = together.Together(
            api_key=key,
            base_url=self.base_url,
            timeout=together.Timeout(
                self.timeout, connect=min(self.timeout, _network.CONNECT_TIMEOUT)
            ),
            max_retries=0,
        )
        self._files: dict[str, str] = {}  # sha256 -> id of a file Together validated
        self._limits: dict[str, Any] = {}  # base model -> limits (SDK object)

    @classmethod
    def from_config(cls, settings: Mapping[str, Any]) -> TogetherProvider:
        unknown = set(settings) - _SETTINGS
        if unknown:
            raise ConfigError(
                f"[providers.together]: unknown setting(s) {', '.join(sorted(unknown))}; "
                f"known: {', '.join(sorted(_SETTINGS))}"
            )
        return cls(
            api_key=settings.get("api_key"),
            base_url=settings.get("base_url"),
            timeout=settings.get("timeout"),
            file_timeout=settings.get("file_timeout", 900.0),
        )

    @staticmethod
    def default_learning_rate(tuning: str | None) -> float:
        """Together's default learning rate (its API's documented default, LoRA or full)."""
        return 1e-5

    def describe_config(self) -> dict[str, Any]:
        return {
            "base_url": self.base_url,
            "timeout": self.timeout,
            "file_timeout": self.file_timeout,
            "authentication": f"API key from {self._key_source}",
        }

    def __repr__(self) -> str:
        return _secrets.scrub(f"TogetherProvider(base_url={self.base_url!r})")

    # -- before the job ---------------------------------------------------------------------

    def _model_limits(self, model: str) -> Any:
        if model not in self._limits:
            with sdk_errors(f"read the fine-tuning limits of {model}"):
                self._limits[model] = self._client.fine_tuning.model_limits(model_name=model)
        return self._limits[model]

    def _file_id(self, ref: DatasetRef) -> str:
        """Upload (or reuse) a dataset and wait until Together has validated it."""
        if ref.sha256 not in self._files:
            file = _upload.upload(self._client, ref)
            file = _upload.wait_until_processed(self._client, file, timeout=self.file_timeout)
            self._files[ref.sha256] = str(file["id"])
        return self._files[ref.sha256]

    def preflight(self, dataset: ValidatedDataset, spec: JobSpec) -> Preflight:
        """Check the job against the model's limits, upload the data, ask for a price.

        The upload happens here because Together prices a job from its uploaded file; it is
        content-addressed, so ``submit`` reuses it.
        """
        options = TogetherOptions.model_validate(spec.options)
        try:
            limits_obj = self._model_limits(spec.model)
        except ProviderNotFoundError as exc:
            return Preflight(
                problems=(
                    f"Together cannot fine-tune {spec.model!r}: {exc}. The models it can "
                    "fine-tune: https://docs.together.ai/docs/fine-tuning-models",
                )
            )
        limits = _status.wire(limits_obj)
        stats = getattr(dataset, "stats", None)
        problems, warnings = _request.check_limits(
            limits,
            spec,
            options,
            max_example_tokens=getattr(stats, "max_example_tokens", None),
            tokens_exact=bool(getattr(stats, "tokens_exact", False)),
        )
        estimates: dict[str, Any] = {"limits": _request.limits_summary(limits, spec)}
        priced: tuple[Any, Any] | None = None
        if not problems:
            # The SDK's own request rules, run without sending anything.
            kwargs = _request.create_kwargs(
                spec, options, training_file="file-preflight", validation_file=None
            )
            try:
                _, training_type, training_method = create_finetune_request(
                    model_limits=limits_obj, **kwargs
                )
                priced = (training_type, training_method)
            except ValueError as exc:
                problems.append(str(exc))
        if problems or priced is None:
            return Preflight(
                problems=tuple(problems), warnings=tuple(warnings), estimates=estimates
            )

        training_file = self._file_id(spec.training)
        validation_file = self._file_id(spec.validation) if spec.validation else None
        estimates["training_file"] = training_file
        with sdk_errors("estimate the price"):
            price = self._client.fine_tuning.estimate_price(
                training_file=training_file,
                validation_file=validation_file or together.omit,
                from_checkpoint=options.from_checkpoint or together.omit,
                model=spec.model,
                n_epochs=spec.hyperparameters.epochs or 1,
                n_evals=_request.n_evals(options, has_validation=validation_file is not None),
                training_type=priced[0],
                training_method=priced[1],
            )
        quote = _status.wire(price)
        if quote.get("estimation_available") is False:
            warnings.append(f"Together gave no price estimate ({quote.get('unavailable_reason')})")
        else:
            estimates["price_usd"] = quote.get("estimated_total_price")
            estimates["train_tokens"] = quote.get("estimated_train_token_count")
            if quote.get("user_limit") is not None:
                estimates["credit_limit_usd"] = quote["user_limit"]
            if quote.get("allowed_to_proceed") is False:
                warnings.append(
                    f"the estimated price ${quote.get('estimated_total_price')} exceeds your "
                    "Together credit limit and balance: the job may be refused"
                )
        return Preflight(problems=(), warnings=tuple(warnings), estimates=estimates)

    # -- the job ----------------------------------------------------------------------------

    def submit(self, dataset: ValidatedDataset, spec: JobSpec) -> JobSnapshot:
        options = TogetherOptions.model_validate(spec.options)
        limits = self._model_limits(spec.model)
        training_file = self._file_id(spec.training)
        validation_file = self._file_id(spec.validation) if spec.validation else None
        kwargs = _request.create_kwargs(
            spec, options, training_file=training_file, validation_file=validation_file
        )
        try:
            with sdk_errors("create the fine-tuning job"):
                job = self._client.fine_tuning.create(model_limits=limits, **kwargs)
        except ValueError as exc:  # the SDK's local request checks; nothing was created
            raise PreflightError(f"Together: {exc}", provider=PROVIDER) from exc
        return _status.snapshot(job)

    def reconcile(self, spec: JobSpec) -> JobSnapshot | None:
        with sdk_errors("list fine-tuning jobs"):
            listing = self._client.fine_tuning.list()
        found = [
            job
            for job in map(_status.wire, listing.data)
            if _request.has_tag(job, spec.idempotency_key)
        ]
        if not found:
            return None
        newest = max(found, key=lambda job: str(job.get("created_at") or ""))
        return _status.snapshot(newest)

    def list_fine_tuned_models(self) -> list[RemoteModel]:
        """The account's fine-tuned models (Together gives no shutdown dates for them)."""
        with sdk_errors("list fine-tuning jobs"):
            listing = self._client.fine_tuning.list()
        return _inventory.fine_tuned_models(list(listing.data))

    #: What Together resolved for a job's settings (used by ``ftbridge retrain``).
    trained_hyperparameters = staticmethod(_inventory.trained_hyperparameters)

    def refresh(self, native_id: str) -> JobSnapshot:
        """The job's state; once it has ended, with its checkpoints in ``details``."""
        with sdk_errors(f"read job {native_id}"):
            snapshot = _status.snapshot(self._client.fine_tuning.retrieve(native_id))
        if not snapshot.status.is_terminal:
            return snapshot
        # Fetched once the job is over (a finished job is refreshed only once more).
        with sdk_errors(f"list the checkpoints of job {native_id}"):
            listing = self._client.fine_tuning.list_checkpoints(native_id)
        checkpoints = _status.checkpoints(native_id, list(listing.data))
        return snapshot.model_copy(
            update={"details": {**snapshot.details, "checkpoints": checkpoints}}
        )

    def cancel(self, native_id: str) -> JobSnapshot:
        """Ask Together to stop the job. Together bills the steps completed so far; the
        snapshot's ``details["cost_so_far_usd"]`` says how much."""
        try:
            with sdk_errors(f"cancel job {native_id}"):
                return _status.snapshot(self._client.fine_tuning.cancel(native_id))
        except RequestRejectedError:
            # A job that already finished cannot be cancelled: that is not an error for us.
            current = self.refresh(native_id)
            if current.status.is_terminal or current.raw_status == "cancel_requested":
                return current
            raise

    def events(self, native_id: str, *, after: str | None = None) -> list[Event]:
        with sdk_errors(f"read the events of job {native_id}"):
            listing = self._client.fine_tuning.list_events(native_id)
        return _status.events(list(listing.data), after)

    def metrics(self, native_id: str) -> list[MetricPoint]:
        with sdk_errors(f"read the metrics of job {native_id}"):
            result = self._client.fine_tuning.list_metrics(native_id)
        return _status.metric_points(list(result.metrics or []))

    def open_model(
        self, snapshot: JobSnapshot, spec: JobSpec, *, endpoint: str | None = None
    ) -> TogetherModelHandle:
        """Chat with the output model; with ``endpoint`` (or ``options["endpoint"]``), with a
        dedicated endpoint serving it."""
        name = snapshot.model or snapshot.details.get("output_name")
        if not name:
            raise InferenceError(
                f"Together has not given job {snapshot.native_id} an output model name yet"
            )
        endpoint = endpoint or spec.options.get("endpoint")
        return TogetherModelHandle(self._client, str(name), endpoint=endpoint)

    def open_named_model(self, model: str) -> TogetherModelHandle:
        """A handle on any model Together serves by name: a serverless base model, a
        fine-tune's output name, or a dedicated endpoint's name. Together says whether it can
        serve it on the first chat (with how to deploy one that needs an endpoint)."""
        return TogetherModelHandle(self._client, model)

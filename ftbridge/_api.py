"""``submit``, ``get_job`` and ``list_jobs``: the entry points of the job lifecycle."""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from pydantic import BaseModel, ValidationError

from ._arguments import (
    job_reference,
    mapping_or_none,
    matching_job,
    provider_or_none,
    text_or_none,
)
from ._config import load_config
from ._exceptions import (
    ConfigError,
    OptionsError,
    UnsupportedHyperparameterError,
)
from ._job import Job
from ._models import Hyperparameters, JobSpec, JobStatus, Method, utcnow
from ._polling import PollPolicy
from ._provider import Provider
from ._registry import get_provider
from ._store import JobStore
from ._submission import Submission
from ._tuning import move_renamed_options

if TYPE_CHECKING:
    from .validation import ValidatedDataset

log = logging.getLogger("ftbridge")


def _resolve_provider(provider: str | Provider | None) -> Provider:
    if provider is None or isinstance(provider, str):
        return get_provider(provider)
    return provider


def _prepare_dataset(
    dataset: str | Path | ValidatedDataset, provider: str, role: str
) -> ValidatedDataset:
    from .validation import ValidatedDataset, check
    from .validation._errors import DatasetValidationError

    if not isinstance(dataset, ValidatedDataset):
        dataset = check(dataset, provider=provider)
    verdict = dataset.verdicts.get(provider)
    blocking = [] if verdict is None or verdict.valid else verdict.errors
    if role == "validation":  # minimum example counts are for training files
        blocking = [f for f in blocking if not f.code.endswith(".too_few_examples")]
    truncated = verdict is not None and verdict.error_count > len(verdict.errors)
    if not dataset.report.generic_valid or blocking or truncated:
        report = dataset.report
        shown = [f.render(Path(report.path or "").name) for f in [*report.errors, *blocking][:5]]
        where = f" for {provider}" if report.generic_valid else ""
        raise DatasetValidationError(
            f"the {role} dataset {dataset.path} is not valid{where}:\n  "
            + "\n  ".join(shown)
            + f"\n(all of it: ftbridge validate {dataset.path} --provider {provider})",
            report,
        )
    return dataset


def _hyperparameters(value: Hyperparameters | Mapping[str, Any] | None) -> Hyperparameters:
    if value is None or isinstance(value, Hyperparameters):
        return value or Hyperparameters()
    try:
        return Hyperparameters.model_validate(dict(value))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'hyperparameters'}: {e['msg']}" for e in exc.errors()
        )
        known = ", ".join(Hyperparameters.model_fields)
        raise ConfigError(f"bad hyperparameters: {problems} (known names: {known})") from exc


def _check_capabilities(provider: Provider, hp: Hyperparameters, method: str, fmt: str) -> None:
    caps = provider.capabilities
    for name in hp.given():
        if name not in caps.hyperparameters:
            hint = caps.hyperparameter_hints.get(name, "")
            raise UnsupportedHyperparameterError(
                f"{provider.name} cannot honour hyperparameter {name!r}"
                + (f": {hint}" if hint else "")
                + f" (it takes: {', '.join(sorted(caps.hyperparameters)) or 'none'})"
            )
    if hp.tuning is not None and hp.tuning not in caps.tunings:
        raise UnsupportedHyperparameterError(
            f"{provider.name} does not train tuning {hp.tuning!r} "
            f"(it trains: {', '.join(sorted(caps.tunings)) or 'none'})"
        )
    if fmt not in caps.formats:
        raise ConfigError(
            f"{provider.name} does not train on {fmt!r} datasets "
            f"(it takes: {', '.join(sorted(caps.formats))})"
        )
    if method not in caps.methods:
        raise ConfigError(f"{provider.name} does not support {method} training")


def _options(provider: Provider, options: Mapping[str, Any] | BaseModel | None) -> dict[str, Any]:
    model = provider.options_model
    try:
        parsed = (
            options if isinstance(options, model) else model.model_validate(dict(options or {}))
        )
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'options'}: {e['msg']}" for e in exc.errors()
        )
        raise OptionsError(f"bad options for {provider.name}: {problems}") from exc
    assert isinstance(parsed, BaseModel)
    return parsed.model_dump(mode="json", exclude_unset=True)


def fingerprint(spec: JobSpec) -> str:
    """What makes two submissions "the same job": everything but the idempotency key and where
    the data files lie (the same bytes from another directory or machine are the same job)."""
    body = spec.model_dump(mode="json", exclude={"idempotency_key"})
    for ref in ("training", "validation"):
        if body.get(ref):
            body[ref].pop("path", None)
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


_KEY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:-")


def _check_key(key: object) -> None:
    if not isinstance(key, str) or not 0 < len(key) <= 64 or not set(key) <= _KEY_CHARS:
        raise ConfigError(
            f"idempotency_key must be 1 to 64 letters, digits, '.', '_', ':' or '-', not {key!r}"
        )


def submit(
    dataset: str | Path | ValidatedDataset,
    *,
    provider: str | Provider | None = None,
    model: str | None = None,
    hyperparameters: Hyperparameters | Mapping[str, Any] | None = None,
    suffix: str | None = None,
    validation: str | Path | ValidatedDataset | None = None,
    options: Mapping[str, Any] | BaseModel | None = None,
    poll: PollPolicy | None = None,
    retrained_from: str | None = None,
    idempotency_key: str | None = None,
) -> Job:
    """Validate (unless already validated), preflight, and start a fine-tuning job.

    >>> job = ftbridge.submit("train.jsonl", provider="openai", model="gpt-4o-mini",
    ...                       hyperparameters={"epochs": 3})

    The job's intent is recorded in the job store with an idempotency key *before* the remote
    create, so a crash or a lost response is reconciled to the one remote job instead of
    starting a second paid one: submitting the same thing again after a crash adopts it.
    Two identical submits at once (two processes, two machines sharing the store) make one job:
    the second waits for the first's create and returns the same job. ``idempotency_key``
    (your own string: letters, digits, ``._:-``, at most 64) names the job: submitting with a
    key already used returns that job, and never starts a second one; the same key with a
    different job is a ``ConfigError``.
    """
    provider_or_none(provider)
    text_or_none("model", model, "the base model's name")
    text_or_none("suffix", suffix, "a name fragment for the fine-tuned model")
    mapping_or_none("hyperparameters", hyperparameters, Hyperparameters)
    mapping_or_none("options", options)
    since = utcnow()  # an identical submit whose intent is recorded after this joins it
    prov = _resolve_provider(provider)
    name = prov.name
    config = load_config()
    train = _prepare_dataset(dataset, name, "training")
    valid = _prepare_dataset(validation, name, "validation") if validation is not None else None
    base_model = model or config.model_for(name)
    if not base_model:
        raise ConfigError(
            f"no model given for {name}: pass model=... (--model), or set [defaults] model or "
            f"[providers.{name}] model in ftbridge.toml"
        )
    if valid is not None and not prov.capabilities.validation_file:
        raise ConfigError(f"{name} does not take a validation file")
    hp = _hyperparameters(hyperparameters)
    fmt = train.format or "chat"
    method: Method = "dpo" if fmt == "preference" else "sft"
    opts = _options(prov, options)
    hp, opts = move_renamed_options(name, prov.capabilities.renamed_options, hp, opts)
    _check_capabilities(prov, hp, method, fmt)
    policy = poll or PollPolicy()
    store = JobStore()

    def make_spec(key: str) -> JobSpec:
        return JobSpec(
            provider=name,
            model=base_model,
            method=method,
            training=train.ref(),
            validation=valid.ref() if valid else None,
            hyperparameters=hp,
            suffix=suffix,
            options=opts,
            idempotency_key=key,
            retrained_from=retrained_from,
        )

    if idempotency_key is not None:
        _check_key(idempotency_key)
    key = idempotency_key or f"ftb-{uuid.uuid4().hex[:20]}"
    submission = Submission(
        prov,
        store,
        train,
        make_spec(key),
        fingerprint(make_spec("")),
        chosen_key=idempotency_key is not None,
        policy=policy,
        poll=poll,
        since=since,
        preflight_warning=lambda warning: log.warning("%s: %s", name, warning),
    )
    return submission.run()


def get_job(
    job_id: str, *, provider: Provider | None = None, poll: PollPolicy | None = None
) -> Job:
    """A job from the job store, by id (``"openai:ftjob-..."``) or an unambiguous prefix.

    Works from any process: the job need not have been submitted by this one.
    """
    job_id = job_reference(job_id)
    store = JobStore()
    record = store.find(job_id)
    if record is None:
        record = matching_job(store, job_id)  # none, or several: say which
    return Job(record, provider, store, poll)


def list_jobs(provider: str | None = None, status: str | JobStatus | None = None) -> list[Job]:
    """Jobs in the job store, newest first, with their last known state (no network call).

    Each ``Job`` builds its provider only when asked to talk to it (``refresh``, ``wait``...).
    """
    text_or_none("provider", provider, "a provider name such as 'openai'")
    wanted: JobStatus | None = None
    if status is not None:
        try:
            wanted = JobStatus(status)
        except ValueError:
            known = ", ".join(s.value for s in JobStatus)
            raise ConfigError(f"unknown status {status!r}; use one of: {known}") from None
    store = JobStore()
    records = store.query(provider=provider, status=wanted, include_intents=True)
    return [Job(r, None, store) for r in records]

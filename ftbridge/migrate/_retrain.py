"""``ftbridge.retrain(job, provider=...)``: the same data, trained somewhere else.

    plan = ftbridge.migrate.plan_retrain("openai:ftjob-abc", provider="local", model="./tiny")
    for step in plan.translation.steps:       # every rule applied, shown before anything starts
        print(step)
    job = plan.submit()                        # job.retrained_from == "openai:ftjob-abc"

The training file is the very same bytes (same sha256): the store's canonical copy, the file the
job was submitted from if unchanged, a file the user names, or the copy the old provider still
holds (``Provider.download_training_data``), in that order.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._exceptions import ConfigError, DatasetReadError, FtbridgeError, JobNotFoundError
from .._models import Hyperparameters, JobSnapshot, JobSpec
from .._paths import subdir
from .._registry import get_provider, provider_class
from .._store import JobStore
from ._inventory import _sha256, stored_dataset
from ._translate import Translation, translate

if TYPE_CHECKING:
    from .._job import Job
    from .._provider import Provider

log = logging.getLogger("ftbridge")


@dataclass
class Source:
    """The job being moved: its id, what it was trained with, and its last known state."""

    id: str
    provider: str
    native_id: str
    spec: JobSpec | None
    snapshot: JobSnapshot | None


@dataclass
class RetrainPlan:
    """Everything ``retrain`` will submit, for the user to read first."""

    source: Source
    target: Provider
    model: str | None
    training: Path
    dataset_sha256: str
    validation: Path | None
    translation: Translation
    options: Mapping[str, Any] | None
    suffix: str | None

    def to_json(self, job: Job | None = None) -> dict[str, Any]:
        return {
            "job": job.id if job is not None else None,
            "retrained_from": self.source.id,
            "provider": self.target.name,
            "model": self.model,
            "dataset_sha256": self.dataset_sha256,
            "hyperparameters": self.translation.hyperparameters,
            "translated": self.translation.steps,
        }

    def submit(self) -> Job:
        from .._api import submit

        return submit(
            self.training,
            provider=self.target,
            model=self.model,
            hyperparameters=self.translation.hyperparameters,
            suffix=self.suffix,
            validation=self.validation,
            options=self.options,
            retrained_from=self.source.id,
        )


def _source(job: Job | str) -> Source:
    from .._job import Job

    if isinstance(job, Job):
        return Source(job.id, job.provider, job.native_id, job.spec, job.snapshot)
    record = JobStore().find(job)
    if record is not None and record.native_id is not None:
        return Source(
            f"{record.provider}:{record.native_id}",
            record.provider,
            record.native_id,
            record.spec,
            record.snapshot,
        )
    provider, sep, native = job.partition(":")
    if not sep or not native:
        raise JobNotFoundError(
            f"no job {job!r} in the job store; name a job as PROVIDER:JOB_ID "
            "(for one made outside ftbridge, e.g. openai:ftjob-abc123)",
            job_id=job,
        )
    return Source(job, provider, native, None, None)  # made outside ftbridge


def _resolved(source: Source) -> Hyperparameters:
    """The source job's hyperparameters, with what its provider resolved for "auto" ones."""
    given = source.spec.hyperparameters if source.spec is not None else Hyperparameters()
    if source.snapshot is None:
        return given
    try:
        resolve = getattr(provider_class(source.provider), "trained_hyperparameters", None)
    except FtbridgeError:
        resolve = None
    if resolve is None:
        return given
    resolved = resolve(source.snapshot).given()
    return Hyperparameters.model_validate({**resolved, **given.given()})


def _training_file(source: Source, data: str | Path | None) -> tuple[Path, str]:
    want = source.spec.training.sha256 if source.spec is not None else None
    if data is not None:
        path = Path(data).expanduser()
        if path.is_dir():
            raise DatasetReadError(f"{path} is a directory; pass the path of a .jsonl file")
        if not path.is_file():
            raise DatasetReadError(f"training data file not found: {path}")
        sha = _sha256(path)
        if want is not None and sha != want:
            raise ConfigError(
                f"{path} is not the data {source.id} was trained on (sha256 {sha[:12]}… vs "
                f"{want[:12]}…); pass the original file, or use `ftbridge submit` to train on "
                "different data"
            )
        return path, sha
    if source.spec is not None:
        found = stored_dataset(source.spec.training.sha256, source.spec.training.path)
        if found is not None:
            return found, source.spec.training.sha256
    downloaded = _download(source)
    if downloaded is not None:
        return downloaded
    where = f" (it was {source.spec.training.path})" if source.spec is not None else ""
    raise ConfigError(
        f"the training data of {source.id} is not on this machine{where}: pass the file with "
        "data=... (--data FILE); `ftbridge record` can make training data from the model's own "
        "answers while it still answers"
    )


def _download(source: Source) -> tuple[Path, str] | None:
    """The copy the old provider still holds, kept under ``$FTBRIDGE_HOME/datasets``."""
    try:
        prov = get_provider(source.provider)
    except FtbridgeError:
        return None
    fetch = getattr(prov, "download_training_data", None)
    if fetch is None:
        return None
    snapshot = source.snapshot or prov.refresh(source.native_id)
    source.snapshot = snapshot
    tmp = subdir("datasets") / f".download-{source.native_id}.jsonl"
    if not fetch(snapshot, tmp):
        return None
    sha = _sha256(tmp)
    final = tmp.with_name(f"{sha}.jsonl")
    tmp.replace(final)
    log.info("downloaded the training data of %s from %s", source.id, source.provider)
    return final, sha


def plan_retrain(
    job: Job | str,
    *,
    provider: str | Provider,
    model: str | None = None,
    hyperparameters: Hyperparameters | Mapping[str, Any] | None = None,
    options: Mapping[str, Any] | None = None,
    data: str | Path | None = None,
    validation: str | Path | None = None,
    suffix: str | None = None,
) -> RetrainPlan:
    """What ``retrain`` would submit, with every translated setting, without submitting."""
    source = _source(job)
    target = get_provider(provider) if isinstance(provider, str) else provider
    if target.name == source.provider and model is None:
        raise ConfigError(
            f"{source.id} already is on {target.name}; name another provider, or a model"
        )
    if not model:  # as submit resolves it, so a dry run that passes is one submit accepts
        from .._config import load_config

        model = load_config().model_for(target.name)
    if not model:
        raise ConfigError(
            f"no model given for {target.name}: pass model=... (--model), or set [defaults] "
            f"model or [providers.{target.name}] model in ftbridge.toml"
        )
    from .._api import _hyperparameters

    given = _hyperparameters(hyperparameters) if hyperparameters is not None else None
    training, sha = _training_file(source, data)
    from .._api import _prepare_dataset

    # The verdicts already know whether the target takes this data: say so before anything else.
    _prepare_dataset(training, target.name, "training")
    translation = translate(_resolved(source), target, given=given, source_provider=source.provider)
    valid: Path | None = Path(validation).expanduser() if validation is not None else None
    if valid is None and source.spec is not None and source.spec.validation is not None:
        ref = source.spec.validation
        if target.capabilities.validation_file:
            valid = stored_dataset(ref.sha256, ref.path)
            if valid is None:
                translation.note(
                    "validation", ref.path, None, "the validation file is not on this machine"
                )
        else:
            translation.note(
                "validation", ref.path, None, f"{target.name} takes no validation file"
            )
    if source.spec is not None and source.spec.options and options is None:
        translation.note(
            "options",
            source.spec.options,
            None,
            "provider-specific options do not carry over; pass the target's own",
        )
    return RetrainPlan(
        source=source,
        target=target,
        model=model,
        training=training,
        dataset_sha256=sha,
        validation=valid,
        translation=translation,
        options=options,
        suffix=suffix if suffix is not None else (source.spec.suffix if source.spec else None),
    )


def retrain(
    job: Job | str,
    *,
    provider: str | Provider,
    model: str | None = None,
    hyperparameters: Hyperparameters | Mapping[str, Any] | None = None,
    options: Mapping[str, Any] | None = None,
    data: str | Path | None = None,
) -> Job:
    """Submit ``job``'s training data to ``provider``, its settings translated (see
    :mod:`ftbridge.migrate._translate` for the rules). The new job's ``retrained_from`` names
    the old one."""
    plan = plan_retrain(
        job,
        provider=provider,
        model=model,
        hyperparameters=hyperparameters,
        options=options,
        data=data,
    )
    for step in plan.translation.steps:
        log.info("retrain: %s %s -> %s (%s)", step["name"], step["from"], step["to"], step["why"])
    return plan.submit()

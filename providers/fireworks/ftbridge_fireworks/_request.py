"""From a ``JobSpec`` to Fireworks' create requests, and the ids ftbridge chooses.

Fireworks lets the client choose a job's id (``supervisedFineTuningJobId`` / ``dpoJobId``), and
a create with an id already taken is refused with 409. So the job id is derived from the
idempotency key: a retried create cannot start a second job, and a lost create response is
found again with one ``GET`` of that id. Dataset ids are derived from the file's sha256 in the
same way, so the same bytes are found on the account instead of being sent again.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from ftbridge._models import JobSpec

from ._options import FireworksOptions

# Fireworks resource ids: lowercase letters, digits and hyphens, at most 63 characters.
ID_MAX = 63
MAX_LORA_RANK = 64  # the SFT guide: a power of 2 up to 64


def job_id(key: str) -> str:
    """The job id for an idempotency key (``ftb-`` and 24 hex digits)."""
    return "ftb-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:24]


def dataset_id(sha256: str) -> str:
    """The dataset id for a file's bytes: ``ftb-`` and the first 56 hex digits of its sha256."""
    return "ftb-" + sha256.lower()[:56]


def base_model_name(model: str) -> str:
    """``llama-v3p1-8b-instruct`` -> ``accounts/fireworks/models/llama-v3p1-8b-instruct``."""
    return model if model.startswith("accounts/") else f"accounts/fireworks/models/{model}"


def model_parts(name: str) -> tuple[str, str]:
    """``accounts/a/models/m`` -> ``("a", "m")`` (for ``client.models.get``)."""
    parts = name.split("/")
    if len(parts) == 4 and parts[0] == "accounts" and parts[2] == "models":
        return parts[1], parts[3]
    raise ValueError(f"not a Fireworks model name: {name!r} (expected accounts/<a>/models/<m>)")


def output_model_id(spec: JobSpec, options: FireworksOptions) -> str | None:
    """The fine-tuned model's id: the option, else ``<suffix>-<job id>``, else the job id
    (Fireworks' default, sent as nothing)."""
    if options.output_model:
        return options.output_model
    if not spec.suffix:
        return None
    ident = job_id(spec.idempotency_key)
    clean = re.sub(r"[^a-z0-9-]+", "-", spec.suffix.lower()).strip("-")
    clean = clean[: ID_MAX - len(ident) - 1].rstrip("-")
    return f"{clean}-{ident}" if clean else None


def _given(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def _training(spec: JobSpec, options: FireworksOptions) -> dict[str, Any]:
    """The training settings SFT and DPO share (SDK keyword names)."""
    hp = spec.hyperparameters
    start = (
        {"warm_start_from": options.warm_start_from}
        if options.warm_start_from
        else {"base_model": base_model_name(spec.model)}
    )
    return _given(
        {
            **start,
            "output_model": output_model_id(spec, options),
            "epochs": hp.epochs,
            "learning_rate": hp.learning_rate,
            "lora_rank": hp.lora_rank,
            "batch_size_samples": hp.batch_size,
            "batch_size": options.batch_size_tokens,
            "max_context_length": options.max_context_length,
            "learning_rate_warmup_steps": options.learning_rate_warmup_steps,
            "gradient_accumulation_steps": options.gradient_accumulation_steps,
            "optimizer_weight_decay": options.optimizer_weight_decay,
            "jinja_template": options.jinja_template,
            "region": options.region,
        }
    )


def sft_kwargs(
    spec: JobSpec, options: FireworksOptions, *, dataset: str, evaluation: str | None
) -> dict[str, Any]:
    """Keyword arguments for ``client.supervised_fine_tuning_jobs.create``."""
    return {
        "supervised_fine_tuning_job_id": job_id(spec.idempotency_key),
        "dataset": dataset,
        **_training(spec, options),
        **_given(
            {
                "evaluation_dataset": evaluation,
                "early_stop": options.early_stop,
                "eval_auto_carveout": options.eval_auto_carveout,
                "display_name": options.display_name,
                "is_turbo": options.is_turbo,
                "nodes": options.nodes,
            }
        ),
    }


def dpo_kwargs(spec: JobSpec, options: FireworksOptions, *, dataset: str) -> dict[str, Any]:
    """Keyword arguments for ``client.dpo_jobs.create`` (training settings nested)."""
    kwargs: dict[str, Any] = {
        "dpo_job_id": job_id(spec.idempotency_key),
        "dataset": dataset,
        "training_config": _training(spec, options),
    }
    if options.display_name:
        kwargs["display_name"] = options.display_name
    loss: dict[str, Any] = {}
    if options.loss_method or options.dpo_beta is not None:
        loss["method"] = options.loss_method or "DPO"
    if options.dpo_beta is not None:
        loss["dpo"] = {"beta": options.dpo_beta}
    if loss:
        kwargs["loss_config"] = loss
    return kwargs


def check(
    spec: JobSpec,
    options: FireworksOptions,
    model: dict[str, Any] | None,
    *,
    examples: int,
    max_example_tokens: int | None,
    tokens_exact: bool,
) -> tuple[list[str], list[str]]:
    """Problems and warnings of this job against Fireworks' rules and the model's limits."""
    from ._profile import DEFAULT_CONTEXT, MAX_EXAMPLES

    problems: list[str] = []
    warnings: list[str] = []
    hp = spec.hyperparameters
    dpo = spec.method == "dpo"
    rank = hp.lora_rank
    if rank is not None and (rank > MAX_LORA_RANK or rank & (rank - 1)):
        problems.append(f"lora_rank={rank}: Fireworks takes a power of 2 up to {MAX_LORA_RANK}")
    if examples > MAX_EXAMPLES:
        problems.append(f"{examples} examples: Fireworks takes at most {MAX_EXAMPLES:,} a dataset")
    epochs = hp.epochs or 1
    if examples * epochs > MAX_EXAMPLES:
        problems.append(
            f"{examples} examples x {epochs} epochs is over Fireworks' limit of "
            f"{MAX_EXAMPLES:,}: lower epochs"
        )
    if dpo:
        if spec.validation is not None:
            problems.append(
                "Fireworks' DPO jobs take no evaluation dataset: drop the validation file"
            )
        sft_only = [
            n
            for n in ("early_stop", "eval_auto_carveout", "is_turbo", "nodes")
            if getattr(options, n) is not None
        ]
        if sft_only:
            problems.append(
                f"{', '.join(sft_only)} apply to SFT jobs only; remove them for DPO data"
            )
    else:
        dpo_only = [n for n in ("dpo_beta", "loss_method") if getattr(options, n) is not None]
        if dpo_only:
            problems.append(
                f"{', '.join(dpo_only)} only apply to preference (DPO) data; this dataset trains "
                "with SFT"
            )
    if options.eval_auto_carveout and spec.validation is not None:
        problems.append("eval_auto_carveout and a validation file exclude each other; keep one")
    context = options.max_context_length
    if model is not None and not options.warm_start_from:
        name = spec.model
        if model.get("tunable") is False:
            problems.append(
                f"Fireworks cannot fine-tune {name} (Tunable: false); choose a tunable base "
                "model: https://fireworks.ai/models?filter=Tunable"
            )
        if model.get("supportsLora") is False:
            problems.append(f"{name} takes no LoRA adapters on Fireworks")
        limit = model.get("trainingContextLength") or model.get("contextLength")
        if context is not None and limit and context > int(limit):
            problems.append(
                f"max_context_length={context} is over the {limit}-token limit of {name}"
            )
        if context is None and limit:
            context = min(int(limit), DEFAULT_CONTEXT)
    effective = context or DEFAULT_CONTEXT
    if max_example_tokens is not None and max_example_tokens > effective:
        about = "" if tokens_exact else "about "
        warnings.append(
            f"the longest example has {about}{max_example_tokens} tokens, more than the "
            f"{effective}-token training context: it will be cut off (raise max_context_length "
            "or shorten it)"
        )
    return problems, warnings

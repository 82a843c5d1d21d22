"""From a ``JobSpec`` to Together's create request, and the checks against the model's limits.

The idempotency key rides in the job's suffix as a short tag (``ftb`` + 10 hex digits): a
Together job has no metadata field, and the suffix is the one thing we choose that we can read
back from ``GET /v1/fine-tunes``. That is why the output model name carries the tag.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from ftbridge._models import Hyperparameters, JobSpec
from ftbridge._tuning import unified_spec

from ._options import RENAMED_OPTIONS, TogetherOptions

SUFFIX_MAX = 40  # Together's limit on a job's suffix
DEFAULT_LEARNING_RATE = 1e-5  # the SDK's and the API's default


def idempotency_tag(key: str) -> str:
    """The short tag of an idempotency key that goes into the job's suffix."""
    return "ftb" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:10]


def job_suffix(user_suffix: str | None, key: str) -> str:
    """``<user suffix>-<tag>``, the user's part cleaned and shortened to fit 40 characters."""
    tag = idempotency_tag(key)
    clean = re.sub(r"[^A-Za-z0-9-]+", "-", user_suffix or "").strip("-")
    clean = clean[: SUFFIX_MAX - len(tag) - 1].rstrip("-")
    return f"{clean}-{tag}" if clean else tag


def has_tag(job: dict[str, Any], key: str) -> bool:
    tag = idempotency_tag(key)
    return tag in str(job.get("suffix") or "") or tag in str(job.get("model_output_name") or "")


def unified(spec: JobSpec) -> tuple[Hyperparameters, bool]:
    """The job's hyperparameters (old option spellings read as unified) and whether it is LoRA
    (Together's default when no tuning is given)."""
    hp = unified_spec(spec, RENAMED_OPTIONS).hyperparameters
    return hp, (hp.tuning or "lora") == "lora"


def create_kwargs(
    spec: JobSpec,
    options: TogetherOptions,
    *,
    training_file: str,
    validation_file: str | None,
) -> dict[str, Any]:
    """Keyword arguments for ``client.fine_tuning.create`` (without ``model_limits``)."""
    hp, lora = unified(spec)
    kwargs: dict[str, Any] = {
        "training_file": training_file,
        "validation_file": validation_file or "",
        "n_epochs": hp.epochs or 1,
        "batch_size": hp.batch_size or "max",
        "learning_rate": hp.learning_rate or DEFAULT_LEARNING_RATE,
        "warmup_ratio": hp.warmup_ratio or 0.0,
        "random_seed": hp.seed,
        "lr_scheduler_type": options.lr_scheduler,
        "min_lr_ratio": options.min_lr_ratio,
        "scheduler_num_cycles": options.scheduler_num_cycles,
        "max_grad_norm": options.max_grad_norm,
        "weight_decay": options.weight_decay,
        "max_seq_length": options.max_seq_length,
        "packing": options.packing,
        "n_checkpoints": options.n_checkpoints or 1,
        "n_evals": n_evals(options, has_validation=bool(validation_file)),
        "lora": lora,
        "suffix": job_suffix(spec.suffix, spec.idempotency_key),
        "training_method": spec.method,
    }
    if lora:
        kwargs.update(
            lora_r=hp.lora_rank,
            lora_alpha=hp.lora_alpha,
            lora_dropout=hp.lora_dropout or 0.0,
            lora_trainable_modules=options.lora_trainable_modules or "all-linear",
        )
    if spec.method == "sft":
        kwargs["train_on_inputs"] = (
            options.train_on_inputs if options.train_on_inputs is not None else "auto"
        )
    else:
        kwargs.update(
            dpo_beta=options.dpo_beta, rpo_alpha=options.rpo_alpha, simpo_gamma=options.simpo_gamma
        )
    if options.from_checkpoint:
        # Together takes the base model from the checkpoint; sending both is an error.
        kwargs["from_checkpoint"] = options.from_checkpoint
    else:
        kwargs["model"] = spec.model
    return kwargs


def n_evals(options: TogetherOptions, *, has_validation: bool) -> int:
    if options.n_evals is not None:
        return options.n_evals
    return 1 if has_validation else 0


def check_limits(
    limits: dict[str, Any],
    spec: JobSpec,
    options: TogetherOptions,
    *,
    max_example_tokens: int | None,
    tokens_exact: bool,
) -> tuple[list[str], list[str]]:
    """Problems and warnings of this job against Together's limits for its base model."""
    problems: list[str] = []
    warnings: list[str] = []
    hp, lora = unified(spec)
    model = spec.model
    dpo = spec.method == "dpo"
    lora_limits = limits.get("lora_training") or {}
    full_limits = limits.get("full_training")

    if not lora and (not full_limits or limits.get("supports_full_training") is False):
        problems.append(f"Together offers only LoRA training for {model}; use tuning 'lora'")
    bounds = lora_limits if lora else (full_limits or {})
    if lora and hp.lora_rank is not None and hp.lora_rank > lora_limits.get("max_rank", 1 << 30):
        problems.append(
            f"lora_rank={hp.lora_rank} is above the maximum rank {lora_limits['max_rank']} "
            f"for {model}"
        )
    modules = options.lora_trainable_modules
    if not lora and modules is not None:
        problems.append(
            "options lora_trainable_modules applies to LoRA training; remove it or use tuning "
            "'lora'"
        )
    allowed_modules = lora_limits.get("target_modules") or []
    if lora and modules and modules != "all-linear" and allowed_modules:
        unknown = [m for m in (x.strip() for x in modules.split(",")) if m not in allowed_modules]
        if unknown:
            problems.append(
                f"lora_trainable_modules: {', '.join(unknown)} not trainable on {model}; "
                f"choose from all-linear, {', '.join(allowed_modules)}"
            )
    if hp.batch_size is not None and bounds:
        high = bounds.get("max_batch_size_dpo" if dpo else "max_batch_size")
        low = bounds.get("min_batch_size")
        if high is not None and hp.batch_size > high:
            problems.append(
                f"batch_size={hp.batch_size} is above {high}, the maximum for "
                f"{'DPO' if dpo else 'SFT'} {'lora' if lora else 'full'} training of {model} "
                "(leave it unset for the largest batch)"
            )
        if low is not None and hp.batch_size < low:
            problems.append(f"batch_size={hp.batch_size} is below {low}, the minimum for {model}")
    max_epochs = limits.get("max_num_epochs")
    if hp.epochs is not None and max_epochs is not None and hp.epochs > max_epochs:
        problems.append(f"epochs={hp.epochs} is above {max_epochs}, Together's maximum")
    lr = hp.learning_rate
    lo, hi = limits.get("min_learning_rate"), limits.get("max_learning_rate")
    if lr is not None and ((lo is not None and lr < lo) or (hi is not None and lr > hi)):
        problems.append(f"learning_rate={lr:g} is outside [{lo:g}, {hi:g}] allowed for {model}")
    max_ckpt = limits.get("max_num_checkpoints")
    if options.n_checkpoints is not None and max_ckpt and options.n_checkpoints > max_ckpt:
        problems.append(f"n_checkpoints={options.n_checkpoints} is above the maximum {max_ckpt}")
    if options.n_evals:
        max_evals = limits.get("max_num_evals")
        if spec.validation is None:
            problems.append("n_evals needs a validation file: pass validation=... to submit")
        elif max_evals is not None and options.n_evals > max_evals:
            problems.append(f"n_evals={options.n_evals} is above the maximum {max_evals}")

    seq_key = "max_seq_length_dpo" if dpo else "max_seq_length_sft"
    seq_max = limits.get(seq_key)
    seq_min = limits.get("min_max_seq_length")
    if options.max_seq_length is not None:
        if seq_min is not None and options.max_seq_length < seq_min:
            problems.append(f"max_seq_length={options.max_seq_length} is below {seq_min}")
        if seq_max is not None and options.max_seq_length > seq_max:
            problems.append(
                f"max_seq_length={options.max_seq_length} is above {seq_max}, the maximum for "
                f"{'DPO' if dpo else 'SFT'} on {model}"
            )
    effective = options.max_seq_length or seq_max
    if max_example_tokens is not None and effective and max_example_tokens > effective:
        about = "" if tokens_exact else "about "
        warnings.append(
            f"the longest example has {about}{max_example_tokens} tokens, more than the "
            f"{effective}-token sequence length Together trains {model} with: it will be "
            "truncated"
        )

    if dpo:
        if options.train_on_inputs is not None:
            problems.append("train_on_inputs applies to SFT only; remove it for DPO data")
    else:
        given = [n for n in ("dpo_beta", "rpo_alpha", "simpo_gamma") if getattr(options, n)]
        if given:
            problems.append(
                f"{', '.join(given)} only apply to DPO; this dataset trains with SFT "
                "(DPO needs a preference dataset)"
            )
    return problems, warnings


def limits_summary(limits: dict[str, Any], spec: JobSpec) -> dict[str, Any]:
    """What the user sees of the model's limits in ``Preflight.estimates``."""
    lora = limits.get("lora_training") or {}
    full = limits.get("full_training") or {}
    dpo = spec.method == "dpo"
    return {
        "max_seq_length": limits.get("max_seq_length_dpo" if dpo else "max_seq_length_sft"),
        "lora_supported": bool(lora),
        "full_supported": bool(full) and limits.get("supports_full_training", True) is not False,
        "lora_batch_size": [lora.get("min_batch_size"), lora.get(_max_batch(dpo))],
        "full_batch_size": [full.get("min_batch_size"), full.get(_max_batch(dpo))]
        if full
        else None,
        "lora_max_rank": lora.get("max_rank"),
        "learning_rate_range": [limits.get("min_learning_rate"), limits.get("max_learning_rate")],
        "max_epochs": limits.get("max_num_epochs"),
    }


def _max_batch(dpo: bool) -> str:
    return "max_batch_size_dpo" if dpo else "max_batch_size"

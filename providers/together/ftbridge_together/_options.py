"""Together-specific options: ``ftbridge.submit(..., options={...})``.

    job = ftbridge.submit(ds, provider="together", model="meta-llama/Meta-Llama-3.1-8B-Instruct-Reference",
                          hyperparameters={"tuning": "lora", "lora_rank": 16},
                          options={"n_checkpoints": 2})

LoRA or full training and the LoRA shape are unified hyperparameters (``tuning``, ``lora_rank``,
``lora_alpha``, ``lora_dropout``); their old option spellings (``training``, ``lora_r``...) still
work, with a deprecation warning (see ``RENAMED_OPTIONS``).

Every field is checked here, before anything is sent; an unknown name is an error (a typo is
never silently ignored). Limits that depend on the base model (LoRA rank, batch size, sequence
length) are checked by the provider's preflight against Together's ``models/limits``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

#: Old option spellings -> the unified hyperparameter that replaced them.
RENAMED_OPTIONS = {
    "training": "tuning",
    "lora_r": "lora_rank",
    "lora_alpha": "lora_alpha",
    "lora_dropout": "lora_dropout",
}


class TogetherOptions(BaseModel):
    """Options of a Together fine-tuning job (all optional; ``None`` = Together's default)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    training: Literal["lora", "full"] | None = Field(
        default=None, description="deprecated: hyperparameters tuning ('lora' or 'full')"
    )
    lora_r: int | None = Field(default=None, ge=1, description="deprecated: lora_rank")
    lora_alpha: float | None = Field(
        default=None, gt=0, description="deprecated: hyperparameters lora_alpha"
    )
    lora_dropout: float | None = Field(
        default=None, ge=0, lt=1, description="deprecated: hyperparameters lora_dropout"
    )
    lora_trainable_modules: str | None = Field(
        default=None, description='comma-separated modules, or "all-linear" (the default)'
    )
    train_on_inputs: bool | Literal["auto"] | None = Field(
        default=None, description='SFT only: also train on user turns ("auto" masks them)'
    )
    lr_scheduler: Literal["linear", "cosine"] = "cosine"
    min_lr_ratio: float = Field(default=0.0, ge=0, le=1)
    scheduler_num_cycles: float = Field(default=0.5, gt=0, description="cosine scheduler only")
    max_grad_norm: float = Field(default=1.0, ge=0, description="0 disables clipping")
    weight_decay: float = Field(default=0.0, ge=0)
    max_seq_length: int | None = Field(default=None, ge=1)
    packing: bool = True
    dpo_beta: float | None = Field(default=None, gt=0, description="DPO only")
    rpo_alpha: float | None = Field(default=None, ge=0, description="DPO only")
    simpo_gamma: float | None = Field(default=None, ge=0, description="DPO only")
    n_checkpoints: int | None = Field(default=None, ge=1)
    n_evals: int | None = Field(
        default=None, ge=0, description="evaluations on the validation file (default 1 with one)"
    )
    from_checkpoint: str | None = Field(
        default=None,
        min_length=1,
        description="continue training: a job id or output name, optionally ':STEP'",
    )
    endpoint: str | None = Field(
        default=None,
        min_length=1,
        description="a dedicated endpoint serving the result; chat goes there instead of "
        "the output model name",
    )

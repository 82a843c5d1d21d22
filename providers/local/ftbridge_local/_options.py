"""The local provider's options (``submit(..., options={...})``), checked before a run starts.

Unified hyperparameters (``epochs``, ``batch_size``, ``learning_rate``, ``warmup_ratio``,
``seed``, and the kind of tuning with the LoRA shape: ``tuning``, ``lora_rank``, ``lora_alpha``,
``lora_dropout``) are not here: they live in ``JobSpec.hyperparameters``. The old option
spellings of the tuning names (``method``, ``lora_r``, ``lora_alpha``, ``lora_dropout``) still
work, with a deprecation warning (``RENAMED_OPTIONS``). ``batch_size`` is examples per
optimizer step, as on OpenAI and Together: ``micro_batch_size × gradient accumulation ×
num_processes``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Method = Literal["qlora", "lora", "dora", "full"]

#: Old option spellings -> the unified hyperparameter that replaced them.
RENAMED_OPTIONS = {
    "method": "tuning",
    "lora_r": "lora_rank",
    "lora_alpha": "lora_alpha",
    "lora_dropout": "lora_dropout",
}

#: The dataset formats the local provider trains: SFT on the first three, DPO on preference.
FORMATS = frozenset({"chat", "instruction", "text", "preference"})

DEFAULT_TUNING = "qlora"
DEFAULT_LORA_RANK = 16
DEFAULT_LORA_ALPHA = 32.0
DEFAULT_LORA_DROPOUT = 0.05
DEFAULT_EPOCHS = 3
DEFAULT_BATCH_SIZE = 8
DEFAULT_ADAPTER_LR = 2e-4
DEFAULT_FULL_LR = 1e-5
DEFAULT_WARMUP_RATIO = 0.03
DEFAULT_SEED = 42


class LocalOptions(BaseModel):
    """Knobs of a local run; unknown names are refused (a typo is an error, not a no-op)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    method: Method | None = Field(None, description="deprecated: hyperparameters tuning")
    lora_r: int | None = Field(None, ge=1, le=1024, description="deprecated: lora_rank")
    lora_alpha: float | None = Field(
        None, gt=0, description="deprecated: hyperparameters lora_alpha"
    )
    lora_dropout: float | None = Field(
        None, ge=0, lt=1, description="deprecated: hyperparameters lora_dropout"
    )
    target_modules: list[str] | Literal["all-linear"] = Field(
        "all-linear", description="module names to adapt; 'all-linear' = every linear layer"
    )
    max_length: int = Field(1024, ge=8, description="tokens per example; longer ones are cut")
    micro_batch_size: int | None = Field(
        None, ge=1, description="examples per forward pass per process (default: as many as fit)"
    )
    gradient_checkpointing: bool | None = Field(
        None, description="trade compute for memory (default: on with CUDA, off on CPU)"
    )
    lr_scheduler: Literal[
        "linear", "cosine", "constant", "constant_with_warmup", "cosine_with_restarts", "polynomial"
    ] = "linear"
    weight_decay: float = Field(0.0, ge=0)
    max_grad_norm: float = Field(1.0, gt=0)
    max_steps: int | None = Field(None, ge=1, description="stop after this many steps")
    padding_free: bool = Field(
        True,
        description="concatenate each batch's examples instead of padding them (same examples "
        "per step, same loss, fewer wasted tokens)",
    )
    eval_split: float | None = Field(
        None, gt=0, lt=0.5, description="fraction of the training file held out for eval loss"
    )
    eval_steps: int | None = Field(None, ge=1, description="evaluate every N steps")
    early_stopping_patience: int | None = Field(
        None, ge=1, description="stop after N evaluations without a better eval loss"
    )
    save_steps: int | None = Field(
        None, ge=1, description="checkpoint every N steps (default: about ten per run)"
    )
    save_total_limit: int = Field(2, ge=1, description="checkpoints kept on disk")
    logging_steps: int = Field(1, ge=1)
    num_processes: int = Field(
        1, ge=1, le=64, description="processes through torchrun (DDP: gloo on CPU, nccl on GPU)"
    )
    device: Literal["auto", "cpu", "cuda"] = "auto"
    compute_dtype: Literal["auto", "bfloat16", "float16", "float32"] = Field(
        "auto", description="auto: bfloat16 on CUDA (float16 where bf16 is missing), float32 on CPU"
    )
    attn_implementation: str | None = Field(None, description="sdpa, eager, flash_attention_2...")
    chat_template: str | None = Field(
        None, description="Jinja text or a .jinja path, replacing the tokenizer's template"
    )
    trust_remote_code: bool = Field(False, description="run code shipped with the model")
    from_job: str | None = Field(
        None,
        min_length=1,
        description="DPO: continue the model of an earlier succeeded local job "
        "('local:ft-...' or its run id) instead of starting from the base",
    )
    dpo_beta: float = Field(
        0.1, gt=0, description="DPO: how far the trained model may move from the reference"
    )

    @model_validator(mode="after")
    def _consistent(self) -> LocalOptions:
        if self.early_stopping_patience is not None and self.eval_steps is None:
            # Early stopping decides at each evaluation; without a cadence it never would.
            raise ValueError("early_stopping_patience needs eval_steps (how often to evaluate)")
        return self

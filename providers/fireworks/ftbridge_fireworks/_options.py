"""Fireworks-specific options: ``ftbridge.submit(..., options={...})``.

    job = ftbridge.submit(ds, provider="fireworks", model="llama-v3p1-8b-instruct",
                          hyperparameters={"epochs": 2, "lora_rank": 16},
                          options={"max_context_length": 8192, "early_stop": True})

The unified hyperparameters cover epochs, learning rate, batch size (examples per step:
Fireworks' ``batchSizeSamples``), the kind of tuning (Fireworks trains LoRA adapters) and the
LoRA rank. Everything else Fireworks takes is here; an unknown name is an error. Weights &
Biases logging is left out on purpose: its settings include an API key, and a job's options are
stored.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class FireworksOptions(BaseModel):
    """Options of a Fireworks fine-tuning job (all optional; ``None`` = Fireworks' default)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_context_length: int | None = Field(
        default=None, ge=1, description="training context in tokens (Fireworks: >= 32768 mostly)"
    )
    batch_size_tokens: int | None = Field(
        default=None, ge=1, description="tokens packed into one forward step (``batchSize``)"
    )
    learning_rate_warmup_steps: int | None = Field(default=None, ge=0)
    gradient_accumulation_steps: int | None = Field(default=None, ge=1)
    optimizer_weight_decay: float | None = Field(default=None, ge=0)
    early_stop: bool | None = Field(
        default=None, description="SFT: stop when the evaluation loss stops improving"
    )
    eval_auto_carveout: bool | None = Field(
        default=None,
        description="SFT: carve an evaluation set out of the training data (Fireworks' default "
        "when no validation file is given)",
    )
    jinja_template: str | None = Field(default=None, min_length=1)
    warm_start_from: str | None = Field(
        default=None,
        min_length=1,
        description="continue training a LoRA model (accounts/<acct>/models/<id>) instead of "
        "starting from the base model",
    )
    output_model: str | None = Field(
        default=None,
        pattern=r"^[a-z0-9][a-z0-9-]{0,62}$",
        description="the fine-tuned model's id (default: the job id ftbridge chooses)",
    )
    display_name: str | None = Field(default=None, min_length=1, max_length=200)
    is_turbo: bool | None = None
    nodes: int | None = Field(default=None, ge=1)
    region: str | None = Field(default=None, pattern=r"^[A-Z0-9_]+$")
    dpo_beta: float | None = Field(default=None, gt=0, lt=0.5, description="DPO only")
    loss_method: Literal["DPO", "ORPO"] | None = Field(
        default=None, description="preference jobs only (Fireworks' default: DPO)"
    )
    deployment: str | None = Field(
        default=None,
        min_length=1,
        description="a deployment serving the fine-tuned model: chat goes to "
        "<model>#<deployment> instead of serverless",
    )

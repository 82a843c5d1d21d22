"""What OpenAI offers that the unified hyperparameters lack, validated before anything is sent.

ftbridge.submit(ds, provider="openai", model="gpt-4o-mini",
                options={"beta": 0.2, "wandb_project": "support-bot"})
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

MB = 1024 * 1024


class OpenAIOptions(BaseModel):
    """Options of the ``openai`` provider (unknown names are refused)."""

    model_config = ConfigDict(extra="forbid")

    beta: float | None = Field(
        default=None, gt=0, le=2, description="DPO only: how far the model may move from the base"
    )
    metadata: dict[str, str] = Field(
        default_factory=dict,
        description="extra job metadata (at most 15 keys; ftbridge adds its idempotency key)",
    )
    wandb_project: str | None = Field(default=None, description="report to Weights & Biases")
    wandb_entity: str | None = None
    wandb_tags: list[str] = Field(default_factory=list)
    checkpoint_step: int | None = Field(
        default=None,
        ge=1,
        description="chat with the checkpoint saved at this step instead of the final model",
    )
    reuse_uploads: bool = Field(
        default=True, description="reuse a file already uploaded with the same sha256"
    )
    upload_part_size: int = Field(
        default=64 * MB, ge=1, le=64 * MB, description="part size for the Uploads API"
    )
    upload_threshold: int = Field(
        default=512 * MB,
        ge=0,
        le=512 * MB,
        description="files larger than this go through the Uploads API in parts",
    )

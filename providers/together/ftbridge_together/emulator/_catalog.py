"""The base models the emulator can fine-tune: their limits, prices and how results are served."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class BaseModel:
    """One fine-tunable base model."""

    name: str
    full_training: bool = True
    serverless_lora: bool = False  # LoRA results callable by their output name
    max_seq_length: int = 8192
    max_rank: int = 64
    default_rank: int = 16
    lora_batch: tuple[int, int, int] = (8, 32, 16)  # min, max (SFT), max (DPO)
    full_batch: tuple[int, int, int] = (8, 32, 16)
    target_modules: tuple[str, ...] = (
        "q_proj",
        "k_proj",
        "v_proj",
        "o_proj",
        "gate_proj",
        "up_proj",
        "down_proj",
    )
    price_per_million: dict[str, float] = field(
        default_factory=lambda: {"Lora": 0.48, "Full": 0.54}
    )

    def limits(self) -> dict[str, Any]:
        """The ``GET /v1/fine-tunes/models/limits`` body (spec fields plus the SDK's)."""
        lo, hi, hi_dpo = self.lora_batch
        body: dict[str, Any] = {
            "model_name": self.name,
            "default_gradient_accumulation_steps": 1,
            "max_learning_rate": 1.0,
            "min_learning_rate": 1e-8,
            "max_num_checkpoints": 10,
            "max_num_epochs": 20,
            "max_num_evals": 100,
            "max_seq_length_sft": self.max_seq_length,
            "max_seq_length_dpo": self.max_seq_length // 2,
            "min_max_seq_length": 512,
            "merge_output_lora": True,
            "supports_full_training": self.full_training,
            "supports_reasoning": False,
            "supports_tools": True,
            "supports_vision": False,
            "lora_training": {
                "default_rank": self.default_rank,
                "max_batch_size": hi,
                "max_batch_size_dpo": hi_dpo,
                "max_rank": self.max_rank,
                "min_batch_size": lo,
                "target_modules": list(self.target_modules),
            },
        }
        if self.full_training:
            flo, fhi, fhi_dpo = self.full_batch
            body["full_training"] = {
                "max_batch_size": fhi,
                "max_batch_size_dpo": fhi_dpo,
                "min_batch_size": flo,
            }
        return body


DEFAULT_MODELS: tuple[BaseModel, ...] = (
    BaseModel("meta-llama/Meta-Llama-3.1-8B-Instruct-Reference", serverless_lora=True),
    BaseModel(
        "meta-llama/Meta-Llama-3.1-70B-Instruct-Reference",
        full_training=False,
        serverless_lora=True,
        lora_batch=(8, 16, 8),
    ),
    BaseModel("Qwen/Qwen2.5-7B-Instruct", serverless_lora=False, max_seq_length=16384),
    BaseModel("Qwen/Qwen3-0.6B", serverless_lora=True, max_seq_length=4096, max_rank=32),
)

"""The base models the emulator knows, as ``GET /v1/accounts/fireworks/models/{id}`` shows them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class BaseModel:
    """One base model: can it be tuned, served serverless (with LoRA), how long a context."""

    id: str
    parameters: int
    context_length: int = 131_072
    training_context_length: int = 32_768
    tunable: bool = True
    supports_lora: bool = True
    serverless: bool = True

    @property
    def name(self) -> str:
        return f"accounts/fireworks/models/{self.id}"

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "displayName": self.id,
            "createTime": "2024-07-23T00:00:00Z",
            "state": "READY",
            "status": {"code": "OK", "message": ""},
            "kind": "HF_BASE_MODEL",
            "public": True,
            "contextLength": self.context_length,
            "trainingContextLength": self.training_context_length,
            "tunable": self.tunable,
            "supportsLora": self.supports_lora,
            "supportsServerless": self.serverless,
            "baseModelDetails": {
                "worldSize": 1,
                "parameterCount": str(self.parameters),
                "moe": False,
                "tunable": self.tunable,
                "checkpointFormat": "HUGGINGFACE",
            },
        }


DEFAULT_MODELS = (
    BaseModel("llama-v3p1-8b-instruct", 8_030_000_000),
    BaseModel("qwen2p5-7b-instruct", 7_620_000_000, serverless=False),
    BaseModel("llama-v3p1-70b-instruct", 70_600_000_000, training_context_length=16_384),
    BaseModel("deepseek-v3", 671_000_000_000, tunable=False),
)

"""Helpers for the serving tests: adapters made with PEFT on the tiny model, and what PEFT alone
answers.

Adapters are LoRA weights with a random (not zero) init, so each one visibly changes the tiny
model's replies without training. The reference answer for an adapter is PEFT's own
single-request greedy ``generate`` with that adapter alone on its base.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ftbridge_local.testing import TINY_CHAT_TEMPLATE

API_KEY = "sk-serve-test-0123456789"
# One adapter renders prompts with its own template (a system line first), as it was trained.
OWN_TEMPLATE = "{{ '<|im_start|>system\\nAnswer briefly.<|im_end|>\\n' }}" + TINY_CHAT_TEMPLATE
QUESTIONS = [
    "What is the sky?",
    "Tell me about the fox.",
    "What colour is grass?",
    "Where is paris?",
    "Say hello.",
    "What is snow?",
]


@dataclass(frozen=True)
class Adapters:
    base: Path
    paths: dict[str, Path]  # name -> directory


def make_adapter(
    base: Path,
    out: Path,
    *,
    seed: int,
    rank: int = 4,
    dora: bool = False,
    quantized: bool = False,
    template: str | None = None,
    meta: bool = True,
) -> Path:
    """A LoRA adapter on ``base`` with random weights, saved like a local run's ``model/``."""
    import torch
    from ftbridge_local._modeling import load_base, quiet_loading
    from peft import LoraConfig, get_peft_model
    from transformers import AutoTokenizer

    torch.manual_seed(seed)
    with quiet_loading():
        model = load_base(
            str(base), method="qlora" if quantized else "lora", dtype_name="float32", device="cpu"
        )
        config = LoraConfig(
            r=rank,
            lora_alpha=4 * rank,
            target_modules="all-linear",
            init_lora_weights=False,  # random A and B: the adapter changes outputs at once
            use_dora=dora,
            lora_dropout=0.0,
        )
        get_peft_model(model, config).save_pretrained(out)
    tokenizer = AutoTokenizer.from_pretrained(base)
    if template is not None:
        tokenizer.chat_template = template
    tokenizer.save_pretrained(out)
    if meta:
        method = "dora" if dora else "qlora" if quantized else "lora"
        (out / "ftbridge_model.json").write_text(
            json.dumps({"base_model": str(base), "method": method, "compute_dtype": "float32"})
        )
    return out


class Reference:
    """PEFT's own single-request greedy answers, one model per adapter (cached)."""

    def __init__(self) -> None:
        self._models: dict[tuple[str, str | None, bool], tuple[Any, Any]] = {}

    def _model(self, base: Path, adapter: Path | None, quantized: bool) -> tuple[Any, Any]:
        key = (str(base), str(adapter) if adapter else None, quantized)
        if key not in self._models:
            from ftbridge_local._modeling import (
                keep_4bit_layers_differentiable,
                load_base,
                quiet_loading,
            )
            from peft import PeftModel
            from transformers import AutoTokenizer

            with quiet_loading():
                model = load_base(
                    str(base),
                    method="qlora" if quantized else "lora",
                    dtype_name="float32",
                    device="cpu",
                )
                keep_4bit_layers_differentiable(model)
                if adapter is not None:
                    model = PeftModel.from_pretrained(model, str(adapter))
            model.eval()
            tokenizer = AutoTokenizer.from_pretrained(adapter or base)
            self._models[key] = (model, tokenizer)
        return self._models[key]

    def answer(
        self,
        base: Path,
        adapter: Path | None,
        question: str,
        max_tokens: int,
        *,
        quantized: bool = False,
    ) -> str:
        import torch

        model, tokenizer = self._model(base, adapter, quantized)
        ids = tokenizer.apply_chat_template(
            [{"role": "user", "content": question}],
            add_generation_prompt=True,
            return_tensors="pt",
            return_dict=True,
        )
        with torch.inference_mode():
            out = model.generate(
                **ids,
                max_new_tokens=max_tokens,
                do_sample=False,
                pad_token_id=tokenizer.pad_token_id,
                eos_token_id=tokenizer.eos_token_id,
            )
        new = out[0, ids["input_ids"].shape[1] :].tolist()
        return str(tokenizer.decode(new, skip_special_tokens=True))

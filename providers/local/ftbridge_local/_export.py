"""Exporting a trained local model: the adapter alone, or merged into its base.

A QLoRA adapter was trained against the NF4 weights, not the original ones, so the merge goes
into the *dequantised* NF4 base (the weights the adapter actually saw) in full precision; it is
never merged into 4-bit weights, whose re-rounding would lose what was learned::

    from ftbridge_local import export_model

    export_model("~/.ftbridge/runs/ft-0123456789abcdef", "./merged")          # safetensors
    export_model("~/.ftbridge/runs/ft-0123456789abcdef", "./adapter", merge=False)
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Literal

from ._handle import model_dir_of
from ._modeling import load_base, quiet_loading
from ._runs import MODEL_META

_ADAPTER_FILES = ("adapter_model.safetensors", "adapter_config.json")


def export_model(
    source: str | Path,
    path: str | Path,
    *,
    merge: bool = True,
    dtype: Literal["auto", "bfloat16", "float16", "float32"] = "auto",
) -> Path:
    """Write the model of a run (or of its ``model/`` directory) to ``path``.

    ``merge=True`` writes a standalone model (``model.safetensors``, ``config.json``, tokenizer
    and chat template) that loads with ``AutoModelForCausalLM.from_pretrained(path)``.
    ``merge=False`` copies the adapter (safetensors) and tokenizer. ``dtype="auto"`` keeps the
    training compute dtype (float32 for a run trained on CPU).
    """
    import torch
    from transformers import AutoTokenizer

    model_dir = model_dir_of(source)
    meta = json.loads((model_dir / MODEL_META).read_text())
    out = Path(path).expanduser()
    out.mkdir(parents=True, exist_ok=True)
    trust = bool(meta.get("trust_remote_code"))
    tokenizer = AutoTokenizer.from_pretrained(model_dir, trust_remote_code=trust)

    if meta["method"] == "full" or not merge:
        for item in model_dir.iterdir():
            if item.is_file() and item.name != MODEL_META:
                shutil.copy2(item, out / item.name)
        if not merge:
            (out / MODEL_META).write_text(json.dumps(meta, indent=1) + "\n")
        return out

    dtype_name = meta["compute_dtype"] if dtype == "auto" else dtype
    from peft import PeftModel

    # Merging is cheap; doing it on CPU keeps the GPU free and works everywhere.
    with quiet_loading():
        base = load_base(
            meta["base_model"],
            method=meta["method"],
            dtype_name=dtype_name,
            device="cpu",
            trust_remote_code=trust,
        )
        if meta["method"] == "qlora":
            base = _dequantized(base, getattr(torch, dtype_name))
        merged = PeftModel.from_pretrained(base, model_dir).merge_and_unload()
        merged.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    return out


def _dequantized(model: Any, dtype: Any) -> Any:
    """The 4-bit model with plain weights in ``dtype`` (transformers before 5 take no dtype)."""
    import inspect

    if "dtype" in inspect.signature(model.dequantize).parameters:
        return model.dequantize(dtype=dtype)
    return model.dequantize().to(dtype)

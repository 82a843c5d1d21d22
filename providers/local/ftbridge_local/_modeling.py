"""Loading a base model the way a run trains it, shared by training, the handle and export.

The recipe of a run is recorded in ``model/ftbridge_model.json`` so that the handle loads the
base exactly as it was trained (4-bit NF4 with double quantisation for QLoRA, same compute
dtype) before attaching the adapter.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import warnings
from collections.abc import Iterator
from typing import Any

import torch

from ._options import LocalOptions
from ._plan import Resolved


@contextlib.contextmanager
def quiet_loading() -> Iterator[None]:
    """Load models without progress bars and deprecation notices the user cannot act on."""
    from transformers.utils import logging as hf_logging

    # bitsandbytes suggests a hub-downloaded CPU kernel at import; the recipe never uses it.
    logging.getLogger("bitsandbytes.backends.cpu.ops").setLevel(logging.ERROR)
    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*gradient_checkpointing.*deprecated")
            yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()


_DTYPES = {"bfloat16": torch.bfloat16, "float16": torch.float16, "float32": torch.float32}


def pick_device(opts: LocalOptions) -> str:
    """``cuda`` when present (or asked for), else ``cpu``."""
    if opts.device == "cpu":
        return "cpu"
    if opts.device == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("options.device is 'cuda' but no CUDA device is available")
    return "cuda" if torch.cuda.is_available() else "cpu"


def pick_dtype(opts: LocalOptions, device: str) -> str:
    """The compute dtype's name: bf16 on CUDA (fp16 on GPUs without it), fp32 on CPU."""
    if opts.compute_dtype != "auto":
        return opts.compute_dtype
    if device == "cuda":
        return "bfloat16" if torch.cuda.is_bf16_supported() else "float16"
    return "float32"


def quantization_config(method: str, dtype_name: str) -> Any:
    """NF4 with double quantisation for QLoRA; ``None`` otherwise.

    The packed weights keep bitsandbytes' default uint8 storage: FSDP-QLoRA would need
    ``bnb_4bit_quant_storage`` equal to the compute dtype (see the package README).
    """
    if method != "qlora":
        return None
    from transformers import BitsAndBytesConfig

    dtype = _DTYPES[dtype_name]
    return BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_use_double_quant=True,
        bnb_4bit_compute_dtype=dtype,
    )


def training_attention(opts: LocalOptions, device: str, dtype_name: str) -> str | None:
    """The attention a run trains with: the user's choice, else one that suits padding-free.

    Padding-free rows hold several examples; flash-attention's varlen kernel (CUDA, fp16/bf16,
    ``flash_attn`` installed) attends within each one, and elsewhere ``ftbridge_varlen`` does the
    same with one causal SDPA call per example. Padded batches keep transformers' default.
    """
    if opts.attn_implementation or not opts.padding_free:
        return opts.attn_implementation
    has_flash = importlib.util.find_spec("flash_attn") is not None
    if device == "cuda" and dtype_name != "float32" and has_flash:
        return "flash_attention_2"
    from ._varlen import VARLEN_ATTENTION

    return VARLEN_ATTENTION


def device_map_for(device: str) -> dict[str, int] | None:
    """One process, one device: each DDP rank puts the whole model on its own GPU."""
    if device != "cuda":
        return None
    return {"": int(os.environ.get("LOCAL_RANK", "0"))}


def load_base(
    model_id: str,
    *,
    method: str,
    dtype_name: str,
    device: str,
    trust_remote_code: bool = False,
    attn_implementation: str | None = None,
) -> Any:
    """The base model as the recipe trains it (quantised for QLoRA)."""
    from transformers import AutoModelForCausalLM

    kwargs: dict[str, Any] = {
        "dtype": _DTYPES[dtype_name],
        "trust_remote_code": trust_remote_code,
        "device_map": device_map_for(device),
    }
    quant = quantization_config(method, dtype_name)
    if quant is not None:
        kwargs["quantization_config"] = quant
    if attn_implementation:
        from ._varlen import VARLEN_ATTENTION, register

        if attn_implementation == VARLEN_ATTENTION:
            register()
        kwargs["attn_implementation"] = attn_implementation
    return AutoModelForCausalLM.from_pretrained(model_id, **kwargs)


def keep_4bit_layers_differentiable(model: Any) -> None:
    """Stop bitsandbytes from repacking 4-bit weights for CPU inference during training.

    On CPUs with AVX512-BF16, a ``Linear4bit`` called in eval mode without gradients (an
    evaluation pass) repacks its weight for a fast inference kernel that has no backward; the
    training steps after it would then get no gradient through those layers, silently.
    """
    try:
        from bitsandbytes.nn import Linear4bit
    except ImportError:  # pragma: no cover - only QLoRA needs it
        return
    for module in model.modules():
        if isinstance(module, Linear4bit):
            module.support_avx512bf16_for_cpu = False


def lora_config(hp: Resolved, opts: LocalOptions) -> Any:
    from peft import LoraConfig

    target = (
        opts.target_modules if opts.target_modules == "all-linear" else list(opts.target_modules)
    )
    # peft scales by alpha / r: an integral alpha is kept an int (as peft types it), a
    # fractional one works as well.
    alpha = int(hp.lora_alpha) if float(hp.lora_alpha).is_integer() else hp.lora_alpha
    return LoraConfig(
        r=hp.lora_rank,
        lora_alpha=alpha,  # type: ignore[arg-type]
        lora_dropout=hp.lora_dropout,
        target_modules=target,
        use_dora=hp.tuning == "dora",
        bias="none",
        task_type="CAUSAL_LM",
    )

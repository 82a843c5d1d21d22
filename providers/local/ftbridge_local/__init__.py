"""ftbridge's local provider: QLoRA (default), LoRA, DoRA or full fine-tuning on this machine.

Built on TRL's ``SFTTrainer``, PEFT and bitsandbytes. A job is a run directory under
``$FTBRIDGE_HOME/runs/<id>/`` plus a detached worker process (``python -m ftbridge_local.worker
<id>``, or ``torchrun`` for ``options={"num_processes": N}``), followed like any remote job::

    import ftbridge

    job = ftbridge.submit("data.jsonl", provider="local", model="Qwen/Qwen2.5-0.5B-Instruct",
                          hyperparameters={"epochs": 2}, options={"lora_r": 16})
    job.wait()
    with job.model() as model:
        print(model.chat([{"role": "user", "content": "hi"}], max_tokens=50).text)
        model.export("./merged")        # merged into the dequantised base, safetensors

Multi-GPU with FSDP-QLoRA (for models too large for one GPU; not launched by ftbridge): load
with ``BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
bnb_4bit_use_double_quant=True, bnb_4bit_compute_dtype=torch.bfloat16,
bnb_4bit_quant_storage=torch.bfloat16)`` and ``dtype=torch.bfloat16`` (FSDP shards floating-point
tensors only, so the packed 4-bit weights must be stored in the compute dtype), then launch
``accelerate launch --config_file fsdp.yaml`` with ``fsdp_cpu_ram_efficient_loading: true`` and
``fsdp_use_orig_params: false``. See the package README.

Importing this package loads neither torch nor transformers; they load on first use.
"""

from __future__ import annotations

from ftbridge._lazy import lazy_exports

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    "LocalModelHandle": "._handle",
    "LocalOptions": "._options",
    "LocalProvider": "._provider",
    "build_tiny_model": ".testing",
    "export_model": "._export",
    "load_model": "._handle",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_exports(__name__, _EXPORTS)


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])

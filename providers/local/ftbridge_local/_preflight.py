"""Before a local run starts: will it fit, how long will it take, is anything wrong?

Memory is estimated as parameters × bytes per parameter (4-bit NF4 ≈ 0.53 bytes for QLoRA's
quantised linear layers) plus what training adds (gradients and AdamW's two moments for every
trained parameter) plus activations, with a margin; a run that cannot fit is refused with the
numbers. Times are rough: a FLOP count (about 4 × parameters per token for adapters, 6 × for
full training) at a nominal speed.
"""

from __future__ import annotations

import dataclasses
import json
import math
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._options import FORMATS, LocalOptions

GIB = 1024**3
NF4_BYTES = 0.53  # 4 bits plus block constants (double-quantised)
CPU_FLOPS_PER_CORE = 5e9
GPU_FLOPS = 1e14
STARTUP_SECONDS = {"cpu": 15.0, "cuda": 30.0}


@dataclass(frozen=True)
class ModelSize:
    linear: int  # parameters in quantisable linear layers (not embeddings, not the LM head)
    other: int
    adapter_io: int  # sum of (in + out) features over linear layers: LoRA params = r × this
    hidden: int
    layers: int
    vocab: int

    @property
    def total(self) -> int:
        return self.linear + self.other


def _safetensors_shapes(directory: Path) -> dict[str, list[int]]:
    shapes: dict[str, list[int]] = {}
    for file in sorted(directory.glob("*.safetensors")):
        with open(file, "rb") as fh:
            (length,) = struct.unpack("<Q", fh.read(8))
            header = json.loads(fh.read(length))
        for name, info in header.items():
            if name != "__metadata__":
                shapes[name] = list(info["shape"])
    return shapes


def _from_shapes(shapes: dict[str, list[int]], config: dict[str, Any]) -> ModelSize:
    linear = other = io = 0
    for name, shape in shapes.items():
        n = math.prod(shape)
        if len(shape) == 2 and "embed" not in name and "lm_head" not in name:
            linear += n
            io += shape[0] + shape[1]
        else:
            other += n
    return ModelSize(
        linear,
        other,
        io,
        int(config.get("hidden_size", 0)),
        int(config.get("num_hidden_layers", 0)),
        int(config.get("vocab_size", 0)),
    )


def _from_config(config: dict[str, Any]) -> ModelSize:
    h = int(config["hidden_size"])
    n_layers = int(config["num_hidden_layers"])
    inter = int(config.get("intermediate_size", 4 * h))
    vocab = int(config["vocab_size"])
    heads = int(config.get("num_attention_heads", 1))
    kv = int(config.get("num_key_value_heads", heads))
    head_dim = int(config.get("head_dim") or h // heads)
    q, kvd = heads * head_dim, kv * head_dim
    per_layer = [(h, q), (h, kvd), (h, kvd), (q, h), (h, inter), (h, inter), (inter, h)]
    linear = n_layers * sum(a * b for a, b in per_layer)
    io = n_layers * sum(a + b for a, b in per_layer)
    embeddings = vocab * h * (1 if config.get("tie_word_embeddings") else 2)
    return ModelSize(linear, embeddings + n_layers * 2 * h + h, io, h, n_layers, vocab)


def model_size(model: str, trust_remote_code: bool = False) -> ModelSize:
    """Parameter counts of a local directory (exact, from safetensors headers) or a hub id."""
    path = Path(model).expanduser()
    if path.is_dir():
        config = json.loads((path / "config.json").read_text(encoding="utf-8"))
        config = config.get("text_config", config)
        shapes = _safetensors_shapes(path)
        return _from_shapes(shapes, config) if shapes else _from_config(config)
    from transformers import AutoConfig

    cfg = AutoConfig.from_pretrained(model, trust_remote_code=trust_remote_code)
    return _from_config(cfg.get_text_config().to_dict())


def memory_bytes(
    size: ModelSize,
    tuning: str,
    lora_rank: int,
    *,
    dpo: bool = False,
    dtype_bytes: int,
    micro_batch: int,
    seq_len: int,
    checkpointing: bool,
) -> dict[str, float]:
    """The parts of the peak memory of one training process, in bytes."""
    if tuning == "qlora":
        weights = size.linear * NF4_BYTES + size.other * dtype_bytes
    else:
        weights = size.total * dtype_bytes
    if tuning == "full":
        trained = size.total
        # gradients in the weights' dtype, AdamW's two fp32 moments (and fp32 master weights
        # when the weights are half precision)
        training = trained * (dtype_bytes + 8 + (4 if dtype_bytes < 4 else 0))
    else:
        trained = lora_rank * size.adapter_io
        training = trained * 16  # fp32 weight, gradient and two moments
    if dpo and tuning == "full":
        weights *= 2  # a frozen copy of the weights is the reference model
    per_token_layer = (2 if checkpointing else 16) * size.hidden * dtype_bytes
    # DPO runs each pair's chosen and rejected replies through the model together
    rows = micro_batch * (2 if dpo else 1)
    activations = rows * seq_len * (size.layers * per_token_layer + 2 * size.vocab * 4)
    subtotal = weights + training + activations
    return {
        "weights": weights,
        "optimizer_and_gradients": training,
        "activations": activations,
        "trained_parameters": float(trained),
        "total": subtotal * 1.15 + 0.5 * GIB,
    }


def seconds_estimate(
    size: ModelSize,
    opts: LocalOptions,
    tuning: str,
    *,
    dpo: bool = False,
    tokens: int,
    device: str,
    processes: int,
) -> float:
    per_token = float((6 if tuning == "full" else 4) * size.total)
    if dpo:
        per_token += 2 * size.total  # the reference model's forward pass
    if opts.gradient_checkpointing or (opts.gradient_checkpointing is None and device == "cuda"):
        per_token *= 4 / 3  # the forward pass runs twice
    if device == "cuda":
        speed = GPU_FLOPS * processes
    else:
        import os

        speed = CPU_FLOPS_PER_CORE * (os.cpu_count() or 1)
    return STARTUP_SECONDS[device] + per_token * tokens / speed


def available_memory(device: str) -> tuple[float, str]:
    """Free bytes on the training device and where that number comes from."""
    if device == "cuda":
        import torch

        free, _total = torch.cuda.mem_get_info(0)
        return float(free), f"free memory of {torch.cuda.get_device_name(0)}"
    import psutil

    return float(psutil.virtual_memory().available), "available system memory"


def _gpus(opts: LocalOptions) -> tuple[bool, int]:
    """Whether CUDA is usable and how many GPUs, without importing torch on a machine with none.

    Importing torch takes seconds, which would be added to every submit on a CPU machine.
    """
    import os
    import sys

    if opts.device == "cpu":
        return False, 0
    no_devices = not any(os.path.exists(p) for p in ("/dev/nvidiactl", "/dev/kfd", "/dev/dxg"))
    if sys.platform.startswith("linux") and no_devices and opts.device == "auto":
        return False, 0
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        return False, 0
    cuda = torch.cuda.is_available()
    return cuda, torch.cuda.device_count() if cuda else 0


def _fmt_gib(n: float) -> str:
    return f"{n / GIB:.2f} GiB"


def preflight(dataset: Any, spec: Any, opts: LocalOptions) -> Any:
    """Problems that stop the run, warnings, and the memory/time estimates shown before it."""
    from ftbridge._models import Preflight

    from ._plan import plan_batches, resolve, total_steps

    problems: list[str] = []
    warnings: list[str] = []
    estimates: dict[str, Any] = {}
    hp = resolve(spec.hyperparameters, opts)
    fmt = getattr(dataset, "format", spec.training.format)
    dpo = spec.method == "dpo"
    if fmt not in FORMATS:
        problems.append(
            f"the local provider trains on {', '.join(sorted(FORMATS))} data, not {fmt!r}"
        )
    elif dpo != (fmt == "preference"):
        problems.append(
            f"method {spec.method!r} does not train on {fmt!r} data: DPO takes preference "
            "pairs, SFT takes chat, instruction or text"
        )
    if not dpo and "dpo_beta" in opts.model_fields_set:
        problems.append("options dpo_beta applies to DPO (a preference dataset); remove it")
    if opts.from_job is not None:
        from ._lineage import earlier_model
        from ._lineage import problems as lineage_problems

        found = lineage_problems(spec, spec.hyperparameters.tuning, opts.from_job)
        problems.extend(found)
        if not found:
            hp = dataclasses.replace(hp, tuning=earlier_model(opts.from_job).tuning)
            estimates["from_job"] = opts.from_job
    if spec.hyperparameters.learning_rate_multiplier is not None:
        problems.append(
            "learning_rate_multiplier is not supported locally; pass an absolute "
            "learning_rate instead"
        )
    has_eval = spec.validation is not None or opts.eval_split is not None
    if opts.early_stopping_patience and not has_eval:
        problems.append("early_stopping_patience needs a validation file or options.eval_split")

    try:
        plan = plan_batches(hp.batch_size, opts.num_processes, opts.micro_batch_size)
    except ValueError as exc:
        problems.append(str(exc))
        plan = None

    import importlib.util

    cuda, gpus = _gpus(opts)
    device = "cpu" if opts.device == "cpu" or not cuda else "cuda"
    if opts.device == "cuda" and not cuda:
        problems.append("options.device is 'cuda' but no CUDA device is available")
    if device == "cuda" and opts.num_processes > gpus:
        problems.append(f"num_processes {opts.num_processes} exceeds the {gpus} visible GPUs")
    if hp.tuning == "qlora" and importlib.util.find_spec("bitsandbytes") is None:
        problems.append("tuning 'qlora' needs bitsandbytes: pip install bitsandbytes")
    if hp.tuning == "full" and "target_modules" in opts.model_fields_set:
        problems.append(
            "options target_modules chooses the layers LoRA adapts; tuning 'full' trains every "
            "weight: remove it or choose tuning 'lora', 'qlora' or 'dora'"
        )
    estimates["device"] = device
    estimates["processes"] = opts.num_processes

    model_path = Path(spec.model).expanduser()
    looks_local = model_path.is_absolute() or spec.model.startswith((".", "~"))
    if looks_local and not model_path.is_dir():
        problems.append(f"model directory {spec.model!r} does not exist")
        return Preflight(problems=tuple(problems), warnings=tuple(warnings), estimates=estimates)
    try:
        size = model_size(spec.model, opts.trust_remote_code)
    except Exception as exc:  # unreadable config, offline hub id...
        warnings.append(f"could not read the size of {spec.model!r} ({exc}); no memory estimate")
        return Preflight(problems=tuple(problems), warnings=tuple(warnings), estimates=estimates)

    stats = getattr(dataset, "stats", None)
    examples = int(getattr(stats, "examples", 0) or getattr(dataset, "example_count", 0) or 0)
    tokens = int(getattr(stats, "total_tokens", 0) or 0)
    longest = int(getattr(stats, "max_example_tokens", 0) or 0) or opts.max_length
    seq_len = min(longest, opts.max_length)
    dtype_bytes = 2 if device == "cuda" and opts.compute_dtype != "float32" else 4
    if opts.compute_dtype in {"bfloat16", "float16"}:
        dtype_bytes = 2
    checkpointing = (
        (device == "cuda") if opts.gradient_checkpointing is None else opts.gradient_checkpointing
    )
    estimates["parameters"] = size.total
    if plan is not None:
        per_process = memory_bytes(
            size,
            hp.tuning,
            hp.lora_rank,
            dpo=dpo,
            dtype_bytes=dtype_bytes,
            micro_batch=plan.micro_batch_size,
            seq_len=seq_len,
            checkpointing=checkpointing,
        )
        estimates["trained_parameters"] = int(per_process["trained_parameters"])
        estimates["memory_per_process_gib"] = round(per_process["total"] / GIB, 3)
        need = per_process["total"] * (opts.num_processes if device == "cpu" else 1)
        estimates["memory_needed_gib"] = round(need / GIB, 3)
        try:
            free, source = available_memory(device)
            estimates["memory_available_gib"] = round(free / GIB, 3)
            if need > free:
                parts = ", ".join(
                    f"{k} {_fmt_gib(v)}"
                    for k, v in per_process.items()
                    if k not in {"total", "trained_parameters"}
                )
                problems.append(
                    f"not enough memory: the run needs about {_fmt_gib(need)} ({parts}, plus "
                    f"margin) but the {source} is {_fmt_gib(free)}; try tuning 'qlora', a "
                    "smaller micro_batch_size or max_length, or gradient_checkpointing"
                )
        except Exception as exc:  # pragma: no cover - no way to ask the device
            warnings.append(f"could not read the free memory ({exc})")
        if examples:
            steps = total_steps(examples, hp.epochs, plan, opts.max_steps)
            estimates["total_steps"] = steps
            fraction = min(1.0, steps / max(1, total_steps(examples, hp.epochs, plan, None)))
            run_tokens = int(tokens * hp.epochs * fraction)
            estimates["training_tokens"] = run_tokens
            seconds = seconds_estimate(
                size,
                opts,
                hp.tuning,
                dpo=dpo,
                tokens=run_tokens,
                device=device,
                processes=opts.num_processes,
            )
            estimates["time_estimate_s"] = round(seconds, 1)
    if device == "cpu" and size.total > 2e9:
        warnings.append("training a model of this size on CPU will be very slow")
    return Preflight(problems=tuple(problems), warnings=tuple(warnings), estimates=estimates)

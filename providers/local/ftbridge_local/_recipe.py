"""The training recipe a worker runs: TRL ``SFTTrainer`` + PEFT + bitsandbytes.

One readable function, :func:`train`: read the run's spec, tokenize with the labels built in
``_data``, load the base the way the method asks, and hand everything to ``SFTTrainer`` with
the callbacks that report progress and stop on request.
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from datasets import Dataset
from transformers import AutoTokenizer, EarlyStoppingCallback
from trl import SFTConfig, SFTTrainer

from ftbridge._models import JobSpec

from ._callbacks import Progress, StopFlag, StopOnRequest
from ._data import read_jsonl, resolve_chat_template, stop_token_trained, tokenize_records
from ._modeling import (
    keep_4bit_layers_differentiable,
    load_base,
    lora_config,
    pick_device,
    pick_dtype,
    quantization_config,
    quiet_loading,
    training_attention,
)
from ._options import LocalOptions
from ._plan import Resolved, default_save_steps, plan_batches, resolve, total_steps, warmup_steps
from ._runs import MODEL_META, EventWriter, RunDir
from ._varlen import VARLEN_ATTENTION, PackedBatches


@dataclass
class Outcome:
    """How a training run ended, as the worker reports it."""

    cancelled_at: int | None
    steps: int
    trained_tokens: int


def hold_out(records: list[dict[str, Any]], fraction: float, seed: int) -> tuple[list, list]:
    """``(train, eval)``: a seeded ``fraction`` of the records held out for evaluation."""
    order = list(range(len(records)))
    random.Random(seed).shuffle(order)
    n_eval = max(1, round(len(records) * fraction))
    held = set(order[:n_eval])
    return (
        [r for i, r in enumerate(records) if i not in held],
        [r for i, r in enumerate(records) if i in held],
    )


def checkpointing_args(on: bool, config: type = SFTConfig) -> dict[str, Any]:
    """Activation checkpointing under its current name (older transformers: gradient_...)."""
    names = {f.name for f in dataclasses.fields(config)}
    key = (
        "activation_checkpointing"
        if "activation_checkpointing" in names
        else "gradient_checkpointing"
    )
    return {key: on, f"{key}_kwargs": {"use_reentrant": False} if on else None}


#: Trainer settings every local recipe shares: no reporting, no bars of its own (ftbridge's
#: events are the progress), data loaded in the training process.
QUIET_ARGS: dict[str, Any] = {
    "report_to": "none",
    "disable_tqdm": True,
    "dataloader_num_workers": 0,
}


def trainer_args(
    run: Any,
    hp: Any,
    opts: Any,
    plan: Any,
    warmup: int,
    save_steps: int,
    eval_steps: int,
    has_eval: bool,
    dtype: str,
    device: str,
) -> dict[str, Any]:
    """The ``TrainingArguments`` fields the SFT and DPO recipes set the same way."""
    return {
        "output_dir": str(run.checkpoints),
        "num_train_epochs": hp.epochs,
        "max_steps": opts.max_steps or -1,
        "per_device_train_batch_size": plan.micro_batch_size,
        "per_device_eval_batch_size": plan.micro_batch_size,
        "gradient_accumulation_steps": plan.accumulation,
        "learning_rate": hp.learning_rate,
        "lr_scheduler_type": opts.lr_scheduler,
        "warmup_steps": warmup,
        "weight_decay": opts.weight_decay,
        "max_grad_norm": opts.max_grad_norm,
        "seed": hp.seed,
        "data_seed": hp.seed,
        "logging_steps": opts.logging_steps,
        "save_strategy": "steps",
        "save_steps": save_steps,
        "save_total_limit": opts.save_total_limit,
        "eval_strategy": "steps" if has_eval else "no",
        "eval_steps": eval_steps if has_eval else None,
        "load_best_model_at_end": bool(opts.early_stopping_patience and has_eval),
        "metric_for_best_model": "eval_loss" if has_eval else None,
        "greater_is_better": False if has_eval else None,
        "bf16": dtype == "bfloat16",
        "fp16": dtype == "float16" and hp.tuning != "qlora",
        "use_cpu": device == "cpu",
    }


def ddp_args(world: int, device: str) -> dict[str, Any]:
    """Distributed settings for a run of ``world`` processes (none for one)."""
    return {
        "ddp_backend": ("nccl" if device == "cuda" else "gloo") if world > 1 else None,
        "ddp_find_unused_parameters": False if world > 1 else None,
    }


def run_callbacks(progress: Any, stopper: Any, opts: Any, has_eval: bool) -> list[Any]:
    """Progress events, stop-on-request, and early stopping when asked for with an eval set."""
    callbacks: list[Any] = [progress, stopper]
    if opts.early_stopping_patience and has_eval:
        callbacks.append(
            EarlyStoppingCallback(early_stopping_patience=opts.early_stopping_patience)
        )
    return callbacks


def load_tokenizer(model: str, opts: LocalOptions) -> tuple[Any, str, list[str]]:
    """The tokenizer with the template the run trains with (saved with the model)."""
    tokenizer = AutoTokenizer.from_pretrained(model, trust_remote_code=opts.trust_remote_code)
    template, warnings = resolve_chat_template(tokenizer, opts.chat_template)
    tokenizer.chat_template = template
    if tokenizer.pad_token is None:
        # Labels are built from the template's assistant spans, not from pad positions, so a pad
        # equal to EOS cannot hide the end-of-turn token from the loss here.
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer, template, warnings


def pick_training_device(opts: LocalOptions) -> tuple[str, str]:
    """``(device, compute dtype)`` of this process (its own GPU under torchrun)."""
    device = pick_device(opts)
    dtype = pick_dtype(opts, device)
    if device == "cuda":
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    return device, dtype


def train(run: RunDir, *, resume: bool, flag: StopFlag, events: EventWriter) -> Outcome:
    spec = JobSpec.model_validate_json(run.spec_file.read_text(encoding="utf-8"))
    if spec.method == "dpo":
        from ._dpo import train_dpo

        return train_dpo(run, spec, resume=resume, flag=flag, events=events)
    opts = LocalOptions(**spec.options)
    hp = resolve(spec.hyperparameters, opts)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    is_main = int(os.environ.get("RANK", "0")) == 0

    def note(message: str, level: str = "info") -> None:
        if is_main:
            events.emit(message, level=level)

    device, dtype = pick_training_device(opts)

    # -- data ----------------------------------------------------------------------------------
    tokenizer, template, warnings = load_tokenizer(spec.model, opts)
    if not stop_token_trained(tokenizer, template):
        warnings.append(
            "the chat template leaves the assistant's end-of-turn token out of the loss mask; "
            "the model may not learn to stop (pass options.chat_template with the token inside "
            "{% generation %}...{% endgeneration %})"
        )
    records = read_jsonl(run.train_file)
    eval_records = read_jsonl(run.valid_file) if run.valid_file.is_file() else None
    if eval_records is None and opts.eval_split:
        records, eval_records = hold_out(records, opts.eval_split, hp.seed)
    train_data = tokenize_records(records, tokenizer, template, max_length=opts.max_length)
    eval_data = (
        tokenize_records(eval_records, tokenizer, template, max_length=opts.max_length)
        if eval_records
        else None
    )
    for warning in warnings:
        note(warning, "warning")
    summary = train_data.summary()
    note("tokenized: " + ", ".join(f"{k}={v}" for k, v in summary.items()))
    if train_data.dropped_fully_masked:
        note(
            f"{train_data.dropped_fully_masked} examples had nothing left to learn after "
            f"truncation to max_length={opts.max_length} and were dropped",
            "warning",
        )
    if not train_data.examples:
        raise ValueError("no example has any trained token; check max_length and weights")

    # -- model and trainer ---------------------------------------------------------------------
    plan = plan_batches(hp.batch_size, world, opts.micro_batch_size)
    steps = total_steps(len(train_data.examples), hp.epochs, plan, opts.max_steps)
    has_eval = bool(eval_data and eval_data.examples)
    eval_steps = opts.eval_steps or max(1, steps // 5)
    save_steps = opts.save_steps or default_save_steps(steps)
    if opts.early_stopping_patience:
        # Restoring the best checkpoint at the end needs one saved at every evaluation.
        save_steps = eval_steps
    gradient_checkpointing = (
        device == "cuda" if opts.gradient_checkpointing is None else opts.gradient_checkpointing
    )
    attention = training_attention(opts, device, dtype)
    warmup = warmup_steps(hp.warmup_ratio, steps)
    note(
        f"learning rate {hp.learning_rate:g}, {opts.lr_scheduler}; warmup: {warmup} of {steps} steps"
    )
    note(
        f"loading {spec.model} for {hp.tuning} on {device} ({dtype}); "
        f"{plan.micro_batch_size} examples x {plan.accumulation} accumulation x "
        f"{plan.processes} processes per step"
        + (", padding-free" if opts.padding_free else ", padded")
        + f" batches, {attention or 'default'} attention"
    )
    with quiet_loading():
        model = load_base(
            spec.model,
            method=hp.tuning,
            dtype_name=dtype,
            device=device,
            trust_remote_code=opts.trust_remote_code,
            attn_implementation=attention,
        )
    if device == "cpu" and hp.tuning == "qlora":
        keep_4bit_layers_differentiable(model)
    collator = None
    if attention == VARLEN_ATTENTION and opts.padding_free:
        # TRL's padding-free batches, with row lengths rounded on CPU (see PackedBatches); TRL
        # accepts a collator of ours only with its own padding_free off.
        collator = PackedBatches(tokenizer.pad_token_id, round_up=device == "cpu")
    args = SFTConfig(
        **trainer_args(
            run, hp, opts, plan, warmup, save_steps, eval_steps, has_eval, dtype, device
        ),
        **checkpointing_args(gradient_checkpointing),
        **ddp_args(world, device),
        max_length=None,  # truncated in _data, so padding-free needs no packing
        padding_free=opts.padding_free and collator is None,
        packing=False,
        **QUIET_ARGS,
        trust_remote_code=opts.trust_remote_code,
    )
    progress = Progress(run, events, is_main)
    stopper = StopOnRequest(run, flag)
    callbacks = run_callbacks(progress, stopper, opts, has_eval)
    trainer = SFTTrainer(
        model=model,
        args=args,
        train_dataset=Dataset.from_list(train_data.examples),
        eval_dataset=Dataset.from_list(eval_data.examples) if has_eval and eval_data else None,
        processing_class=tokenizer,
        data_collator=collator,
        peft_config=None if hp.tuning == "full" else lora_config(hp, opts),
        callbacks=callbacks,
    )
    return run_and_save(
        run,
        trainer,
        spec=spec,
        hp=hp,
        opts=opts,
        dtype=dtype,
        device=device,
        resume=resume,
        flag=flag,
        events=events,
        progress=progress,
        stopper=stopper,
        steps=steps,
    )


def run_and_save(
    run: RunDir,
    trainer: Any,
    *,
    spec: JobSpec,
    hp: Resolved,
    opts: LocalOptions,
    dtype: str,
    device: str,
    resume: bool,
    flag: StopFlag,
    events: EventWriter,
    progress: Progress,
    stopper: StopOnRequest,
    steps: int,
    extra_meta: dict[str, Any] | None = None,
) -> Outcome:
    """Train (from the last checkpoint when resuming), then save the model and how it was
    trained; a stop request ends at a checkpoint instead."""
    is_main = int(os.environ.get("RANK", "0")) == 0
    checkpoint = run.last_checkpoint() if resume else None
    if checkpoint and is_main:
        events.emit(f"resuming from checkpoint-{checkpoint[0]}")
    if flag.requested or run.cancel_requested():
        return Outcome(
            cancelled_at=checkpoint[0] if checkpoint else 0, steps=steps, trained_tokens=0
        )
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    trainer.train(resume_from_checkpoint=str(checkpoint[1]) if checkpoint else None)
    if device == "cuda" and is_main:
        peak = torch.cuda.max_memory_allocated() / 1024**3
        events.emit(f"peak GPU memory: {peak:.2f} GiB allocated")
        run.update_state(peak_memory_gib=round(peak, 3))
    if stopper.stopped_at is not None:
        return Outcome(stopper.stopped_at, steps, progress.trained_tokens)

    if is_main and trainer.state.global_step < trainer.state.max_steps:
        best = trainer.state.best_model_checkpoint
        kept = f"; kept the best model ({Path(best).name})" if best else ""
        events.emit(
            f"stopped early at step {trainer.state.global_step}: eval loss did not improve for "
            f"{opts.early_stopping_patience} evaluations{kept}",
            step=trainer.state.global_step,
        )
    trainer.save_model(str(run.model_dir))
    if is_main:
        # The trainer also pickles its arguments; nothing should ever load a pickle from here.
        (run.model_dir / "training_args.bin").unlink(missing_ok=True)
        trainer.processing_class.save_pretrained(str(run.model_dir))
        quant = quantization_config(hp.tuning, dtype)
        meta = {
            "base_model": spec.model,
            "method": hp.tuning,
            "compute_dtype": dtype,
            "quantization": quant.to_dict() if quant is not None else None,
            "trust_remote_code": opts.trust_remote_code,
            "run_id": run.id,
            "steps": trainer.state.global_step,
            "training_method": spec.method,
            **(extra_meta or {}),
        }
        (run.model_dir / MODEL_META).write_text(json.dumps(meta, indent=1) + "\n")
        events.emit(f"model saved: {run.model_dir}", step=trainer.state.global_step)
    return Outcome(None, trainer.state.global_step, progress.trained_tokens)

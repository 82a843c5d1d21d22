"""The DPO recipe a worker runs for a preference dataset: TRL ``DPOTrainer`` on the same stack.

The model is loaded as for SFT (4-bit NF4 base for QLoRA, LoRA/DoRA adapters through PEFT, or
every weight for full tuning), from the base or from an earlier local job (``options.from_job``,
see ``_lineage``). The reference model DPO compares against is the starting point: the base with
the adapters switched off for a fresh adapter, a frozen copy of the earlier adapter when one is
continued, a frozen copy of the weights for full tuning.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

from datasets import Dataset
from trl import DPOConfig, DPOTrainer

from ftbridge._models import JobSpec

from ._callbacks import Progress, StopFlag, StopOnRequest
from ._data import read_jsonl
from ._lineage import earlier_model
from ._modeling import keep_4bit_layers_differentiable, load_base, lora_config, quiet_loading
from ._options import LocalOptions
from ._plan import default_save_steps, plan_batches, resolve, total_steps, warmup_steps
from ._recipe import (
    QUIET_ARGS,
    Outcome,
    checkpointing_args,
    ddp_args,
    hold_out,
    load_tokenizer,
    pick_training_device,
    run_and_save,
    run_callbacks,
    trainer_args,
)
from ._runs import EventWriter, RunDir


def preference_rows(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """ftbridge's preference records as TRL's conversational prompt/chosen/rejected rows."""
    return [
        {
            "prompt": r["input"]["messages"],
            "chosen": r["preferred_output"],
            "rejected": r["non_preferred_output"],
        }
        for r in records
    ]


def _load_policy(spec: JobSpec, tuning: str, dtype: str, device: str, opts: LocalOptions) -> Any:
    """The model DPO trains, and whether TRL still has to add the adapter (a peft_config)."""
    if opts.from_job is None:
        return load_base(
            spec.model,
            method=tuning,
            dtype_name=dtype,
            device=device,
            trust_remote_code=opts.trust_remote_code,
        )
    earlier = earlier_model(opts.from_job)
    if earlier.tuning == "full":
        return load_base(
            str(earlier.model_dir),
            method="full",
            dtype_name=dtype,
            device=device,
            trust_remote_code=opts.trust_remote_code,
        )
    from peft import PeftModel

    base = load_base(
        spec.model,
        method=tuning,
        dtype_name=dtype,
        device=device,
        trust_remote_code=opts.trust_remote_code,
    )
    # TRL copies this adapter into a frozen "ref" adapter: the reference is the earlier model.
    return PeftModel.from_pretrained(base, str(earlier.model_dir), is_trainable=True)


def train_dpo(
    run: RunDir, spec: JobSpec, *, resume: bool, flag: StopFlag, events: EventWriter
) -> Outcome:
    opts = LocalOptions(**spec.options)
    hp = resolve(spec.hyperparameters, opts)
    if opts.from_job is not None:
        hp = dataclasses.replace(hp, tuning=earlier_model(opts.from_job).tuning)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    is_main = int(os.environ.get("RANK", "0")) == 0

    def note(message: str, level: str = "info") -> None:
        if is_main:
            events.emit(message, level=level)

    device, dtype = pick_training_device(opts)
    tokenizer, _template, warnings = load_tokenizer(spec.model, opts)
    for warning in warnings:
        note(warning, "warning")
    records = read_jsonl(run.train_file)
    eval_records = read_jsonl(run.valid_file) if run.valid_file.is_file() else None
    if eval_records is None and opts.eval_split:
        records, eval_records = hold_out(records, opts.eval_split, hp.seed)
    pairs = preference_rows(records)
    eval_pairs = preference_rows(eval_records) if eval_records else []
    note(f"preference pairs: train={len(pairs)}, eval={len(eval_pairs)}")

    plan = plan_batches(hp.batch_size, world, opts.micro_batch_size)
    steps = total_steps(len(pairs), hp.epochs, plan, opts.max_steps)
    has_eval = bool(eval_pairs)
    eval_steps = opts.eval_steps or max(1, steps // 5)
    save_steps = (
        eval_steps
        if opts.early_stopping_patience
        else (opts.save_steps or default_save_steps(steps))
    )
    gradient_checkpointing = (
        device == "cuda" if opts.gradient_checkpointing is None else opts.gradient_checkpointing
    )
    warmup = warmup_steps(hp.warmup_ratio, steps)
    start = f"from job {opts.from_job}" if opts.from_job else "from the base"
    note(
        f"loading {spec.model} for DPO ({hp.tuning}, beta {opts.dpo_beta:g}) {start} on "
        f"{device} ({dtype}); {plan.micro_batch_size} pairs x {plan.accumulation} accumulation x "
        f"{plan.processes} processes per step"
    )
    note(
        f"learning rate {hp.learning_rate:g}, {opts.lr_scheduler}; warmup: {warmup} of {steps} steps"
    )
    with quiet_loading():
        model = _load_policy(spec, hp.tuning, dtype, device, opts)
    if device == "cpu" and hp.tuning == "qlora":
        keep_4bit_layers_differentiable(model)
    fresh_adapter = opts.from_job is None and hp.tuning != "full"
    args = DPOConfig(
        **trainer_args(
            run, hp, opts, plan, warmup, save_steps, eval_steps, has_eval, dtype, device
        ),
        **checkpointing_args(gradient_checkpointing, DPOConfig),
        **ddp_args(world, device),
        max_length=opts.max_length,
        beta=opts.dpo_beta,
        padding_free=False,
        **QUIET_ARGS,
        trust_remote_code=opts.trust_remote_code,
    )
    progress = Progress(run, events, is_main)
    stopper = StopOnRequest(run, flag)
    callbacks = run_callbacks(progress, stopper, opts, has_eval)
    trainer = DPOTrainer(
        model=model,
        args=args,
        train_dataset=Dataset.from_list(pairs),
        eval_dataset=Dataset.from_list(eval_pairs) if has_eval else None,
        processing_class=tokenizer,
        peft_config=lora_config(hp, opts) if fresh_adapter else None,
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
        extra_meta={"from_job": opts.from_job, "dpo_beta": opts.dpo_beta},
    )

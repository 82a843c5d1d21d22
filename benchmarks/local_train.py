"""Local training: ftbridge's local provider against a plain TRL ``SFTTrainer`` script.

    python benchmarks/local_train.py [--rounds 3] [--examples 256] [--padded] [--size small]
    python benchmarks/local_train.py --gpu            # ~0.5B model, bf16 QLoRA, peak memory

Both sides train the same model on the same chat data with the same hyperparameters (QLoRA
NF4, LoRA r=16 on every linear layer, same batch size, learning rate, epochs, seed, checkpoint
cadence), each from a cold process, alternating. Printed: whole-job wall time (for ftbridge:
submit, the detached worker, waiting; target ratio <= 1.0) and non-pad tokens per second of the
training loop (ftbridge batches padding-free by default, attending per example with
flash-attention's varlen kernel on CUDA when installed, else ``ftbridge_varlen``; target ratio
>= 1.0), plus the final loss of both (padding-free must not change the result: within 1%).
``--padded`` adds an ftbridge run with padding (``options.padding_free=False``) to show what
padding-free buys (target > 1.0).

CPU: the tiny offline model. ``--gpu``: a randomly initialised ~0.5B Llama-style model built
from a config (no download), bf16 QLoRA with activation checkpointing, and peak GPU memory.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".bench" / "local_train"

_WORD_TEXT = """
the sky sea grass sun moon snow fire tree leaf apple banana cherry lemon orange grape cat dog
cow horse bird fish bee owl fox wolf bear lion tiger zebra red blue green yellow white black
brown big small hot cold day night water stone wood paper milk bread rain
"""
WORDS = _WORD_TEXT.split()


def make_dataset(path: Path, n: int, seed: int = 0, long: bool = False) -> Path:
    """Chats whose lengths vary a lot (as real ones do), so padding has a cost."""
    rng = random.Random(seed)
    lines = []
    for _ in range(n):
        words = rng.randint(3, 180 if long else 60)
        question = " ".join(rng.choice(WORDS) for _ in range(words)) + "?"
        reply = f"ANSWER: {rng.choice(WORDS)} | CONFIDENCE: high"
        messages = [{"role": "user", "content": question}, {"role": "assistant", "content": reply}]
        lines.append(json.dumps({"messages": messages}))
    path.write_text("\n".join(lines) + "\n")
    return path


def settings(gpu: bool) -> dict[str, Any]:
    return {
        "epochs": 2 if gpu else 3,
        "batch_size": 8,
        "learning_rate": 2e-4,
        "seed": 0,
        "max_length": 1024 if gpu else 256,
        "lora_r": 16,
        "lora_alpha": 32,
        "lora_dropout": 0.05,
        "save_steps": 20,
        "checkpointing": gpu,
    }


# -- the two sides, each run in a fresh process ---------------------------------------------------


def child_ftbridge(model: str, data: str, cfg: dict[str, Any], padded: bool) -> dict[str, Any]:
    import ftbridge

    job = ftbridge.submit(
        data,
        provider="local",
        model=model,
        hyperparameters={
            "epochs": cfg["epochs"],
            "batch_size": cfg["batch_size"],
            "learning_rate": cfg["learning_rate"],
            "warmup_ratio": 0.0,
            "seed": cfg["seed"],
            "tuning": "qlora",
            "lora_rank": cfg["lora_r"],
            "lora_alpha": cfg["lora_alpha"],
            "lora_dropout": cfg["lora_dropout"],
        },
        options={
            "max_length": cfg["max_length"],
            "save_steps": cfg["save_steps"],
            "gradient_checkpointing": cfg["checkpointing"],
            "padding_free": not padded,
            "logging_steps": 1,
        },
    )
    job.wait(progress=False)
    events = job.events()
    start = next(e.time for e in events if e.message.startswith("training started"))
    last_step = [e for e in events if e.metrics.get("train_loss") is not None]
    losses = [e.metrics["train_loss"] for e in last_step]
    snap = job.snapshot
    return {
        "train_s": (last_step[-1].time - start).total_seconds(),
        "tokens": snap.trained_tokens,
        "first_loss": losses[0],
        "final_loss": statistics.fmean(losses[-5:]),
        "peak_gib": snap.details.get("peak_memory_gib"),
    }


def child_trl(model_path: str, data: str, cfg: dict[str, Any]) -> dict[str, Any]:
    """What a user would write with TRL directly: messages in, assistant-only loss."""
    import torch
    from datasets import load_dataset
    from peft import LoraConfig
    from transformers import (
        AutoModelForCausalLM,
        AutoTokenizer,
        BitsAndBytesConfig,
        TrainerCallback,
    )
    from trl import SFTConfig, SFTTrainer

    gpu = torch.cuda.is_available()
    dtype = torch.bfloat16 if gpu else torch.float32
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    model = AutoModelForCausalLM.from_pretrained(
        model_path,
        dtype=dtype,
        device_map={"": 0} if gpu else None,
        quantization_config=BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=dtype,
        ),
    )
    losses: list[float] = []

    class Losses(TrainerCallback):
        def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kw: Any) -> None:
            if logs and "loss" in logs:
                losses.append(float(logs["loss"]))

    out = tempfile.mkdtemp(dir=WORK)
    args = SFTConfig(
        output_dir=out,
        num_train_epochs=cfg["epochs"],
        per_device_train_batch_size=cfg["batch_size"],
        learning_rate=cfg["learning_rate"],
        lr_scheduler_type="linear",
        warmup_steps=0,
        seed=cfg["seed"],
        data_seed=cfg["seed"],
        max_length=cfg["max_length"],
        assistant_only_loss=True,
        logging_steps=1,
        save_strategy="steps",
        save_steps=cfg["save_steps"],
        save_total_limit=2,
        bf16=gpu,
        use_cpu=not gpu,
        activation_checkpointing=cfg["checkpointing"],
        report_to="none",
        disable_tqdm=True,
        dataloader_num_workers=0,
    )
    trainer = SFTTrainer(
        model=model,
        args=args,
        train_dataset=load_dataset("json", data_files=data, split="train"),
        processing_class=tokenizer,
        peft_config=LoraConfig(
            r=cfg["lora_r"],
            lora_alpha=cfg["lora_alpha"],
            lora_dropout=cfg["lora_dropout"],
            target_modules="all-linear",
            task_type="CAUSAL_LM",
        ),
        callbacks=[Losses()],
    )
    if gpu:
        torch.cuda.reset_peak_memory_stats()
    t = time.perf_counter()
    trainer.train()
    train_s = time.perf_counter() - t
    trainer.save_model(os.path.join(out, "final"))
    return {
        "train_s": train_s,
        "tokens": int(trainer._total_train_tokens),
        "first_loss": losses[0],
        "final_loss": statistics.fmean(losses[-5:]),
        "peak_gib": torch.cuda.max_memory_allocated() / 1024**3 if gpu else None,
    }


# -- the driver ----------------------------------------------------------------------------------


def run_cold(side: str, model: str, data: Path, cfg: dict[str, Any], home: Path) -> dict[str, Any]:
    env = {**os.environ, "FTBRIDGE_HOME": str(home), "HF_HUB_OFFLINE": "1"}
    t = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, __file__, "--child", side, model, str(data), json.dumps(cfg)],
        capture_output=True,
        text=True,
        env=env,
    )
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"{side} run failed:\n{proc.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    result["wall_s"] = wall
    result["tokens_per_s"] = result["tokens"] / result["train_s"]
    return result


def build_model(gpu: bool, size: str) -> str:
    from ftbridge_local.testing import build_tiny_model

    if not gpu and size == "tiny":
        return str(build_tiny_model(WORK / "tiny"))
    if not gpu:
        # ~3M parameters: big enough that compute, not per-step overhead, sets the pace.
        small = {"num_attention_heads": 8, "num_key_value_heads": 4, "initializer_range": 0.02}
        return str(
            build_tiny_model(WORK / "small", hidden_size=256, num_layers=4, config_overrides=small)
        )
    # About 0.45B parameters, Llama-shaped, random weights: no download needed.
    big = {
        "intermediate_size": 4096,
        "num_attention_heads": 16,
        "num_key_value_heads": 8,
        "vocab_size": 32000,
        "initializer_range": 0.02,
    }
    return str(
        build_tiny_model(WORK / "llama-0.5b", hidden_size=1024, num_layers=24, config_overrides=big)
    )


def main() -> None:
    ap = argparse.ArgumentParser(description="local training: ftbridge vs plain TRL")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--examples", type=int, default=256)
    ap.add_argument("--gpu", action="store_true", help="the ~0.5B model in bf16 QLoRA on CUDA")
    ap.add_argument("--padded", action="store_true", help="also run ftbridge with padding")
    ap.add_argument(
        "--size",
        choices=("tiny", "small"),
        default="tiny",
        help="CPU model: tiny (~0.2M parameters) or small (~3M, compute-bound)",
    )
    ap.add_argument("--child", nargs=4, metavar=("SIDE", "MODEL", "DATA", "CFG"), help="internal")
    args = ap.parse_args()

    if args.child:
        side, model, data, cfg_text = args.child
        cfg = json.loads(cfg_text)
        if side == "trl":
            out = child_trl(model, data, cfg)
        else:
            out = child_ftbridge(model, data, cfg, padded=side == "ftbridge-padded")
        print(json.dumps(out))
        return

    if args.gpu:
        import torch

        if not torch.cuda.is_available():
            raise SystemExit("--gpu needs a CUDA device")
    WORK.mkdir(parents=True, exist_ok=True)
    model = build_model(args.gpu, args.size)
    data = make_dataset(WORK / f"chats-{args.examples}.jsonl", args.examples, long=args.gpu)
    cfg = settings(args.gpu)
    sides = ["ftbridge", "trl"] + (["ftbridge-padded"] if args.padded else [])
    results: dict[str, list[dict[str, Any]]] = {s: [] for s in sides}
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    for r in range(args.rounds):
        order = sides if r % 2 == 0 else list(reversed(sides))
        for side in order:
            res = run_cold(side, model, data, cfg, WORK / f"home-{stamp}-{side}-{r}")
            results[side].append(res)
            print(
                f"round {r + 1} {side:16s} wall {res['wall_s']:6.1f}s  train {res['train_s']:6.1f}s"
                f"  {res['tokens_per_s']:8.0f} tok/s  loss {res['first_loss']:.3f} -> "
                f"{res['final_loss']:.3f}"
                + (f"  peak {res['peak_gib']:.2f} GiB" if res["peak_gib"] else ""),
                flush=True,
            )

    def med(side: str, key: str) -> float:
        return statistics.median(x[key] for x in results[side])

    what = "GPU ~0.5B model" if args.gpu else f"CPU {args.size} model"
    print(f"\nmedians over {args.rounds} rounds ({what}, {args.examples} examples):")
    for side in sides:
        print(
            f"  {side:16s} wall {med(side, 'wall_s'):6.1f}s  {med(side, 'tokens_per_s'):8.0f} tok/s"
            f"  final loss {med(side, 'final_loss'):.4f}"
        )
    wall = med("ftbridge", "wall_s") / med("trl", "wall_s")
    speed = med("ftbridge", "tokens_per_s") / med("trl", "tokens_per_s")
    loss = med("ftbridge", "final_loss") / med("trl", "final_loss")
    print(f"wall time ftbridge/TRL      {wall:.2f}  (target <= 1.0)")
    print(f"tokens/s  ftbridge/TRL      {speed:.2f}  (target >= 1.0; padding-free)")
    print(f"final loss ftbridge/TRL     {loss:.3f}  (same data, seed and steps)")
    if args.padded:
        gain = med("ftbridge", "tokens_per_s") / med("ftbridge-padded", "tokens_per_s")
        same = med("ftbridge", "final_loss") / med("ftbridge-padded", "final_loss")
        print(
            f"tokens/s  padding-free/padded {gain:.2f} (target > 1.0);  "
            f"final loss ratio {same:.3f} (within 1%)"
        )
    if args.gpu:
        peak = med("ftbridge", "peak_gib") / med("trl", "peak_gib")
        print(f"peak GPU memory ftbridge/TRL {peak:.2f}  (target <= 1.0)")


if __name__ == "__main__":
    main()

"""Serving many adapters on one base: mixed-adapter dynamic batching, and the memory it saves.

    python benchmarks/serve.py [--adapters 8] [--clients 16] [--requests 2] [--tokens 32]
                               [--hidden 512] [--layers 8] [--rank 8]

A small Llama-style model (built offline, random weights; about 110 MB in float32 with the
defaults, so its weights and not Python's own memory dominate) gets N LoRA adapters (random
init, rank ``--rank`` on every linear layer). Each server is a separate ``ftbridge serve``
process on loopback, driven through the official ``openai`` client by ``--clients`` concurrent
clients, each asking ``--requests`` greedy completions of exactly ``--tokens`` tokens of
adapters picked round-robin (mixed traffic: every batch holds several adapters).

Printed:

- tokens/s of one server batching dynamically (``--max-batch`` = clients) against the same
  server taking one request at a time (``--max-batch 1``), same traffic (target >= 3x);
- resident memory (RSS) of one server holding N adapters against one server holding one merged
  model (an adapter merged into the base, served as a plain model). N separate merged-model
  servers are *estimated* as N x that one server's RSS (they are not all started). Target: the
  N-adapter server within 1.2x of the one-model server.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".bench" / "serve"
QUESTIONS = ["What is the sky?", "Tell me about the fox.", "Where is paris?", "Say hello."]


def build(args: argparse.Namespace) -> tuple[Path, list[Path], Path]:
    """The base, N adapters and one adapter merged into the base (reused when present)."""
    import torch
    from ftbridge_local.testing import build_tiny_model
    from peft import LoraConfig, PeftModel, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tag = f"h{args.hidden}-l{args.layers}-r{args.rank}"
    base = build_tiny_model(
        WORK / f"base-{tag}",
        hidden_size=args.hidden,
        num_layers=args.layers,
        initializer_range=0.05,
        config_overrides={"num_attention_heads": 8, "num_key_value_heads": 4},
    )
    tokenizer = AutoTokenizer.from_pretrained(base)
    adapters = []
    for i in range(args.adapters):
        out = WORK / f"adapter-{tag}-{i}"
        if not (out / "adapter_model.safetensors").is_file():
            torch.manual_seed(100 + i)
            model = AutoModelForCausalLM.from_pretrained(base)
            config = LoraConfig(
                r=args.rank,
                lora_alpha=2 * args.rank,
                target_modules="all-linear",
                init_lora_weights=False,
            )
            get_peft_model(model, config).save_pretrained(out)
            tokenizer.save_pretrained(out)
        adapters.append(out)
    merged = WORK / f"merged-{tag}"
    if not (merged / "config.json").is_file():
        model = AutoModelForCausalLM.from_pretrained(base)
        model = PeftModel.from_pretrained(model, str(adapters[0])).merge_and_unload()
        model.save_pretrained(merged, safe_serialization=True)
        tokenizer.save_pretrained(merged)
    return base, adapters, merged


class ServerProcess:
    """``ftbridge serve`` in its own process; its base URL is the line it prints."""

    def __init__(self, base: Path, adapters: dict[str, Path], max_batch: int, threads: int) -> None:
        command = [sys.executable, "-m", "ftbridge", "serve", "--base", str(base), "--port", "0"]
        command += ["--max-batch", str(max_batch), "--max-loaded", str(max(1, len(adapters)))]
        for name, path in adapters.items():
            command += ["--adapter", f"{name}={path}"]
        env = {**os.environ, "TOKENIZERS_PARALLELISM": "false", "OMP_NUM_THREADS": str(threads)}
        self.proc = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
        )
        assert self.proc.stdout is not None
        self.base_url = self.proc.stdout.readline().strip()
        if not self.base_url.startswith("http"):
            raise SystemExit(f"the server did not start: {command}")

    def rss_mib(self) -> float:
        import psutil

        return float(psutil.Process(self.proc.pid).memory_info().rss) / 2**20

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=60)


def drive(url: str, models: list[str], clients: int, requests: int, tokens: int) -> float:
    """Tokens per second for ``clients`` concurrent clients of mixed traffic."""
    import openai

    client = openai.OpenAI(base_url=url, api_key="unused", max_retries=0, timeout=600)

    def one_client(c: int) -> int:
        done = 0
        for r in range(requests):
            k = c * requests + r
            reply = client.chat.completions.create(
                model=models[k % len(models)],
                messages=[{"role": "user", "content": QUESTIONS[k % len(QUESTIONS)]}],
                max_tokens=tokens,
                temperature=0,
                stop=None,
            )
            done += reply.usage.completion_tokens if reply.usage else 0
        return done

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        total = sum(pool.map(one_client, range(clients)))
    return total / (time.perf_counter() - started)


def warm(url: str, models: list[str]) -> None:
    drive(url, models, clients=len(models), requests=1, tokens=4)  # every adapter used once


def weights_mib(path: Path) -> float:
    return sum(f.stat().st_size for f in path.glob("*.safetensors")) / 2**20


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--adapters", type=int, default=8)
    p.add_argument("--clients", type=int, default=16)
    p.add_argument("--requests", type=int, default=2, help="requests per client")
    p.add_argument("--tokens", type=int, default=32, help="completion tokens per request")
    p.add_argument("--hidden", type=int, default=512)
    p.add_argument("--layers", type=int, default=8)
    p.add_argument("--rank", type=int, default=8)
    p.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads per server (1: steady numbers on a shared machine)",
    )
    args = p.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    base, adapter_dirs, merged = build(args)
    names = {f"adapter-{i}": path for i, path in enumerate(adapter_dirs)}
    models = list(names)
    print(
        f"base {weights_mib(base):.0f} MiB of weights, {len(names)} adapters of "
        f"{weights_mib(adapter_dirs[0]):.1f} MiB (rank {args.rank}, every linear layer); "
        f"{args.clients} clients x {args.requests} requests x {args.tokens} tokens, mixed adapters; "
        f"{args.threads} torch thread(s) per server"
    )

    results: dict[str, Any] = {}
    for label, max_batch in (("batched", args.clients), ("one at a time", 1)):
        server = ServerProcess(base, names, max_batch, args.threads)
        try:
            warm(server.base_url, models)
            results[label] = drive(
                server.base_url, models, args.clients, args.requests, args.tokens
            )
            if label == "batched":
                results["rss_adapters"] = server.rss_mib()
        finally:
            server.close()
        print(f"  {label:>14}: {results[label]:8.1f} tokens/s (--max-batch {max_batch})")
    speedup = results["batched"] / results["one at a time"]
    print(f"dynamic mixed-adapter batching: {speedup:.2f}x the tokens/s of one at a time (>= 3)")

    server = ServerProcess(merged, {}, args.clients, args.threads)
    try:
        warm(server.base_url, [str(merged)])
        drive(server.base_url, [str(merged)], args.clients, 1, args.tokens)
        rss_one = server.rss_mib()
    finally:
        server.close()
    n = len(names)
    ratio = results["rss_adapters"] / rss_one
    print(
        f"resident memory: one server with {n} adapters {results['rss_adapters']:.0f} MiB; one "
        f"merged-model server {rss_one:.0f} MiB, so {n} of them ~{n * rss_one:.0f} MiB "
        f"(estimated as {n} x one, not all started)"
    )
    print(
        f"  {ratio:.2f}x one model's server (<= 1.2), against ~{n}x for {n} merged-model servers "
        f"({n * rss_one / results['rss_adapters']:.1f}x more than the one server)"
    )
    weights = weights_mib(base) + sum(weights_mib(a) for a in adapter_dirs)
    print(
        f"  weights alone: base + {n} adapters {weights:.0f} MiB, "
        f"{weights / weights_mib(base):.2f}x the base's {weights_mib(base):.0f} MiB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

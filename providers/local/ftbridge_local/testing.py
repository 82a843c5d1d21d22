"""A tiny chat model built entirely offline, for tests, examples and benchmarks.

Nothing is downloaded: a byte-level BPE tokenizer is trained on a small built-in corpus, given a
ChatML chat template whose assistant turns sit inside ``{% generation %}`` markers (so
assistant-only loss works), and a small Llama-style model with random weights is saved next to it
as a normal Hugging Face directory::

    from ftbridge_local.testing import build_tiny_model

    path = build_tiny_model("./models/tiny")      # about a second; reused when already there
    job = ftbridge.submit("data.jsonl", provider="local", model=str(path))
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["TINY_CHAT_TEMPLATE", "build_tiny_model"]

# ChatML. The assistant's content *and* its end-of-turn token are inside the generation block, so
# the model is trained to stop; the generation prompt opens an assistant turn.
TINY_CHAT_TEMPLATE = (
    "{%- for message in messages -%}"
    "{%- if message['role'] == 'assistant' -%}"
    "{{ '<|im_start|>assistant\\n' }}"
    "{%- generation -%}{{ message['content'] + '<|im_end|>' }}{%- endgeneration -%}"
    "{{ '\\n' }}"
    "{%- else -%}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ '<|im_start|>assistant\\n' }}{%- endif -%}"
)

SPECIAL_TOKENS = ["<|pad|>", "<|endoftext|>", "<|im_start|>", "<|im_end|>"]

_WORD_TEXT = """
the a an is are was what which who where when how why of to in on for with at by from answer
confidence high low medium yes no maybe true false color colour sky sea grass sun moon snow
fire tree leaf apple banana cherry lemon orange grape lime plum pear fruit animal cat dog
cow horse bird fish bee owl fox wolf bear lion tiger zebra mouse frog duck sheep red blue
green yellow white black brown grey pink purple gold silver big small hot cold day night
water stone wood iron glass paper milk bread salt sugar rain wind cloud star one two three
four five six seven eight nine ten capital city country river mountain france paris italy
rome spain madrid japan tokyo egypt cairo peru lima chile kenya question reply please thanks
hello help user assistant system you me we they it this that say tell give name kind sound
make eat drink live fly swim run bark meow moo neigh shape square circle round flat tall
short fast slow sweet sour bitter loud quiet
"""
_WORDS = _WORD_TEXT.split()


def _corpus() -> list[str]:
    """Sentences covering the words above in the shapes the examples and tests use."""
    lines = [" ".join(_WORDS)]
    for word in _WORDS:
        lines.append(f"What is {word}? ANSWER: {word} | CONFIDENCE: high")
        lines.append(f"Tell me about the {word}. It is {word}, maybe.")
        lines.append(f"{word.capitalize()} {word} {word.upper()}")
    lines.append("ANSWER: | CONFIDENCE: high low medium. Question? Reply! 0 1 2 3 4 5 6 7 8 9")
    return lines


def build_tiny_model(
    path: str | Path,
    *,
    hidden_size: int = 64,
    num_layers: int = 2,
    vocab_size: int = 1024,
    initializer_range: float = 0.2,
    seed: int = 0,
    overwrite: bool = False,
    config_overrides: dict[str, Any] | None = None,
) -> Path:
    """Build (or reuse) a tiny Llama-style chat model and its tokenizer in ``path``.

    The result loads with ``AutoModelForCausalLM.from_pretrained(path)`` and
    ``AutoTokenizer.from_pretrained(path)``. Deterministic for a given ``seed``.
    ``config_overrides`` sets other ``LlamaConfig`` fields (a bigger model for benchmarks:
    ``{"intermediate_size": 4096, "vocab_size": 32000}``).
    """
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    path = Path(path)
    if not overwrite and (path / "config.json").is_file() and (path / "tokenizer.json").is_file():
        return path
    path.mkdir(parents=True, exist_ok=True)

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    bpe.train_from_iterator(_corpus(), trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe,
        pad_token="<|pad|>",
        eos_token="<|im_end|>",
        bos_token=None,
        unk_token=None,
        additional_special_tokens=["<|endoftext|>", "<|im_start|>"],
        model_max_length=2048,
        # a causal LM takes no token types (older transformers return them unless told)
        model_input_names=["input_ids", "attention_mask"],
    )
    tokenizer.chat_template = TINY_CHAT_TEMPLATE
    tokenizer.save_pretrained(path)

    torch.manual_seed(seed)
    settings: dict[str, Any] = {
        "vocab_size": len(tokenizer),
        "hidden_size": hidden_size,
        "intermediate_size": hidden_size * 3,
        "num_hidden_layers": num_layers,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "max_position_embeddings": 2048,
        "tie_word_embeddings": False,
        # A random model with the usual 0.02 has near-uniform outputs that a low-rank adapter
        # cannot sharpen; a wider init lets a few steps of LoRA visibly change the replies.
        "initializer_range": initializer_range,
        "pad_token_id": tokenizer.pad_token_id,
        "eos_token_id": tokenizer.eos_token_id,
        "bos_token_id": None,
        **(config_overrides or {}),
    }
    config = LlamaConfig(**settings)
    model = LlamaForCausalLM(config)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    from ._modeling import quiet_loading

    with quiet_loading():
        model.save_pretrained(path, safe_serialization=True)
    (path / "ftbridge_tiny.json").write_text(
        json.dumps({"seed": seed, "parameters": model.num_parameters()}) + "\n"
    )
    return path

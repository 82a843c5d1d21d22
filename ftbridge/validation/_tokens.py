"""Counting tokens: exact with a tokenizer at hand, otherwise a labelled estimate.

- ``None`` (the default): a tiktoken encoding if its BPE file is already cached on this
  machine (tiktoken downloads it otherwise, which would hang offline), else the estimate.
- ``"estimate"``: about four characters per token plus three tokens per message.
- a tiktoken ``Encoding`` or an encoding name (``"o200k_base"``): OpenAI's count as in the
  cookbook (3 tokens per message, the values' tokens, 1 per name, 3 to prime the reply).
- a Hugging Face tokenizer: the model's chat template, rendered and tokenized.

Nothing here imports tiktoken or transformers until a tokenizer is actually used.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from typing import Any

import orjson

from .._exceptions import ConfigError

Counter = Callable[[dict[str, Any], str], tuple[int, int]]

ESTIMATE_LABEL = "estimate: ~4 characters per token"
_BPE_URLS = {
    "o200k_base": "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
    "cl100k_base": "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
}


def estimate(chars: int, messages: int) -> int:
    """The estimate used when no tokenizer is at hand (the engine inlines it)."""
    return chars // 4 + 3 * messages + 3


def tiktoken_cached(name: str) -> bool:
    """Whether tiktoken can load encoding ``name`` without the network."""
    url = _BPE_URLS.get(name)
    if url is None:
        return False
    cache_dir = os.environ.get("TIKTOKEN_CACHE_DIR") or os.environ.get("DATA_GYM_CACHE_DIR")
    if cache_dir == "":
        return False
    if cache_dir is None:
        cache_dir = os.path.join(tempfile.gettempdir(), "data-gym-cache")
    key = hashlib.sha1(url.encode()).hexdigest()
    try:
        import importlib.util

        if importlib.util.find_spec("tiktoken") is None:
            return False
    except ValueError:
        return False
    return os.path.exists(os.path.join(cache_dir, key))


class TokenCounter:
    """Counts (total, trainable) tokens of one record; ``label`` says with what."""

    def __init__(self, label: str, count: Counter, *, parallel_safe: bool = False) -> None:
        self.label = label
        self.count = count
        self.parallel_safe = parallel_safe


def resolve(tokenizer: Any) -> TokenCounter | None:
    """The counter for a ``tokenizer`` argument; ``None`` means use the estimate."""
    if tokenizer is None:
        for name in ("o200k_base", "cl100k_base"):
            if tiktoken_cached(name):
                return _tiktoken_counter(name)
        return None
    if isinstance(tokenizer, str):
        if tokenizer == "estimate":
            return None
        if tokenizer not in _BPE_URLS:
            raise ConfigError(
                f"unknown tokenizer {tokenizer!r}; pass 'estimate', 'o200k_base', 'cl100k_base', "
                "a tiktoken Encoding or a Hugging Face tokenizer"
            )
        if not tiktoken_cached(tokenizer):
            raise ConfigError(
                f"tiktoken encoding {tokenizer!r} is not cached on this machine and cannot be "
                "downloaded offline; set TIKTOKEN_CACHE_DIR to a folder holding it, or use "
                "tokenizer='estimate'"
            )
        return _tiktoken_counter(tokenizer)
    if hasattr(tokenizer, "encode_ordinary") and hasattr(tokenizer, "name"):
        return _encoding_counter(tokenizer, f"tiktoken {tokenizer.name}")
    if hasattr(tokenizer, "apply_chat_template") or hasattr(tokenizer, "encode"):
        return _hf_counter(tokenizer)
    raise ConfigError(f"cannot count tokens with a {type(tokenizer).__name__}; pass a tokenizer")


def _tiktoken_counter(name: str) -> TokenCounter:
    import tiktoken

    return _encoding_counter(tiktoken.get_encoding(name), f"tiktoken {name}")


def _encoding_counter(enc: Any, label: str) -> TokenCounter:
    encode = enc.encode_ordinary

    def value_tokens(value: Any) -> int:
        if isinstance(value, str):
            return len(encode(value))
        if isinstance(value, list):  # content parts
            return sum(
                len(encode(p["text"]))
                if isinstance(p, dict) and isinstance(p.get("text"), str)
                else 85
                for p in value
            )
        if value is None or isinstance(value, (bool, int, float)):
            return 0
        return len(encode(orjson.dumps(value).decode()))

    def messages_tokens(msgs: Any) -> tuple[int, int]:
        total = trainable = 0
        if not isinstance(msgs, list):
            return 0, 0
        for m in msgs:
            if not isinstance(m, dict):
                continue
            total += 3
            own = 0
            for key, value in m.items():
                if key == "weight":
                    continue
                n = value_tokens(value)
                own += n if key in ("content", "tool_calls", "function_call") else 0
                total += n + (1 if key == "name" else 0)
            if m.get("role") == "assistant" and m.get("weight", 1) != 0:
                trainable += own
        return total + 3, trainable

    def count(rec: dict[str, Any], fmt: str) -> tuple[int, int]:
        if fmt == "chat":
            total, trainable = messages_tokens(rec.get("messages"))
            if "tools" in rec:
                total += value_tokens(rec["tools"])
            return total, trainable
        if fmt == "preference":
            inp = rec.get("input")
            total, _ = messages_tokens(inp.get("messages") if isinstance(inp, dict) else None)
            pref, _ = messages_tokens(rec.get("preferred_output"))
            nonpref, _ = messages_tokens(rec.get("non_preferred_output"))
            return total + pref + nonpref, pref
        if fmt == "instruction":
            completion = value_tokens(rec.get("completion"))
            return value_tokens(rec.get("prompt")) + completion, completion
        text = value_tokens(rec.get("text"))
        return text, text

    return TokenCounter(label, count)


def _hf_counter(tok: Any) -> TokenCounter:
    name = getattr(tok, "name_or_path", "") or type(tok).__name__

    def encode(text: Any) -> int:
        if not isinstance(text, str):
            return 0
        return len(tok.encode(text, add_special_tokens=False))

    def count(rec: dict[str, Any], fmt: str) -> tuple[int, int]:
        if fmt == "chat":
            msgs = rec.get("messages") or []
            total = len(render_ids(tok, msgs, rec.get("tools")))
            trainable = sum(
                encode(m.get("content"))
                for m in msgs
                if isinstance(m, dict) and m.get("role") == "assistant" and m.get("weight", 1) != 0
            )
            return total, trainable
        if fmt == "preference":
            inp = rec.get("input") or {}
            prompt = len(render_ids(tok, inp.get("messages") or [], inp.get("tools")))
            pref = rec.get("preferred_output") or [{}]
            chosen = encode(pref[0].get("content")) if isinstance(pref[0], dict) else 0
            return prompt + chosen, chosen
        if fmt == "instruction":
            completion = encode(rec.get("completion"))
            return encode(rec.get("prompt")) + completion, completion
        text = len(tok.encode(rec.get("text") or ""))
        return text, text

    return TokenCounter(f"tokenizer {name}", count)


def render_ids(tok: Any, messages: list[Any], tools: Any = None) -> list[int]:
    """Token ids of ``messages`` rendered with the tokenizer's chat template (raises on failure)."""
    kwargs: dict[str, Any] = {"tokenize": True}
    if tools:
        kwargs["tools"] = tools
    ids = tok.apply_chat_template(messages, **kwargs)
    if hasattr(ids, "keys") and "input_ids" in ids:  # transformers 5 may return a BatchEncoding
        ids = ids["input_ids"]
    if ids and isinstance(ids[0], list):
        ids = ids[0]
    return list(ids)

"""Counting tokens: exact with a tokenizer at hand, otherwise a labelled estimate.

- ``None`` (the default) or ``"estimate"``: the estimate (see ``_estimate``), unless the
  engine picks the encoding of the provider being validated for (``ProviderProfile.tokenizer``)
  and it is installed.
- an encoding name (``"o200k_base"``, ``"cl100k_base"``) or a tiktoken ``Encoding``: OpenAI's
  count as in the cookbook (3 tokens per message, the values' tokens, 1 per name, 3 to prime
  the reply). The encoding files come from ``pip install 'ftbridge[tokens]'`` (see
  ``_encodings``); nothing is downloaded.
- a Hugging Face tokenizer: the model's chat template, rendered and tokenized.

Nothing here imports tiktoken or transformers until a tokenizer is actually used.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from .._exceptions import ConfigError
from . import _encodings, _estimate

Counter = Callable[[dict[str, Any], str], tuple[int, int]]

ESTIMATE_LABEL = _estimate.LABEL
#: What to install for exact counts when only the estimate was at hand.
INSTALL_HINT = "pip install 'ftbridge[tokens]' for exact counts"


def estimate(units: int, messages: int) -> int:
    """The estimate used when no tokenizer is at hand (the engine inlines it)."""
    return _estimate.tokens(units, messages)


class TokenCounter:
    """Counts (total, trainable) tokens of one record; ``label`` says with what.

    ``cacheable``: the same label always gives the same counts, so reports may be cached
    under it. ``parallel_safe``: worker processes may count with it (after a fork).
    """

    def __init__(
        self, label: str, count: Counter, *, parallel_safe: bool = False, cacheable: bool = False
    ) -> None:
        self.label = label
        self.count = count
        self.parallel_safe = parallel_safe
        self.cacheable = cacheable


def resolve(tokenizer: Any) -> TokenCounter | None:
    """The counter for a ``tokenizer`` argument; ``None`` means use the estimate."""
    if tokenizer is None:
        return None
    if isinstance(tokenizer, str):
        if tokenizer == "estimate":
            return None
        if tokenizer not in _encodings.NAMES:
            raise ConfigError(
                f"unknown tokenizer {tokenizer!r}; pass 'estimate', "
                f"{', '.join(repr(n) for n in _encodings.NAMES)}, a tiktoken Encoding or a "
                "Hugging Face tokenizer"
            )
        if not _encodings.available(tokenizer):
            raise ConfigError(
                f"the {tokenizer} encoding is not installed: {INSTALL_HINT} (the package ships "
                "the encoding files, nothing is downloaded), or use tokenizer='estimate'"
            )
        return encoding_counter(tokenizer)
    if hasattr(tokenizer, "encode_ordinary") and hasattr(tokenizer, "name"):
        return _encoding_counter(tokenizer, f"{tokenizer.name} (exact)")
    if hasattr(tokenizer, "apply_chat_template") or hasattr(tokenizer, "encode"):
        return _hf_counter(tokenizer)
    raise ConfigError(f"cannot count tokens with a {type(tokenizer).__name__}; pass a tokenizer")


def default_counter(encoding: str | None) -> TokenCounter | None:
    """The exact counter for a provider's ``encoding`` when it is installed, else None."""
    if encoding is None or not _encodings.available(encoding):
        return None
    return encoding_counter(encoding)


def encoding_counter(name: str) -> TokenCounter:
    """The exact counter for one of OpenAI's encodings (installed: see ``_encodings``)."""
    try:
        enc = _encodings.load(name)
    except (LookupError, ValueError) as exc:
        raise ConfigError(f"cannot load the {name} encoding: {exc}; {INSTALL_HINT}") from None
    # the encoding is loaded before the workers fork, so each of them counts with it
    return _encoding_counter(enc, f"{name} (exact)", parallel_safe=True, cacheable=True)


def _encoding_counter(
    enc: Any, label: str, *, parallel_safe: bool = False, cacheable: bool = False
) -> TokenCounter:
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

    return TokenCounter(label, count, parallel_safe=parallel_safe, cacheable=cacheable)


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

    return TokenCounter(f"tokenizer {name} (exact)", count)


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

"""From validated chat records to token ids and labels: loss only on what should be learned.

The labels are built here rather than inside TRL so that per-message ``weight: 0`` (OpenAI's
format) can leave an assistant turn out of the loss, which TRL's ``assistant_only_loss`` alone
cannot do. The assistant spans come from the chat template's ``{% generation %}`` markers (the
model's own template, or TRL's training template for its family); a template without them falls
back to prefix rendering, which needs a template that renders earlier turns the same way.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

IGNORE_INDEX = -100

# Keys of a message that a chat template understands; the rest (``weight``) are ours.
_TEMPLATE_KEYS = ("role", "content", "name", "tool_calls", "tool_call_id", "reasoning_content")


@dataclass
class TokenizedData:
    """Token ids and labels for each kept example, plus what happened on the way."""

    examples: list[dict[str, list[int]]] = field(default_factory=list)
    total_tokens: int = 0
    trainable_tokens: int = 0
    truncated: int = 0
    dropped_fully_masked: int = 0

    def summary(self) -> dict[str, int]:
        return {
            "examples": len(self.examples),
            "total_tokens": self.total_tokens,
            "trainable_tokens": self.trainable_tokens,
            "truncated": self.truncated,
            "dropped_fully_masked": self.dropped_fully_masked,
        }


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """The records of a (validated) JSONL file, blank lines skipped."""
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def template_file(value: str) -> Path | None:
    """``value`` as the path of a template file, or None when it is the template's text."""
    if "{" in value or "\n" in value or len(value) > 1024:
        return None
    try:
        path = Path(value).expanduser()
        return path if path.is_file() else None
    except OSError:  # a name too long for the filesystem is template text
        return None


def has_generation_markers(template: str | None) -> bool:
    return bool(template) and "generation" in str(template) and "endgeneration" in str(template)


def resolve_chat_template(tokenizer: Any, override: str | None = None) -> tuple[str, list[str]]:
    """The template to train with (saved with the run and used at inference), and warnings.

    ``override`` is Jinja text or a path to a ``.jinja`` file. Otherwise the tokenizer's own
    template is used when it marks assistant turns, else TRL's training template for its family.
    """
    warnings: list[str] = []
    if override:
        path = template_file(override)
        template = path.read_text(encoding="utf-8") if path else override
    else:
        template = tokenizer.chat_template
    if not template:
        raise ValueError(
            "the model's tokenizer has no chat template; pass one with "
            "options={'chat_template': '<jinja text or path to a .jinja file>'}"
        )
    if not has_generation_markers(template):
        try:
            from trl.chat_template_utils import get_training_chat_template

            patched = get_training_chat_template(tokenizer)
        except (ImportError, ValueError, NotImplementedError):  # older TRL, unknown family
            patched = None
        if patched:
            template = patched
        else:
            warnings.append(
                "the chat template has no {% generation %} markers and no training template is "
                "known for it; assistant turns are located by rendering message prefixes"
            )
    return template, warnings


def stop_token_trained(tokenizer: Any, template: str) -> bool:
    """Whether the assistant's end-of-turn token falls inside the loss mask."""
    if not has_generation_markers(template):
        return True  # prefix rendering includes everything up to the next turn
    probe = [
        {"role": "user", "content": "a"},
        {"role": "assistant", "content": "b"},
        {"role": "user", "content": "c"},
    ]
    out = _render_ids(tokenizer, probe, template, return_assistant_tokens_mask=True)
    ids, mask = list(out["input_ids"]), list(out["assistant_masks"])
    spans = _spans(mask)
    if not spans:
        return False
    # The last trained token must be a special token that ends the turn (an added token such as
    # <|im_end|> or <|eot_id|>), not the reply's last word: otherwise the model never learns to
    # stop. Trailing whitespace tokens inside the span are skipped.
    special = set(tokenizer.all_special_ids) | set(tokenizer.get_added_vocab().values())
    start, end = spans[0]
    for token in reversed(ids[start:end]):
        if token in special:
            return True
        if tokenizer.decode([token]).strip():
            return False
    return False


def _template_messages(messages: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: m[k] for k in _TEMPLATE_KEYS if k in m} for m in messages]


def _spans(mask: Sequence[int]) -> list[tuple[int, int]]:
    spans, start = [], None
    for i, bit in enumerate(mask):
        if bit and start is None:
            start = i
        elif not bit and start is not None:
            spans.append((start, i))
            start = None
    if start is not None:
        spans.append((start, len(mask)))
    return spans


def _render_ids(tokenizer: Any, messages: list[dict[str, Any]], template: str, **kw: Any) -> Any:
    return tokenizer.apply_chat_template(
        messages, chat_template=template, tokenize=True, return_dict=True, **kw
    )


def label_chat(
    tokenizer: Any, record: dict[str, Any], template: str
) -> tuple[list[int], list[int]]:
    """``(input_ids, labels)`` of one chat record; labels are -100 outside trained turns."""
    raw = record["messages"]
    messages = _template_messages(raw)
    extra = {"tools": record["tools"]} if record.get("tools") else {}
    assistant = [i for i, m in enumerate(raw) if m.get("role") == "assistant"]
    trained = [i for i in assistant if raw[i].get("weight", 1) != 0]

    if has_generation_markers(template):
        out = _render_ids(tokenizer, messages, template, return_assistant_tokens_mask=True, **extra)
        ids = list(out["input_ids"])
        mask = list(out["assistant_masks"])
        spans = _spans(mask)
        if len(trained) != len(assistant):
            if len(spans) != len(assistant):
                raise ValueError(
                    "cannot tell assistant turns apart in this chat template, so 'weight: 0' "
                    "cannot be honoured; remove the weights or use a template that marks each "
                    "assistant turn with {% generation %}"
                )
            keep = {n for n, i in enumerate(assistant) if i in trained}
            mask = [0] * len(ids)
            for n, (start, end) in enumerate(spans):
                if n in keep:
                    mask[start:end] = [1] * (end - start)
        labels = [t if bit else IGNORE_INDEX for t, bit in zip(ids, mask, strict=True)]
        return ids, labels

    # Prefix rendering: turn i's tokens are those between the prompt before it and the
    # conversation up to it.
    ids = list(_render_ids(tokenizer, messages, template, **extra)["input_ids"])
    labels = [IGNORE_INDEX] * len(ids)
    for i in trained:
        start = len(
            _render_ids(tokenizer, messages[:i], template, add_generation_prompt=True, **extra)[
                "input_ids"
            ]
        )
        end = len(_render_ids(tokenizer, messages[: i + 1], template, **extra)["input_ids"])
        labels[start:end] = ids[start:end]
    return ids, labels


def tokenize_records(
    records: Iterable[dict[str, Any]],
    tokenizer: Any,
    template: str,
    *,
    max_length: int | None,
) -> TokenizedData:
    """Tokenize and label every record, truncating to ``max_length`` (keeping the start).

    Examples left with no trained token after truncation are dropped and counted, never
    silently: the count is reported in the job's events.
    """
    data = TokenizedData()
    for record in records:
        if "messages" in record:
            ids, labels = label_chat(tokenizer, record, template)
        elif "prompt" in record and "completion" in record:
            prompt = tokenizer(record["prompt"], add_special_tokens=False)["input_ids"]
            completion = tokenizer(record["completion"], add_special_tokens=False)["input_ids"]
            completion = [*completion, tokenizer.eos_token_id]
            ids = prompt + completion
            labels = [IGNORE_INDEX] * len(prompt) + completion
        elif "text" in record:
            ids = tokenizer(record["text"], add_special_tokens=False)["input_ids"]
            ids = [*ids, tokenizer.eos_token_id]
            labels = list(ids)
        else:
            raise ValueError("a record has neither 'messages', 'prompt'/'completion' nor 'text'")
        if max_length is not None and len(ids) > max_length:
            ids, labels = ids[:max_length], labels[:max_length]
            data.truncated += 1
        trainable = sum(1 for t in labels[1:] if t != IGNORE_INDEX)
        if trainable == 0:
            data.dropped_fully_masked += 1
            continue
        data.examples.append({"input_ids": ids, "labels": labels})
        data.total_tokens += len(ids)
        data.trainable_tokens += trainable
    return data

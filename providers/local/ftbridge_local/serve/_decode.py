"""One batch of generation: rows for different adapters decoded together, token by token.

Every step is one forward pass over all unfinished rows, each row naming its adapter
(``adapter_names=``, PEFT's mixed-adapter batches). Rows are left-padded and given positions
from their own first token, so a row computes what it would alone. Each row keeps its own
settings (``max_tokens``, stop sequences, temperature, ``top_p``, seed) and leaves the batch as
soon as it is done or its client goes away.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Emit = Callable[[tuple[Any, ...]], None]


@dataclass
class Row:
    """One request inside a batch, and what it has generated so far."""

    adapter: str | None  # client-facing adapter name; None is the base model
    prompt: list[int]
    tokenizer: Any
    max_tokens: int
    emit: Emit  # ("delta", text) ... then ("done", finish_reason, usage) or ("error", status, msg)
    temperature: float = 1.0
    top_p: float = 1.0
    seed: int | None = None
    stops: tuple[str, ...] = ()
    cancelled: threading.Event = field(default_factory=threading.Event)
    tokens: list[int] = field(default_factory=list)
    text: str = ""
    sent: int = 0
    generator: Any = None
    done: bool = False  # out of its batch (finished, failed or cancelled)
    finish: str | None = None  # why it ended, once it did: "stop" or "length"

    def usage(self) -> dict[str, int]:
        return {
            "prompt_tokens": len(self.prompt),
            "completion_tokens": len(self.tokens),
            "total_tokens": len(self.prompt) + len(self.tokens),
        }


def _cut(text: str, stops: tuple[str, ...]) -> tuple[str, bool]:
    cut = min((i for i in (text.find(s) for s in stops) if i >= 0), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)


def _advance(row: Row, token: int | None) -> str | None:
    """Add a token (None: end of sequence), send the text that is final, and say why the row
    ended (``stop``/``length``) or None while it goes on."""
    if token is not None:
        row.tokens.append(token)
        row.text = row.tokenizer.decode(row.tokens, skip_special_tokens=True)
    cut, hit = _cut(row.text, row.stops)
    ended = token is None or hit or len(row.tokens) >= row.max_tokens
    if ended:
        upto = len(cut)
    else:
        # Hold back what a stop sequence could still claim, and a half-decoded character.
        hold = max((len(s) - 1 for s in row.stops), default=0)
        upto = len(cut) - hold
        while upto > row.sent and cut[upto - 1] == "\ufffd":
            upto -= 1
    if upto > row.sent:
        row.emit(("delta", cut[row.sent : upto]))
        row.sent = upto
    if token is None or hit:
        return "stop"
    return "length" if ended else None


def _cache_keyword(model: Any) -> str:
    """The forward keyword of the KV cache (``past_key_values`` in older transformers)."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    params = inspect.signature(type(base).forward).parameters
    return "cache" if "cache" in params else "past_key_values"


def _pick(torch: Any, logits: Any, rows: list[Row]) -> list[int]:
    """The next token of each row: greedy at temperature 0, else sampled with its own RNG."""
    greedy = logits.argmax(-1).tolist()
    out = []
    for i, row in enumerate(rows):
        if row.temperature <= 0:
            out.append(int(greedy[i]))
            continue
        if row.generator is None:
            row.generator = torch.Generator()
            if row.seed is None:
                row.generator.seed()
            else:
                row.generator.manual_seed(row.seed)
        probs = torch.softmax(logits[i].float().cpu() / row.temperature, dim=-1)
        if row.top_p < 1.0:
            sorted_probs, order = probs.sort(descending=True)
            drop = sorted_probs.cumsum(-1) - sorted_probs > row.top_p
            sorted_probs[drop] = 0.0
            probs = torch.zeros_like(probs).scatter(0, order, sorted_probs)
        out.append(int(torch.multinomial(probs, 1, generator=row.generator)))
    return out


def run_batch(
    model: Any,
    rows: list[Row],
    slots: list[str] | None,
    *,
    pad_id: int,
    eos_ids: set[int],
) -> None:
    """Generate every row to its end. ``slots`` are the rows' PEFT adapter names (None when the
    model has no adapter loaded)."""
    import torch
    from transformers import DynamicCache

    device = next(model.parameters()).device
    width = max(len(r.prompt) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, row in enumerate(rows):
        ids[i, width - len(row.prompt) :] = torch.tensor(row.prompt)
        mask[i, width - len(row.prompt) :] = 1
    ids, mask = ids.to(device), mask.to(device)
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    cache = DynamicCache()
    keyword = _cache_keyword(model)
    alive = list(range(len(rows)))
    names = list(slots) if slots is not None else None

    with torch.inference_mode():
        while alive:
            extra: dict[str, Any] = {keyword: cache}
            if names is not None:
                extra["adapter_names"] = names
            out = model(
                input_ids=ids,
                attention_mask=mask,
                position_ids=positions,
                use_cache=True,
                logits_to_keep=1,
                **extra,
            )
            current = [rows[i] for i in alive]
            picked = _pick(torch, out.logits[:, -1, :], current)
            keep = []
            for j, (row, token) in enumerate(zip(current, picked, strict=True)):
                if row.cancelled.is_set():
                    row.done = True
                    continue
                reason = _advance(row, None if token in eos_ids else token)
                if reason is None:
                    keep.append(j)
                else:
                    row.done, row.finish = True, reason
                    row.emit(("done", reason, row.usage()))
            if len(keep) < len(alive):
                if not keep:
                    break
                index = torch.tensor(keep, device=device)
                cache.batch_select_indices(index)
                mask = mask[index]
                positions = positions[index]
                picked = [picked[j] for j in keep]
                if names is not None:
                    names = [names[j] for j in keep]
                alive = [alive[j] for j in keep]
            ids = torch.tensor(picked, device=device).unsqueeze(-1)
            mask = torch.cat([mask, mask.new_ones((len(alive), 1))], dim=-1)
            positions = positions[:, -1:] + 1

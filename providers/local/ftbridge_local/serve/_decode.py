"""One batch of generation: rows for different adapters decoded together, token by token.

Every step is one forward pass over all unfinished rows, each row naming its adapter
(``adapter_names=``, PEFT's mixed-adapter batches). Rows are left-padded and given positions
from their own first token, so a row computes what it would alone. Each row keeps its own
settings (``max_tokens``, stop sequences, temperature, ``top_p``, seed) and leaves the batch as
soon as it is done or its client goes away, and rows waiting to start join at a step boundary
(their prompts prefilled on their own, their KV cache left-padded to the batch's length).
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


Admit = Callable[[int], list[tuple[Row, str | None]]]


def _mergeable(cache: Any) -> bool:
    """Whether rows can join ``cache``: plain full-attention layers only (a sliding-window or
    quantised cache keeps its batch as it started)."""
    from transformers.cache_utils import DynamicLayer

    layers = getattr(cache, "layers", None)
    if not layers:
        return False
    return all(
        type(layer) is DynamicLayer and getattr(layer, "keys", None) is not None for layer in layers
    )


class _Batch:
    """The rows decoding together: their KV cache, attention mask, positions and adapters."""

    def __init__(self, model: Any, *, pad_id: int, eos_ids: set[int]) -> None:
        self.model = model
        self.pad_id = pad_id
        self.eos_ids = eos_ids
        self.device = next(model.parameters()).device
        self.keyword = _cache_keyword(model)
        self.rows: list[Row] = []
        self.names: list[str] | None = None
        self.cache: Any = None
        self.mask: Any = None
        self.positions: Any = None
        self.next_ids: list[int] = []

    def _forward(self, ids: Any, mask: Any, positions: Any, cache: Any, names: Any) -> Any:
        extra: dict[str, Any] = {self.keyword: cache}
        if names is not None:
            extra["adapter_names"] = names
        out = self.model(
            input_ids=ids,
            attention_mask=mask,
            position_ids=positions,
            use_cache=True,
            logits_to_keep=1,
            **extra,
        )
        return out.logits[:, -1, :]

    def _settle(self, rows: list[Row], logits: Any) -> tuple[list[int], list[int]]:
        """Pick each row's next token and send its text; the rows that go on, and their tokens."""
        import torch

        picked = _pick(torch, logits, rows)
        keep = []
        for j, (row, token) in enumerate(zip(rows, picked, strict=True)):
            if row.cancelled.is_set():
                row.done = True
                continue
            reason = _advance(row, None if token in self.eos_ids else token)
            if reason is None:
                keep.append(j)
            else:
                row.done, row.finish = True, reason
                row.emit(("done", reason, row.usage()))
        return keep, picked

    def add(self, rows: list[Row], slots: list[str] | None) -> None:
        """Prefill ``rows`` (left-padded) and put the ones that go on into the batch."""
        import torch
        import torch.nn.functional as F
        from transformers import DynamicCache

        width = max(len(r.prompt) for r in rows)
        ids = torch.full((len(rows), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, row in enumerate(rows):
            ids[i, width - len(row.prompt) :] = torch.tensor(row.prompt)
            mask[i, width - len(row.prompt) :] = 1
        ids, mask = ids.to(self.device), mask.to(self.device)
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        cache = DynamicCache()
        logits = self._forward(ids, mask, positions, cache, slots)
        keep, picked = self._settle(rows, logits)
        if not keep:
            return
        index = torch.tensor(keep, device=self.device)
        if len(keep) < len(rows):
            cache.batch_select_indices(index)
        mask, positions = mask[index], positions[index, -1:]
        rows = [rows[j] for j in keep]
        names = [slots[j] for j in keep] if slots is not None else None
        if not self.rows:
            self.cache, self.mask, self.positions, self.names = cache, mask, positions, names
        else:
            # Left-pad the shorter side's cache and mask so every row ends at the same column.
            old, new = self.mask.shape[1], mask.shape[1]
            width = max(old, new)
            for mine, theirs in zip(self.cache.layers, cache.layers, strict=True):
                for attr in ("keys", "values"):
                    a, b = getattr(mine, attr), getattr(theirs, attr)
                    a = F.pad(a, (0, 0, width - a.shape[-2], 0))
                    b = F.pad(b, (0, 0, width - b.shape[-2], 0))
                    setattr(mine, attr, torch.cat([a, b]))
            self.mask = torch.cat(
                [F.pad(self.mask, (width - old, 0)), F.pad(mask, (width - new, 0))]
            )
            self.positions = torch.cat([self.positions, positions])
            if self.names is not None and names is not None:
                self.names = self.names + names
        self.rows += rows
        self.next_ids += [picked[j] for j in keep]

    def can_join(self) -> bool:
        return bool(self.rows) and _mergeable(self.cache)

    def step(self) -> None:
        """One token for every row; rows that end leave the batch."""
        import torch

        ids = torch.tensor(self.next_ids, device=self.device).unsqueeze(-1)
        self.mask = torch.cat([self.mask, self.mask.new_ones((len(self.rows), 1))], dim=-1)
        self.positions = self.positions + 1
        logits = self._forward(ids, self.mask, self.positions, self.cache, self.names)
        keep, picked = self._settle(self.rows, logits)
        if len(keep) < len(self.rows):
            if keep:
                index = torch.tensor(keep, device=self.device)
                self.cache.batch_select_indices(index)
                self.mask, self.positions = self.mask[index], self.positions[index]
            if self.names is not None:
                self.names = [self.names[j] for j in keep]
            self.rows = [self.rows[j] for j in keep]
        self.next_ids = [picked[j] for j in keep]


def run_batch(
    model: Any,
    rows: list[Row],
    slots: list[str] | None,
    *,
    pad_id: int,
    eos_ids: set[int],
    admit: Admit | None = None,
    max_rows: int | None = None,
) -> int:
    """Generate every row to its end; return the most rows decoded in one step.

    ``slots`` are the rows' PEFT adapter names (None when the model has no adapter loaded).
    Between steps, ``admit(room)`` may hand over waiting rows (with their slots) to join.
    """
    import torch

    batch = _Batch(model, pad_id=pad_id, eos_ids=eos_ids)
    most = len(rows)
    with torch.inference_mode():
        batch.add(rows, slots)
    while batch.rows:
        room = (max_rows or 0) - len(batch.rows)
        if admit is not None and room > 0 and batch.can_join():
            # Outside inference mode: admitting may load an adapter, whose weights must stay
            # ordinary tensors (PEFT sets requires_grad on them when another one is deleted).
            joining = admit(room)
            if joining:
                new_slots = [str(s) for _, s in joining] if slots is not None else None
                with torch.inference_mode():
                    batch.add([r for r, _ in joining], new_slots)
                most = max(most, len(batch.rows))
        with torch.inference_mode():
            batch.step()
    return most

"""Attention for padding-free batches without flash-attention: causal SDPA per packed sequence.

With ``padding_free``, TRL concatenates a batch's examples into one row and marks where each
starts (``position_ids`` restart at 0, ``cu_seq_lens_q`` holds the offsets). flash-attention's
varlen kernel attends within each example; transformers' ``sdpa`` instead builds a dense
block-diagonal mask over the whole row, so attention costs ``(sum of lengths)²`` plus the mask,
which can eat what padding-free saves. This module registers ``ftbridge_varlen``: no dense mask,
and ``scaled_dot_product_attention(is_causal=True)`` on each example's slice of the row, which
is what the varlen kernel computes. Anything else (left padding, a KV cache, a non-causal layer)
goes to transformers' own ``sdpa`` path unchanged. :class:`PackedBatches` builds the batches it
is meant for on CPU::

    from ftbridge_local._varlen import VARLEN_ATTENTION, register

    register()
    model = AutoModelForCausalLM.from_pretrained(path, attn_implementation=VARLEN_ATTENTION)
    SFTTrainer(model=model, data_collator=PackedBatches(tokenizer.pad_token_id), ...)
"""

from __future__ import annotations

import itertools
from typing import Any

import torch
import torch.nn.functional as F

VARLEN_ATTENTION = "ftbridge_varlen"


class _Lengths:
    """Sequence lengths of the last boundary tensor seen.

    Every layer of one forward pass gets the same ``cu_seq_lens_q`` (or ``position_ids``)
    object; reading it once saves a device-to-host copy per layer on GPUs.
    """

    def __init__(self) -> None:
        self._key: torch.Tensor | None = None
        self._rows: list[list[int]] = []

    def of(self, key: torch.Tensor, compute: Any) -> list[list[int]]:
        if key is not self._key:
            self._rows = compute(key)
            self._key = key
        return self._rows


_cache = _Lengths()


def _from_cu_seq_lens(cu: torch.Tensor) -> list[list[int]]:
    bounds = [int(x) for x in cu.tolist()]
    return [[b - a for a, b in itertools.pairwise(bounds) if b > a]]


def _from_position_ids(position_ids: torch.Tensor) -> list[list[int]]:
    # A sequence starts wherever the position does not follow the previous one (as transformers
    # detects packed rows).
    rows = []
    for row in position_ids.tolist():
        starts = [0] + [i for i in range(1, len(row)) if row[i] != row[i - 1] + 1]
        rows.append([b - a for a, b in zip(starts, [*starts[1:], len(row)], strict=True)])
    return rows


def sequence_lengths(batch: int, length: int, kwargs: dict[str, Any]) -> list[list[int]]:
    """Lengths of the sequences packed in each row (one per row when nothing is packed)."""
    cu = kwargs.get("cu_seq_lens_q")
    if batch == 1 and isinstance(cu, torch.Tensor) and int(cu.numel()) >= 2:
        rows = _cache.of(cu, _from_cu_seq_lens)
        if sum(rows[0]) == length:
            return rows
    position_ids = kwargs.get("position_ids")
    if isinstance(position_ids, torch.Tensor) and position_ids.shape[-1] == length:
        rows = _cache.of(position_ids, _from_position_ids)
        if len(rows) == batch:
            return rows
        if len(rows) == 1:  # position ids shared by every row
            return rows * batch
    return [[length]] * batch


def _repeat_kv(x: torch.Tensor, n_rep: int) -> torch.Tensor:
    if n_rep == 1:
        return x
    batch, heads, length, dim = x.shape
    return x[:, :, None].expand(batch, heads, n_rep, length, dim).reshape(batch, -1, length, dim)


def _causal(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    *,
    dropout: float,
    scaling: float | None,
    window: int | None,
) -> torch.Tensor:
    length = q.shape[2]
    if window is not None and length > window:
        # Sliding-window layers: causal and at most ``window`` tokens back.
        ones = torch.ones(length, length, dtype=torch.bool, device=q.device)
        band = ones.tril().triu(-(window - 1))
        return F.scaled_dot_product_attention(
            q, k, v, attn_mask=band, dropout_p=dropout, scale=scaling
        )
    return F.scaled_dot_product_attention(q, k, v, dropout_p=dropout, scale=scaling, is_causal=True)


def varlen_attention_forward(
    module: torch.nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    dropout: float = 0.0,
    scaling: float | None = None,
    is_causal: bool | None = None,
    **kwargs: Any,
) -> tuple[torch.Tensor, None]:
    """transformers' attention-function signature: ``[B, H, L, D]`` in, ``[B, L, H, D]`` out."""
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    unsupported = [k for k in ("softcap", "s_aux", "position_bias") if kwargs.get(k) is not None]
    if unsupported:
        raise ValueError(
            f"the {VARLEN_ATTENTION} attention has no {', '.join(unsupported)}; pass "
            "options={'attn_implementation': 'eager'} (or 'flash_attention_2' on CUDA)"
        )
    causal = is_causal if is_causal is not None else getattr(module, "is_causal", True)
    batch, _, length, _ = query.shape
    if attention_mask is not None or not causal or length == 1 or key.shape[2] != length:
        return sdpa_attention_forward(
            module,
            query,
            key,
            value,
            attention_mask,
            dropout=dropout,
            scaling=scaling,
            is_causal=is_causal,
            **kwargs,
        )
    n_rep = int(getattr(module, "num_key_value_groups", 1))
    key, value = _repeat_kv(key, n_rep), _repeat_kv(value, n_rep)
    window = getattr(module, "sliding_window", None)

    def attend(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return _causal(q, k, v, dropout=dropout, scaling=scaling, window=window)

    rows = sequence_lengths(batch, length, kwargs)
    if all(len(row) == 1 for row in rows):
        out = attend(query, key, value)
    else:
        outs = []
        for b, lengths in enumerate(rows):
            parts = zip(
                query[b : b + 1].split(lengths, dim=2),
                key[b : b + 1].split(lengths, dim=2),
                value[b : b + 1].split(lengths, dim=2),
                strict=True,
            )
            outs.append(torch.cat([attend(*qkv) for qkv in parts], dim=2))
        out = torch.cat(outs, dim=0) if batch > 1 else outs[0]
    return out.transpose(1, 2).contiguous(), None


def _right_padded(mask: torch.Tensor | None) -> bool:
    """No mask, or each row's pad tokens all at its end: causal attention never reaches them.

    A real token only attends to earlier positions, so right padding changes no real token's
    output; the pads' own outputs carry no label.
    """
    if mask is None:
        return True
    if mask.ndim != 2:
        return False
    mask = mask.bool()
    return bool((mask[:, 1:] <= mask[:, :-1]).all())


def varlen_mask(
    batch_size: int,
    q_length: int | None = None,
    kv_length: int = 0,
    q_offset: Any = 0,
    kv_offset: Any = 0,
    attention_mask: torch.Tensor | None = None,
    **kwargs: Any,
) -> torch.Tensor | None:
    """No mask where the attention function can apply causality itself, else ``sdpa``'s mask.

    Without a cache and with no padding or only right padding (training and scoring), the
    attention function knows the sequence boundaries, so the dense ``[L, L]`` mask is never
    built. Transformers before 5.x describe the queries by ``cache_position`` instead of
    ``q_length``/``q_offset``; both are understood.
    """
    from transformers.masking_utils import sdpa_mask

    cache_position = kwargs.get("cache_position")
    if q_length is None and cache_position is not None:
        length = int(cache_position.shape[0])
        first = int(cache_position[0]) if length else 0
        no_offset = isinstance(kv_offset, int) and kv_offset == 0 and first == 0
        if length == kv_length and no_offset and _right_padded(attention_mask):
            return None
        return sdpa_mask(  # type: ignore[no-any-return]
            batch_size=batch_size,
            kv_length=kv_length,
            kv_offset=kv_offset,
            attention_mask=attention_mask,
            **kwargs,
        )
    assert q_length is not None, "the mask interface passes q_length or cache_position"
    no_offset = (
        isinstance(q_offset, int) and isinstance(kv_offset, int) and q_offset == kv_offset == 0
    )
    if q_length == kv_length and no_offset and _right_padded(attention_mask):
        return None
    return sdpa_mask(
        batch_size=batch_size,
        q_length=q_length,
        kv_length=kv_length,
        q_offset=q_offset,
        kv_offset=kv_offset,
        attention_mask=attention_mask,
        **kwargs,
    )


def register() -> str:
    """Make ``attn_implementation="ftbridge_varlen"`` loadable in this process; returns the name."""
    from transformers import AttentionInterface
    from transformers.masking_utils import AttentionMaskInterface

    AttentionInterface.register(VARLEN_ATTENTION, varlen_attention_forward)
    AttentionMaskInterface.register(VARLEN_ATTENTION, varlen_mask)
    return VARLEN_ATTENTION


def bucket(length: int) -> int:
    """``length`` rounded up to a multiple of 64, or of 1/8 of it for long rows.

    On CPU, oneDNN builds a kernel for each new shape of a bf16 matmul (TRL keeps QLoRA adapters
    in bf16), about a millisecond each, for every adapter matmul of a step; a packed row has a
    new length nearly every step. A few sizes are built once and reused. Rounding adds at most
    63 pad tokens, or 12.5% of a long row.
    """
    step = max(64, 1 << max(0, length.bit_length() - 4))
    return -(-length // step) * step


class PackedBatches:
    """TRL's padding-free batches, the row rounded up with :func:`bucket` on CPU.

    The examples of a micro-batch are concatenated into one row (``position_ids`` restart at
    each, ``cu_seq_lens_q`` marks the starts), so ``batch_size`` still counts examples. The
    rounding adds one sequence of pad tokens at the end, with no label; ``attention_mask`` marks
    it so that the trainer's token count stays the count of real tokens.
    """

    def __init__(self, pad_token_id: int, *, round_up: bool = True) -> None:
        from trl.trainer.sft_trainer import DataCollatorForLanguageModeling

        self._packed = DataCollatorForLanguageModeling(pad_token_id=pad_token_id, padding_free=True)
        self.pad_token_id = pad_token_id
        self.round_up = round_up

    def __call__(self, examples: list[dict[str, Any]]) -> dict[str, Any]:
        batch: dict[str, Any] = self._packed(examples)
        length = int(batch["input_ids"].shape[1])
        tail = bucket(length) - length if self.round_up else 0
        if tail:
            n_seqs = int(batch["cu_seq_lens_q"].numel()) - 1
            batch["input_ids"] = F.pad(batch["input_ids"], (0, tail), value=self.pad_token_id)
            batch["labels"] = F.pad(batch["labels"], (0, tail), value=-100)
            batch["position_ids"] = torch.cat(
                [
                    batch["position_ids"],
                    torch.arange(tail, dtype=batch["position_ids"].dtype)[None],
                ],
                dim=1,
            )
            cu = torch.cat(
                [batch["cu_seq_lens_q"], batch["cu_seq_lens_q"].new_tensor([length + tail])]
            )
            batch["cu_seq_lens_q"] = batch["cu_seq_lens_k"] = cu
            batch["max_length_q"] = batch["max_length_k"] = max(int(batch["max_length_q"]), tail)
            if "seq_idx" in batch:
                batch["seq_idx"] = F.pad(batch["seq_idx"], (0, tail), value=n_seqs)
        mask = torch.zeros_like(batch["input_ids"])
        mask[:, :length] = 1
        batch["attention_mask"] = mask
        return batch

"""Padding-free attention without flash-attention: a packed row computes what each example alone does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from ftbridge_local._data import resolve_chat_template, tokenize_records
from ftbridge_local._modeling import training_attention
from ftbridge_local._options import LocalOptions
from ftbridge_local._varlen import VARLEN_ATTENTION, PackedBatches, bucket, varlen_attention_forward
from local_data import format_records


@pytest.fixture(scope="module")
def examples(tiny_model: Path) -> list[dict[str, list[int]]]:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    template, _ = resolve_chat_template(tokenizer)
    data = tokenize_records(format_records(), tokenizer, template, max_length=96)
    # Lengths that differ, as real chats do: the padded batch is mostly pad.
    return [data.examples[i] for i in (0, 30, 5, 31, 12, 29, 2, 28)]


def load(tiny_model: Path, attention: str) -> Any:
    from ftbridge_local._modeling import load_base

    model = load_base(
        str(tiny_model),
        method="lora",
        dtype_name="float32",
        device="cpu",
        attn_implementation=attention,
    )
    return model.eval()


def test_a_packed_row_gives_each_example_its_own_logits(
    tiny_model: Path, examples: list[dict[str, list[int]]]
) -> None:
    alone_model = load(tiny_model, "sdpa")
    packed_model = load(tiny_model, VARLEN_ATTENTION)
    batch = PackedBatches(pad_token_id=0)(examples)
    with torch.no_grad():
        packed = packed_model(
            **{k: v for k, v in batch.items() if k != "labels"}, use_cache=False
        ).logits[0]
        start = 0
        for example in examples:
            ids = torch.tensor([example["input_ids"]])
            alone = alone_model(ids, use_cache=False).logits[0]
            got = packed[start : start + len(example["input_ids"])]
            assert (got - alone).abs().max().item() < 1e-4
            start += len(example["input_ids"])


def test_packed_and_padded_batches_give_the_same_loss(
    tiny_model: Path, examples: list[dict[str, list[int]]]
) -> None:
    from trl.trainer.sft_trainer import DataCollatorForLanguageModeling

    padded = DataCollatorForLanguageModeling(pad_token_id=0)(examples)
    packed = PackedBatches(pad_token_id=0)(examples)
    losses = []
    for attention, batch in (("sdpa", padded), (VARLEN_ATTENTION, packed)):
        model = load(tiny_model, attention)
        inputs = {k: v for k, v in batch.items() if k != "seq_idx"}
        with torch.no_grad():
            losses.append(float(model(**inputs, use_cache=False).loss))
    assert losses[1] == pytest.approx(losses[0], rel=1e-5)


def test_packed_batches_keep_every_example_and_count_only_real_tokens(
    examples: list[dict[str, list[int]]],
) -> None:
    batch = PackedBatches(pad_token_id=0)(examples)
    real = sum(len(e["input_ids"]) for e in examples)
    width = batch["input_ids"].shape[1]
    assert batch["input_ids"].shape[0] == 1 and width == bucket(real) > real
    assert int(batch["attention_mask"].sum()) == real  # what the trainer counts as tokens
    starts = batch["cu_seq_lens_q"].tolist()
    assert len(starts) == len(examples) + 2  # each example, then the rounding's pad tail
    assert starts[-2:] == [real, width]
    assert (batch["labels"][0, real:] == -100).all()
    assert batch["position_ids"][0, real:].tolist() == list(range(width - real))
    exact = PackedBatches(pad_token_id=0, round_up=False)(examples)
    assert exact["input_ids"].shape[1] == real


def test_row_lengths_come_in_a_few_sizes() -> None:
    sizes = {bucket(n) for n in range(1, 4097)}
    assert all(bucket(n) >= n and bucket(n) - n <= max(63, n // 8) for n in range(1, 4097))
    assert len(sizes) <= 40  # instead of one shape per step


def test_left_padded_batches_keep_the_default_path(tiny_model: Path) -> None:
    """Generation pads on the left: that mask is honoured, not taken for a packed row."""
    ids = torch.tensor([[0, 0, 0, 7, 8, 9, 10], [11, 12, 13, 14, 15, 16, 17]])
    mask = torch.tensor([[0, 0, 0, 1, 1, 1, 1], [1] * 7])
    outs = []
    for attention in ("sdpa", VARLEN_ATTENTION):
        with torch.no_grad():
            outs.append(load(tiny_model, attention)(ids, attention_mask=mask).logits)
    assert (outs[0][0, 3:] - outs[1][0, 3:]).abs().max().item() < 1e-4
    assert (outs[0][1] - outs[1][1]).abs().max().item() < 1e-4


def test_sliding_window_layers_look_back_only_the_window() -> None:
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    class Layer(torch.nn.Module):
        is_causal = True
        num_key_value_groups = 2
        sliding_window = 4

    torch.manual_seed(0)
    q = torch.randn(1, 4, 10, 8)
    k, v = torch.randn(1, 2, 10, 8), torch.randn(1, 2, 10, 8)
    got, _ = varlen_attention_forward(Layer(), q, k, v, None)
    i = torch.arange(10)
    band = (i[:, None] >= i[None, :]) & (i[:, None] - i[None, :] < 4)
    want, _ = sdpa_attention_forward(Layer(), q, k, v, band[None, None])
    assert (got - want).abs().max().item() < 1e-5


def test_what_the_varlen_attention_cannot_do_is_refused_with_the_fix() -> None:
    q = torch.randn(1, 2, 5, 8)
    with pytest.raises(ValueError, match="attn_implementation"):
        varlen_attention_forward(torch.nn.Module(), q, q, q, None, softcap=30.0)


def test_padding_free_picks_a_varlen_attention() -> None:
    assert training_attention(LocalOptions(), "cpu", "float32") == VARLEN_ATTENTION
    assert training_attention(LocalOptions(padding_free=False), "cpu", "float32") is None
    chosen = LocalOptions(attn_implementation="eager")
    assert training_attention(chosen, "cpu", "float32") == "eager"

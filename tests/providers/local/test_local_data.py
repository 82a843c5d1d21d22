"""What the model is trained on: the loss mask, truncation, padding-free batches, batch sizes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ftbridge_local._data import (
    IGNORE_INDEX,
    label_chat,
    resolve_chat_template,
    stop_token_trained,
    tokenize_records,
)
from ftbridge_local._plan import plan_batches, total_steps
from ftbridge_local.testing import TINY_CHAT_TEMPLATE
from local_data import UNTRAINED_REPLY, answer, format_records

# The tiny template without {% generation %} markers, as many base models ship theirs.
UNMARKED = TINY_CHAT_TEMPLATE.replace("{%- generation -%}", "").replace("{%- endgeneration -%}", "")
# The end-of-turn token outside the generation block: the model would never learn to stop.
EOT_OUTSIDE = TINY_CHAT_TEMPLATE.replace(
    "{{ message['content'] + '<|im_end|>' }}{%- endgeneration -%}",
    "{{ message['content'] }}{%- endgeneration -%}{{ '<|im_end|>' }}",
)


@pytest.fixture(scope="module")
def tokenizer(tiny_model: Path) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_model)


def trained_text(tokenizer: Any, labels: list[int]) -> str:
    return tokenizer.decode([t for t in labels if t != IGNORE_INDEX])


TWO_TURNS = {
    "messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "What color is snow?"},
        {"role": "assistant", "content": UNTRAINED_REPLY, "weight": 0},
        {"role": "user", "content": "What color is grass?"},
        {"role": "assistant", "content": answer("green")},
    ]
}


def test_only_assistant_turns_with_weight_are_trained(tokenizer: Any) -> None:
    template, warnings = resolve_chat_template(tokenizer)
    assert warnings == []
    ids, labels = label_chat(tokenizer, TWO_TURNS, template)
    assert len(ids) == len(labels)
    # the weighted reply and its end-of-turn token, nothing from system, user or the weight-0 turn
    assert trained_text(tokenizer, labels) == answer("green") + "<|im_end|>"


def test_without_weights_every_assistant_turn_is_trained(tokenizer: Any) -> None:
    record = {
        "messages": [{k: v for k, v in m.items() if k != "weight"} for m in TWO_TURNS["messages"]]
    }
    template, _ = resolve_chat_template(tokenizer)
    _, labels = label_chat(tokenizer, record, template)
    text = trained_text(tokenizer, labels)
    assert UNTRAINED_REPLY in text and answer("green") in text
    assert "What color" not in text and "Be brief" not in text


def test_a_template_without_markers_gives_the_same_labels(tokenizer: Any) -> None:
    tokenizer.chat_template = UNMARKED
    try:
        template, warnings = resolve_chat_template(tokenizer)
    finally:
        tokenizer.chat_template = TINY_CHAT_TEMPLATE
    assert template == UNMARKED and "generation" in warnings[0]
    marked_ids, marked = label_chat(tokenizer, TWO_TURNS, TINY_CHAT_TEMPLATE)
    ids, labels = label_chat(tokenizer, TWO_TURNS, UNMARKED)
    assert ids == marked_ids
    # prefix rendering also trains the newline after the end-of-turn token; the reply is the same
    assert trained_text(tokenizer, labels).rstrip("\n") == trained_text(tokenizer, marked)


def test_an_untrained_end_of_turn_token_is_detected(tokenizer: Any) -> None:
    assert stop_token_trained(tokenizer, TINY_CHAT_TEMPLATE)
    assert not stop_token_trained(tokenizer, EOT_OUTSIDE)


def test_a_template_override_is_used(tokenizer: Any, tmp_path: Path) -> None:
    path = tmp_path / "chat.jinja"
    path.write_text(EOT_OUTSIDE)
    template, _ = resolve_chat_template(tokenizer, str(path))
    assert template == EOT_OUTSIDE


def test_truncation_drops_examples_with_nothing_left_to_learn(tokenizer: Any) -> None:
    template, _ = resolve_chat_template(tokenizer)
    records = format_records()
    full = tokenize_records(records, tokenizer, template, max_length=None)
    assert full.truncated == 0 and full.dropped_fully_masked == 0
    assert len(full.examples) == len(records)
    # 12 tokens hold the prompt of every example but none of its reply
    cut = tokenize_records(records, tokenizer, template, max_length=12)
    assert cut.truncated == len(records)
    assert cut.dropped_fully_masked == len(records) and cut.examples == []
    assert full.trainable_tokens < full.total_tokens


def test_padding_free_batches_give_the_padded_loss(tokenizer: Any, tiny_model: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM
    from trl.trainer.sft_trainer import DataCollatorForLanguageModeling

    template, _ = resolve_chat_template(tokenizer)
    data = tokenize_records(format_records(), tokenizer, template, max_length=96)
    model = AutoModelForCausalLM.from_pretrained(tiny_model).eval()
    losses, widths = [], []
    for padding_free in (False, True):
        collate = DataCollatorForLanguageModeling(
            pad_token_id=tokenizer.pad_token_id, padding_free=padding_free
        )
        batch = collate(data.examples[:8])
        inputs = {
            k: v
            for k, v in batch.items()
            if k in {"input_ids", "attention_mask", "position_ids", "labels"}
        }
        with torch.no_grad():
            losses.append(float(model(**inputs, use_cache=False).loss))
        widths.append(batch["input_ids"].numel())
    assert losses[1] == pytest.approx(losses[0], rel=0.01)
    assert widths[1] < widths[0]  # no pad tokens computed


@pytest.mark.parametrize(
    ("batch", "processes", "micro", "expected"),
    [(8, 1, None, (8, 1)), (8, 2, None, (4, 1)), (32, 2, None, (8, 2)), (12, 1, 4, (4, 3))],
)
def test_batch_size_is_examples_per_step(
    batch: int, processes: int, micro: int | None, expected: tuple[int, int]
) -> None:
    plan = plan_batches(batch, processes, micro)
    assert (plan.micro_batch_size, plan.accumulation) == expected
    assert plan.examples_per_step == batch


def test_batch_sizes_that_cannot_split_say_what_to_change() -> None:
    with pytest.raises(ValueError, match="multiple of 2"):
        plan_batches(7, 2, None)
    with pytest.raises(ValueError, match="micro_batch_size 3"):
        plan_batches(8, 1, 3)
    assert total_steps(52, 10, plan_batches(8, 1, None), None) == 70
    assert total_steps(52, 10, plan_batches(8, 1, None), 5) == 5

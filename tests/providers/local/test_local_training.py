"""Real 4-bit QLoRA training of the tiny model: what a user sees of the run and of its model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from local_data import HELD_OUT, UNTRAINED_REPLY, answer
from local_helpers import TrainedRun, ask, follows_format

import ftbridge

pytestmark = pytest.mark.slow


def _job(trained: TrainedRun, monkeypatch: pytest.MonkeyPatch) -> ftbridge.Job:
    monkeypatch.setenv("FTBRIDGE_HOME", str(trained.home))
    return ftbridge.get_job(trained.job_id)


def test_qlora_trains_4bit_layers_and_the_loss_falls(
    trained: TrainedRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = _job(trained, monkeypatch)
    assert job.status is ftbridge.JobStatus.SUCCEEDED
    snap = job.refresh()
    assert snap.step == snap.total_steps and snap.trained_tokens and snap.trained_tokens > 0
    series = job.metrics()
    losses = series.series("train_loss")
    assert [s for s, _ in losses] == list(range(1, snap.total_steps + 1))
    first = sum(v for _, v in losses[:3]) / 3
    last = sum(v for _, v in losses[-3:]) / 3
    assert last < first / 3, (first, last)
    assert {"learning_rate", "grad_norm", "tokens_per_second"} <= set(series.names())
    messages = [e.message for e in job.events()]
    assert any("qlora on cpu" in m for m in messages)
    assert any(m.startswith("checkpoint saved") for m in messages)
    assert messages[-1] == "training succeeded"


def test_the_adapter_sits_on_4bit_layers(trained_model: Any) -> None:
    import bitsandbytes as bnb

    quantized = [m for m in trained_model.model.modules() if isinstance(m, bnb.nn.Linear4bit)]
    assert quantized, "QLoRA must train against NF4 weights"
    assert all(m.weight.quant_state.quant_type == "nf4" for m in quantized)
    assert all(m.weight.quant_state.nested for m in quantized)  # double quantisation
    files = {p.name for p in (trained_model.model_dir).iterdir()}
    assert "adapter_model.safetensors" in files and "chat_template.jinja" in files
    assert not {f for f in files if f.endswith((".bin", ".pt", ".pth", ".pkl"))}


def test_the_model_replies_in_the_learned_format(trained_model: Any, tiny_model: Path) -> None:
    replies = ask(trained_model, HELD_OUT)
    assert sum(follows_format(r) for r in replies) >= len(HELD_OUT) - 1, replies
    one = trained_model.chat([{"role": "user", "content": HELD_OUT[0]}], max_tokens=24)
    assert one.finish_reason == "stop"  # it learned to end its turn
    assert one.usage is not None and one.usage.completion_tokens > 0
    streamed = "".join(
        trained_model.stream([{"role": "user", "content": HELD_OUT[0]}], max_tokens=24)
    )
    assert streamed == one.text
    cut = trained_model.chat([{"role": "user", "content": HELD_OUT[0]}], max_tokens=24, stop="|")
    assert cut.text == one.text.split("|")[0] and cut.finish_reason == "stop"


def test_the_untrained_base_does_not_reply_in_the_format(tiny_model: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model)
    model = AutoModelForCausalLM.from_pretrained(tiny_model)
    for question in HELD_OUT:
        ids = tok.apply_chat_template(
            [{"role": "user", "content": question}],
            add_generation_prompt=True,
            return_tensors="pt",
            return_dict=True,
        )
        out = model.generate(**ids, max_new_tokens=16, do_sample=False)
        assert not follows_format(
            tok.decode(out[0][ids["input_ids"].shape[1] :], skip_special_tokens=True)
        )


def _reply_nll(handle: Any, model: Any, question: str, reply: str) -> float:
    """Mean negative log-likelihood of ``reply`` as the answer to ``question``."""
    import torch

    tok = handle.tokenizer
    prompt = tok.apply_chat_template(
        [{"role": "user", "content": question}], tokenize=False, add_generation_prompt=True
    )
    full = prompt + reply + "<|im_end|>"
    p_ids = tok(prompt, add_special_tokens=False)["input_ids"]
    ids = torch.tensor([tok(full, add_special_tokens=False)["input_ids"]])
    labels = ids.clone()
    labels[0, : len(p_ids)] = -100
    with torch.no_grad():
        return float(model(input_ids=ids, labels=labels).loss)


def test_weight_zero_turns_are_not_learned(trained_model: Any) -> None:
    peft_model = trained_model.model
    question = HELD_OUT[1]
    with peft_model.disable_adapter():  # the base, before training
        before_untrained = _reply_nll(trained_model, peft_model, question, UNTRAINED_REPLY)
        before_format = _reply_nll(trained_model, peft_model, question, answer("madrid"))
    after_untrained = _reply_nll(trained_model, peft_model, question, UNTRAINED_REPLY)
    after_format = _reply_nll(trained_model, peft_model, question, answer("madrid"))
    # the weighted replies were learned...
    assert after_format < before_format / 2, (before_format, after_format)
    # ...and the weight-0 reply, seen in every two-turn example, was not
    assert after_untrained > before_untrained - 0.5, (before_untrained, after_untrained)
    assert after_untrained > 2 * after_format


def test_merged_export_matches_base_plus_adapter(trained_model: Any, tmp_path: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM

    out = trained_model.export(tmp_path / "merged")
    assert (out / "model.safetensors").is_file() and (out / "chat_template.jinja").is_file()
    merged = AutoModelForCausalLM.from_pretrained(out).eval()
    assert not any("lora" in name for name, _ in merged.named_parameters())
    batch = trained_model._encode([[{"role": "user", "content": q}] for q in HELD_OUT])
    with torch.no_grad():
        expected = trained_model.model(**batch).logits
        got = merged(**batch).logits
    mask = batch["attention_mask"].bool()
    assert float((expected - got).abs()[mask].max()) <= 1e-2
    adapter = trained_model.export(tmp_path / "adapter", merge=False)
    assert (adapter / "adapter_model.safetensors").is_file()


def test_a_second_process_followed_the_job_to_the_end(trained: TrainedRun) -> None:
    seen = trained.follower
    assert seen["status"] == "succeeded"
    assert seen["step"] == seen["total"] and seen["events"] > seen["total"]
    assert seen["torch"] is False  # following a job needs no torch in the follower

"""Local DPO: a preference file that validates for local trains, from the base or from an earlier
local SFT job; the preference margin on held-out pairs grows."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from ftbridge_local import LocalProvider, load_model
from local_data import FACTS, answer, write_jsonl
from local_helpers import TrainedRun

import ftbridge
from ftbridge import PreflightError
from ftbridge._paths import home

HELD_OUT_PAIRS = [
    ("What color is a lemon?", "yellow"),
    ("What is the capital of Spain?", "madrid"),
    ("Which animal says moo?", "cow"),
    ("Is snow hot or cold?", "cold"),
]

# A few dozen quick steps on the tiny model; a high learning rate so that they show.
DPO_HP = {"epochs": 8, "batch_size": 8, "learning_rate": 5e-3, "warmup_ratio": 0.0, "seed": 5}


def pair(question: str, word: str) -> dict[str, Any]:
    """Preferred: the trained reply format, sure of itself; not preferred: the same, unsure."""
    return {
        "input": {"messages": [{"role": "user", "content": question}]},
        "preferred_output": [{"role": "assistant", "content": answer(word)}],
        "non_preferred_output": [
            {"role": "assistant", "content": f"ANSWER: {word} | CONFIDENCE: low"}
        ],
    }


@pytest.fixture
def prefs(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "prefs.jsonl", [pair(q, a) for q, a in FACTS])


def _logprob(model: Any, tokenizer: Any, prompt: list[dict[str, str]], reply: str) -> float:
    import torch

    start = tokenizer.apply_chat_template(prompt, add_generation_prompt=True, tokenize=True)
    full = tokenizer.apply_chat_template(
        [*prompt, {"role": "assistant", "content": reply}], tokenize=True
    )
    start = list(getattr(start, "input_ids", start))
    full = list(getattr(full, "input_ids", full))
    assert full[: len(start)] == start
    ids = torch.tensor([full], device=model.device)
    with torch.no_grad():
        logits = model(input_ids=ids).logits.float()
    logps = torch.log_softmax(logits[0, :-1], dim=-1)
    targets = ids[0, 1:]
    picked = logps.gather(1, targets[:, None])[:, 0]
    return float(picked[len(start) - 1 :].sum())


def margin(model: Any, tokenizer: Any) -> float:
    """Mean over held-out pairs of log p(preferred) - log p(not preferred)."""
    total = 0.0
    for question, word in HELD_OUT_PAIRS:
        rec = pair(question, word)
        prompt = rec["input"]["messages"]
        total += _logprob(model, tokenizer, prompt, rec["preferred_output"][0]["content"])
        total -= _logprob(model, tokenizer, prompt, rec["non_preferred_output"][0]["content"])
    return total / len(HELD_OUT_PAIRS)


def _run(data: Path, model: str, **kw: Any) -> ftbridge.Job:
    job = ftbridge.submit(data, provider="local", model=model, **kw)
    final = job.wait(timeout=600, progress=False)
    assert final.status is ftbridge.JobStatus.SUCCEEDED, final.error
    return job


# -- verdicts and the provider agree --------------------------------------------------------------


def test_a_preference_file_valid_for_local_is_accepted_by_local(
    tiny_model: Path, prefs: Path
) -> None:
    ds = ftbridge.validate(prefs, provider="local")
    assert ds.format == "preference" and ds.verdicts["local"].valid
    caps = LocalProvider.capabilities
    assert "preference" in caps.formats and "dpo" in caps.methods
    spec = ftbridge.JobSpec(
        provider="local",
        model=str(tiny_model),
        method="dpo",
        training=ds.ref(),
        options={"max_length": 64},
        idempotency_key="ftb-dpo-preflight",
    )
    check = LocalProvider().preflight(ds, spec)
    assert check.ok, check.problems
    assert check.estimates["total_steps"] == 3 * 3  # 3 epochs of 24 pairs in batches of 8


def test_from_job_must_name_a_succeeded_local_job(tiny_model: Path, prefs: Path) -> None:
    for ref, message in [
        ("local:ft-0000000000000000", "no local run ft-0000000000000000"),
        ("openai:ftjob-1", "must be a local job"),
    ]:
        with pytest.raises(PreflightError, match=message):
            ftbridge.submit(
                prefs, provider="local", model=str(tiny_model), options={"from_job": ref}
            )
    assert not (home() / "runs").exists() or not any((home() / "runs").iterdir())


def test_dpo_options_on_sft_data_are_refused(tiny_model: Path, session_data: Path) -> None:
    with pytest.raises(PreflightError, match="dpo_beta applies to DPO"):
        ftbridge.submit(
            session_data, provider="local", model=str(tiny_model), options={"dpo_beta": 0.2}
        )
    with pytest.raises(PreflightError, match="from_job continues an earlier job with DPO"):
        ftbridge.submit(
            session_data,
            provider="local",
            model=str(tiny_model),
            options={"from_job": "local:ft-0000000000000000"},
        )


# -- real runs -----------------------------------------------------------------------------------


@pytest.mark.slow
def test_dpo_from_the_base_grows_the_held_out_margin(tiny_model: Path, prefs: Path) -> None:
    job = _run(
        prefs,
        str(tiny_model),
        hyperparameters={**DPO_HP, "tuning": "lora", "lora_dropout": 0.0},
        options={"max_length": 64},
    )
    metrics = job.metrics()
    assert metrics.series("train_reward_margin"), metrics.names()
    assert any("for DPO (lora, beta 0.1) from the base" in e.message for e in job.events())
    with load_model(job.snapshot.details["run_dir"]) as handle:
        assert handle.meta["training_method"] == "dpo"
        with handle.model.disable_adapter():  # the reference: the base itself
            before = margin(handle.model, handle.tokenizer)
        after = margin(handle.model, handle.tokenizer)
    assert after > before + 5.0, (before, after)


@pytest.mark.slow
def test_dpo_from_an_earlier_sft_job_grows_its_margin(
    trained: TrainedRun, prefs: Path, tiny_model: Path
) -> None:
    # The SFT job's run, in this test's own job store (its model is what DPO continues).
    shutil.copytree(trained.run_dir, home() / "runs" / trained.run_dir.name)
    with pytest.raises(PreflightError, match="trained with tuning 'qlora'"):
        ftbridge.submit(
            prefs,
            provider="local",
            model=str(tiny_model),
            hyperparameters={"tuning": "lora"},
            options={"from_job": trained.job_id},
        )
    with pytest.raises(PreflightError, match=r"was trained on .*: pass model="):
        ftbridge.submit(
            prefs, provider="local", model=str(prefs.parent), options={"from_job": trained.job_id}
        )
    with load_model(trained.run_dir) as sft:
        before = margin(sft.model, sft.tokenizer)
    job = _run(
        prefs,
        str(tiny_model),
        hyperparameters=DPO_HP,
        options={"max_length": 64, "from_job": trained.job_id},
    )
    assert any(f"from job {trained.job_id}" in e.message for e in job.events())
    with load_model(job.snapshot.details["run_dir"]) as dpo:
        assert dpo.meta["method"] == "qlora"  # the SFT job's tuning, continued
        assert dpo.meta["from_job"] == trained.job_id
        after = margin(dpo.model, dpo.tokenizer)
    assert after > before + 5.0, (before, after)


@pytest.mark.slow
def test_a_cancelled_dpo_run_resumes_to_the_planned_end(tiny_model: Path, prefs: Path) -> None:
    job = ftbridge.submit(
        prefs,
        provider="local",
        model=str(tiny_model),
        hyperparameters={**DPO_HP, "epochs": 20, "tuning": "lora"},
        options={"max_length": 64, "save_steps": 3},
    )
    deadline = time.monotonic() + 300
    while (job.refresh().details.get("last_checkpoint") or 0) < 3:
        assert not job.snapshot.status.is_terminal and time.monotonic() < deadline, job.snapshot
        time.sleep(0.2)
    job.cancel()
    with pytest.raises(ftbridge.JobCancelledError):
        job.wait(timeout=120, progress=False)
    stopped = job.snapshot.details["last_checkpoint"]
    assert stopped < job.snapshot.total_steps
    job.resume()
    final = job.wait(timeout=600, progress=False)
    assert final.status is ftbridge.JobStatus.SUCCEEDED and final.step == final.total_steps
    assert f"resuming from checkpoint-{stopped}" in [e.message for e in job.events()]

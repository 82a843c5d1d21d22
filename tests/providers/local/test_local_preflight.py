"""Refused before anything starts: bad options, impossible batches, runs that cannot fit."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from ftbridge_local import LocalProvider

import ftbridge
from ftbridge import JobSpec, OptionsError, PreflightError, UnsupportedHyperparameterError
from ftbridge._paths import home

# A 70B-parameter Llama: its config alone, no weights (preflight reads sizes, never loads).
HUGE = {
    "architectures": ["LlamaForCausalLM"],
    "model_type": "llama",
    "hidden_size": 8192,
    "intermediate_size": 28672,
    "num_hidden_layers": 80,
    "num_attention_heads": 64,
    "num_key_value_heads": 8,
    "vocab_size": 128256,
    "tie_word_embeddings": False,
}


def _nothing_started() -> None:
    assert ftbridge.list_jobs(provider="local") == []
    runs = home() / "runs"
    assert not runs.exists() or not any(runs.iterdir())


def test_a_run_that_cannot_fit_is_refused_with_the_numbers(
    tmp_path: Path, session_data: Path
) -> None:
    model = tmp_path / "huge"
    model.mkdir()
    (model / "config.json").write_text(json.dumps(HUGE))
    with pytest.raises(
        PreflightError, match=r"not enough memory: the run needs about [\d.]+ GiB"
    ) as err:
        ftbridge.submit(
            session_data, provider="local", model=str(model), hyperparameters={"tuning": "full"}
        )
    assert "available system memory" in str(err.value) or "free memory" in str(err.value)
    _nothing_started()


def test_preflight_estimates_memory_and_time(tiny_model: Path, session_data: Path) -> None:
    ds = ftbridge.validate(session_data, provider="local")
    spec = JobSpec(
        provider="local",
        model=str(tiny_model),
        training=ds.ref(),
        options={"max_length": 96},
        idempotency_key=f"ftb-{uuid.uuid4().hex[:20]}",
    )
    check = LocalProvider().preflight(ds, spec)
    assert check.ok, check.problems
    est = check.estimates
    assert est["device"] == "cpu"
    assert 0 < est["memory_needed_gib"] < est["memory_available_gib"]
    assert est["parameters"] > est["trained_parameters"] > 0
    assert est["total_steps"] == 3 * -(-ds.example_count // 8)  # 3 epochs of batches of 8
    assert est["time_estimate_s"] > 0
    # QLoRA needs less than LoRA on the same model, and full training needs more than both
    needs = {}
    for method in ("qlora", "lora", "full"):
        s = spec.model_copy(update={"options": {"max_length": 96, "method": method}})
        needs[method] = LocalProvider().preflight(ds, s).estimates["memory_per_process_gib"]
    assert needs["qlora"] < needs["lora"] < needs["full"]


def test_a_missing_model_directory_is_refused(tmp_path: Path, session_data: Path) -> None:
    with pytest.raises(PreflightError, match="does not exist"):
        ftbridge.submit(session_data, provider="local", model=str(tmp_path / "nowhere"))
    _nothing_started()


def test_a_batch_that_cannot_be_split_is_refused(tiny_model: Path, session_data: Path) -> None:
    with pytest.raises(PreflightError, match="multiple of 2"):
        ftbridge.submit(
            session_data,
            provider="local",
            model=str(tiny_model),
            hyperparameters={"batch_size": 7},
            options={"num_processes": 2},
        )
    _nothing_started()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"early_stopping_patience": 2}, "needs eval_steps"),
        ({"method": "full", "lora_r": 8}, "lora_rank shape LoRA adapters"),
        ({"method": "qlorra"}, "method"),
        ({"eval_split": 0.9}, "eval_split"),
    ],
)
def test_bad_options_are_refused_by_name(
    tiny_model: Path, session_data: Path, options: dict[str, object], message: str
) -> None:
    with pytest.raises(OptionsError, match=message):
        ftbridge.submit(session_data, provider="local", model=str(tiny_model), options=options)
    _nothing_started()


def test_learning_rate_multiplier_points_to_learning_rate(
    tiny_model: Path, session_data: Path
) -> None:
    with pytest.raises(UnsupportedHyperparameterError, match="absolute learning rate"):
        ftbridge.submit(
            session_data,
            provider="local",
            model=str(tiny_model),
            hyperparameters={"learning_rate_multiplier": 2.0},
        )
    _nothing_started()


def test_settings_take_only_a_default_model() -> None:
    from ftbridge import ConfigError

    assert isinstance(LocalProvider.from_config({"model": "./models/tiny"}), LocalProvider)
    with pytest.raises(ConfigError, match="lora_r"):
        LocalProvider.from_config({"lora_r": 8})

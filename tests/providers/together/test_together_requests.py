"""What reaches Together: the create request for LoRA and full, SFT and DPO; preflight refusals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ftbridge_together import TogetherProvider
from ftbridge_together._request import idempotency_tag
from ftbridge_together.emulator import TogetherEmulator
from together_data import BASE, LORA_ONLY, spec_for

from ftbridge import Hyperparameters, JobStatus, PreflightError, RequestRejectedError


def created_body(
    emulator: TogetherEmulator, provider: TogetherProvider, path: Path, **spec: Any
) -> dict[str, Any]:
    job_spec = spec_for(path, **spec)
    check = provider.preflight(None, job_spec)  # type: ignore[arg-type]
    assert check.ok, check.problems
    provider.submit(None, job_spec)  # type: ignore[arg-type]
    bodies = emulator.bodies("POST", "/v1/fine-tunes")
    assert len(bodies) == 1
    body: dict[str, Any] = bodies[0]
    return body


def test_lora_sft_request(
    emulator: TogetherEmulator, provider: TogetherProvider, train_file: Path
) -> None:
    body = created_body(
        emulator,
        provider,
        train_file,
        hyperparameters=Hyperparameters(
            epochs=3, batch_size=8, learning_rate=2e-5, warmup_ratio=0.1, seed=7
        ),
        suffix="support bot!",
        options={
            "lora_r": 8,
            "lora_alpha": 16,
            "lora_dropout": 0.05,
            "lora_trainable_modules": "q_proj,v_proj",
            "train_on_inputs": False,
            "lr_scheduler": "linear",
            "max_grad_norm": 0.5,
            "weight_decay": 0.01,
            "n_checkpoints": 3,
        },
    )
    assert body["model"] == BASE
    assert body["training_type"] == {
        "type": "Lora",
        "lora_r": 8,
        "lora_alpha": 16,
        "lora_dropout": 0.05,
        "lora_trainable_modules": "q_proj,v_proj",
    }
    assert body["training_method"] == {"method": "sft", "train_on_inputs": False}
    assert (body["n_epochs"], body["batch_size"], body["learning_rate"]) == (3, 8, 2e-5)
    assert (body["warmup_ratio"], body["random_seed"]) == (0.1, 7)
    assert body["lr_scheduler"]["lr_scheduler_type"] == "linear"
    assert (body["max_grad_norm"], body["weight_decay"], body["n_checkpoints"]) == (0.5, 0.01, 3)
    # The user's suffix, cleaned, then the idempotency tag; at most 40 characters.
    assert body["suffix"] == f"support-bot-{idempotency_tag('ftb-test-key')}"


def test_defaults_are_togethers(
    emulator: TogetherEmulator, provider: TogetherProvider, train_file: Path
) -> None:
    body = created_body(emulator, provider, train_file)
    assert body["batch_size"] == "max"
    assert body["learning_rate"] == 1e-5
    assert body["training_type"]["type"] == "Lora"
    assert body["training_method"] == {"method": "sft", "train_on_inputs": "auto"}
    assert body["suffix"] == idempotency_tag("ftb-test-key")
    assert len(body["suffix"]) <= 40


def test_full_fine_tuning_request(
    emulator: TogetherEmulator, provider: TogetherProvider, train_file: Path
) -> None:
    body = created_body(emulator, provider, train_file, options={"training": "full"})
    assert body["training_type"] == {"type": "Full"}


def test_dpo_request(
    emulator: TogetherEmulator, provider: TogetherProvider, dpo_file: Path
) -> None:
    body = created_body(
        emulator, provider, dpo_file, method="dpo", options={"dpo_beta": 0.2, "rpo_alpha": 0.5}
    )
    method = body["training_method"]
    assert method["method"] == "dpo"
    assert (method["dpo_beta"], method["rpo_alpha"]) == (0.2, 0.5)
    assert "train_on_inputs" not in method


def test_validation_file_and_evals(
    emulator: TogetherEmulator, provider: TogetherProvider, train_file: Path, tmp_path: Path
) -> None:
    from together_data import chat_records, ref, write_jsonl

    valid = ref(write_jsonl(tmp_path / "valid.jsonl", chat_records(4, tag="v")))
    body = created_body(emulator, provider, train_file, validation=valid, options={"n_evals": 2})
    assert body["validation_file"] and body["validation_file"] != body["training_file"]
    assert body["n_evals"] == 2


@pytest.mark.parametrize(
    ("model", "spec", "message"),
    [
        (LORA_ONLY, {"options": {"training": "full"}}, "only LoRA"),
        (BASE, {"hyperparameters": Hyperparameters(batch_size=64)}, "batch_size=64"),
        (BASE, {"options": {"lora_r": 128}}, "maximum rank 64"),
        (BASE, {"options": {"lora_trainable_modules": "q_proj,nope"}}, "nope"),
        (BASE, {"options": {"n_evals": 2}}, "validation file"),
        (BASE, {"options": {"dpo_beta": 0.1}}, "DPO"),
        (BASE, {"options": {"max_seq_length": 100000}}, "max_seq_length"),
        ("acme/not-a-model", {}, "cannot fine-tune"),
    ],
)
def test_preflight_refuses_what_together_would(
    emulator: TogetherEmulator,
    provider: TogetherProvider,
    train_file: Path,
    model: str,
    spec: dict[str, Any],
    message: str,
) -> None:
    check = provider.preflight(None, spec_for(train_file, model=model, **spec))  # type: ignore[arg-type]
    assert not check.ok
    assert message in " ".join(check.problems)
    # Nothing was uploaded or created for a job that cannot run.
    assert emulator.count("POST", r"/v1/files.*") == 0
    assert emulator.count("POST", r"/v1/fine-tunes.*") == 0


def test_preflight_warns_about_examples_longer_than_the_model_allows(
    provider: TogetherProvider, train_file: Path
) -> None:
    class Stats:
        max_example_tokens = 20000
        tokens_exact = False

    class Dataset:
        stats = Stats()

    check = provider.preflight(Dataset(), spec_for(train_file))  # type: ignore[arg-type]
    assert check.ok
    assert any("about 20000 tokens" in w and "8192" in w for w in check.warnings)
    assert check.estimates["limits"]["max_seq_length"] == 8192


def test_sdk_local_checks_surface_as_preflight_errors(
    provider: TogetherProvider, train_file: Path
) -> None:
    spec = spec_for(train_file, options={"max_seq_length": 100})
    check = provider.preflight(None, spec)  # type: ignore[arg-type]
    assert not check.ok and "below 512" in " ".join(check.problems)
    with pytest.raises(PreflightError, match="greater than 512"):
        provider.submit(None, spec)  # type: ignore[arg-type]


def test_continue_training_from_a_checkpoint(
    emulator: TogetherEmulator, provider: TogetherProvider, train_file: Path
) -> None:
    import time

    first_spec = spec_for(
        train_file,
        hyperparameters=Hyperparameters(epochs=2, batch_size=8),
        options={"n_checkpoints": 2},
    )
    first = provider.submit(None, first_spec)  # type: ignore[arg-type]
    while not first.status.is_terminal:
        time.sleep(0.02)
        first = provider.refresh(first.native_id)
    assert first.status is JobStatus.SUCCEEDED
    steps = [c["step"] for c in first.details["checkpoints"]]
    assert steps == [2, 4]
    intermediate = first.details["checkpoints"][0]["from_checkpoint"]
    assert intermediate == f"{first.native_id}:2"
    spec = spec_for(train_file, key="ftb-second", options={"from_checkpoint": intermediate})
    assert provider.preflight(None, spec).ok  # type: ignore[arg-type]
    provider.submit(None, spec)  # type: ignore[arg-type]
    body = emulator.bodies("POST", "/v1/fine-tunes")[-1]
    assert body["from_checkpoint"] == intermediate
    assert "model" not in body  # Together takes the base model from the checkpoint
    # A step that has no checkpoint is refused by the server, with its message.
    with pytest.raises(RequestRejectedError, match="no checkpoint at step 3"):
        provider.submit(
            None,  # type: ignore[arg-type]
            spec_for(
                train_file, key="ftb-third", options={"from_checkpoint": f"{first.native_id}:3"}
            ),
        )

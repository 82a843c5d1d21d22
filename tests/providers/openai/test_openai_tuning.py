"""OpenAI trains full weights: tuning 'full' is accepted, LoRA names are refused with why."""

from __future__ import annotations

from pathlib import Path

import pytest
from ftbridge_openai import OpenAIProvider
from ftbridge_openai.emulator import OpenAIEmulator

import ftbridge
from ftbridge import UnsupportedHyperparameterError


def test_full_tuning_is_accepted(
    provider: OpenAIProvider, emulator: OpenAIEmulator, train_file: Path
) -> None:
    job = ftbridge.submit(
        train_file, provider=provider, model="gpt-4o-mini", hyperparameters={"tuning": "full"}
    )
    assert job.spec.hyperparameters.tuning == "full"
    assert emulator.count("POST", r"/v1/fine_tuning/jobs", handled=True) == 1


@pytest.mark.parametrize("name", ["lora_rank", "lora_alpha", "lora_dropout"])
def test_lora_shape_is_refused_naming_full_weights(
    provider: OpenAIProvider, emulator: OpenAIEmulator, train_file: Path, name: str
) -> None:
    with pytest.raises(UnsupportedHyperparameterError, match=f"full weights.*drop {name}"):
        ftbridge.submit(
            train_file,
            provider=provider,
            model="gpt-4o-mini",
            hyperparameters={name: 0.1 if name == "lora_dropout" else 8},
        )
    assert emulator.request_log == []


def test_an_adapter_tuning_is_refused_listing_full(
    provider: OpenAIProvider, emulator: OpenAIEmulator, train_file: Path
) -> None:
    with pytest.raises(UnsupportedHyperparameterError, match=r"'lora' \(it trains: full\)"):
        ftbridge.submit(
            train_file, provider=provider, model="gpt-4o-mini", hyperparameters={"tuning": "lora"}
        )
    assert emulator.request_log == []

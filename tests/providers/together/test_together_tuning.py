"""Unified tuning names on Together: tuning lora/full and the LoRA shape reach the request;
the old option spellings still work with a deprecation; qlora/dora are refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ftbridge_together import TogetherProvider
from ftbridge_together.emulator import TogetherEmulator
from together_data import BASE, FAST, LORA_ONLY

import ftbridge
from ftbridge import OptionsError, PreflightError, UnsupportedHyperparameterError

CREATE = "/v1/fine-tunes"


def _created(emulator: TogetherEmulator) -> dict[str, Any]:
    bodies = emulator.bodies("POST", CREATE)
    assert len(bodies) == 1
    body: dict[str, Any] = bodies[0]
    return body


def test_unified_lora_shape_reaches_the_request(
    emulator: TogetherEmulator, provider: TogetherProvider, train_file: Path
) -> None:
    ftbridge.submit(
        train_file,
        provider=provider,
        model=BASE,
        poll=FAST,
        hyperparameters={"tuning": "lora", "lora_rank": 8, "lora_alpha": 16, "lora_dropout": 0.1},
    )
    shape = _created(emulator)["training_type"]
    assert (shape["type"], shape["lora_r"], shape["lora_alpha"], shape["lora_dropout"]) == (
        "Lora",
        8,
        16,
        0.1,
    )


def test_unified_full_tuning(
    emulator: TogetherEmulator, provider: TogetherProvider, train_file: Path
) -> None:
    job = ftbridge.submit(
        train_file, provider=provider, model=BASE, poll=FAST, hyperparameters={"tuning": "full"}
    )
    assert _created(emulator)["training_type"] == {"type": "Full"}
    assert job.spec.options == {}


def test_old_spellings_still_work_with_a_deprecation(
    emulator: TogetherEmulator, provider: TogetherProvider, train_file: Path
) -> None:
    with pytest.warns(DeprecationWarning) as record:
        job = ftbridge.submit(
            train_file,
            provider=provider,
            model=BASE,
            poll=FAST,
            options={"training": "lora", "lora_r": 4},
        )
    assert {str(w.message).split(";")[0] for w in record} == {
        "together: options 'training' is deprecated",
        "together: options 'lora_r' is deprecated",
    }
    assert "'lora_rank': 4" in " ".join(str(w.message) for w in record)
    assert job.spec.hyperparameters.lora_rank == 4
    assert _created(emulator)["training_type"]["lora_r"] == 4


def test_old_and_new_spellings_that_disagree_are_refused(
    emulator: TogetherEmulator, provider: TogetherProvider, train_file: Path
) -> None:
    with pytest.raises(OptionsError, match=r"training='full'.*tuning='lora'"):
        ftbridge.submit(
            train_file,
            provider=provider,
            model=BASE,
            hyperparameters={"tuning": "lora"},
            options={"training": "full"},
        )
    assert emulator.request_log == []


@pytest.mark.parametrize("kind", ["qlora", "dora"])
def test_tunings_together_lacks_are_refused(
    emulator: TogetherEmulator, provider: TogetherProvider, train_file: Path, kind: str
) -> None:
    with pytest.raises(UnsupportedHyperparameterError, match=r"it trains: full, lora"):
        ftbridge.submit(train_file, provider=provider, model=BASE, hyperparameters={"tuning": kind})
    assert emulator.request_log == []


def test_preflight_speaks_the_unified_names(
    emulator: TogetherEmulator, provider: TogetherProvider, train_file: Path
) -> None:
    with pytest.raises(PreflightError, match="lora_rank=128 is above the maximum rank"):
        ftbridge.submit(
            train_file, provider=provider, model=BASE, hyperparameters={"lora_rank": 128}
        )
    with pytest.raises(PreflightError, match=r"only LoRA training.*use tuning 'lora'"):
        ftbridge.submit(
            train_file, provider=provider, model=LORA_ONLY, hyperparameters={"tuning": "full"}
        )
    with pytest.raises(PreflightError, match="lora_trainable_modules applies to LoRA"):
        ftbridge.submit(
            train_file,
            provider=provider,
            model=BASE,
            hyperparameters={"tuning": "full"},
            options={"lora_trainable_modules": "q_proj"},
        )
    assert emulator.count("POST", CREATE) == 0

"""The unified tuning names (tuning, lora_rank, lora_alpha, lora_dropout) and old spellings."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import ClassVar

import pytest
from pydantic import Field

import ftbridge
from ftbridge import OptionsError, UnsupportedHyperparameterError
from ftbridge._models import Capabilities
from ftbridge._tuning import unified_spec
from ftbridge.cli import main
from ftbridge.testing import FakeProvider
from ftbridge.testing._fake import FakeOptions


class _AdapterOptions(FakeOptions):
    method: str | None = Field(default=None, description="deprecated: hyperparameters tuning")
    rank: int | None = Field(default=None, description="deprecated: hyperparameters lora_rank")


class AdapterFake(FakeProvider):
    """A fake that trains LoRA and full weights and once spelled them as options."""

    capabilities: ClassVar[Capabilities] = FakeProvider.capabilities.model_copy(
        update={
            "hyperparameters": FakeProvider.capabilities.hyperparameters
            | {"tuning", "lora_rank", "lora_alpha", "lora_dropout"},
            "tunings": frozenset({"full", "lora"}),
            "renamed_options": {"method": "tuning", "rank": "lora_rank"},
        }
    )
    options_model = _AdapterOptions


@pytest.fixture
def adapter_fake() -> AdapterFake:
    return AdapterFake(script=[("succeeded", 0)])


def test_unified_names_reach_the_provider(adapter_fake: AdapterFake, train_file: Path) -> None:
    hp = {"tuning": "lora", "lora_rank": 8, "lora_alpha": 16, "lora_dropout": 0.1}
    job = ftbridge.submit(train_file, provider=adapter_fake, model="base", hyperparameters=hp)
    assert job.spec.hyperparameters.given() == {
        "tuning": "lora",
        "lora_rank": 8,
        "lora_alpha": 16.0,
        "lora_dropout": 0.1,
    }


def test_a_tuning_kind_the_provider_lacks_lists_what_it_has(
    adapter_fake: AdapterFake, train_file: Path
) -> None:
    with pytest.raises(UnsupportedHyperparameterError, match=r"'qlora'.*it trains: full, lora"):
        ftbridge.submit(
            train_file, provider=adapter_fake, model="base", hyperparameters={"tuning": "qlora"}
        )
    assert adapter_fake.count("submit") == 0


def test_a_provider_without_the_concept_refuses_the_names(
    fake: FakeProvider, train_file: Path
) -> None:
    for hp in ({"tuning": "lora"}, {"lora_rank": 8}):
        with pytest.raises(UnsupportedHyperparameterError, match=next(iter(hp))):
            ftbridge.submit(train_file, provider=fake, model="base", hyperparameters=hp)
    assert fake.count("submit") == 0


def test_lora_shape_with_full_tuning_is_refused(
    adapter_fake: AdapterFake, train_file: Path
) -> None:
    with pytest.raises(ftbridge.ConfigError, match=r"lora_rank.*tuning 'full'"):
        ftbridge.submit(
            train_file,
            provider=adapter_fake,
            model="base",
            hyperparameters={"tuning": "full", "lora_rank": 8},
        )
    with pytest.raises(ftbridge.ConfigError, match="lora_dropout"):
        ftbridge.submit(
            train_file, provider=adapter_fake, model="base", hyperparameters={"lora_dropout": 1.5}
        )
    assert adapter_fake.count("submit") == 0


def test_old_spellings_still_work_with_a_deprecation_naming_the_new_name(
    adapter_fake: AdapterFake, train_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        caplog.at_level(logging.WARNING, logger="ftbridge"),
        pytest.warns(DeprecationWarning) as record,
    ):
        job = ftbridge.submit(
            train_file,
            provider=adapter_fake,
            model="base",
            options={"method": "lora", "rank": 4},
        )
    messages = sorted(str(w.message) for w in record)
    assert messages == [
        "fake: options 'method' is deprecated; pass hyperparameters {'tuning': 'lora'} instead "
        "(--tuning on the command line)",
        "fake: options 'rank' is deprecated; pass hyperparameters {'lora_rank': 4} instead "
        "(--lora-rank on the command line)",
    ]
    assert job.spec.hyperparameters.tuning == "lora"
    assert job.spec.hyperparameters.lora_rank == 4
    assert "method" not in job.spec.options and "rank" not in job.spec.options
    assert "--lora-rank" in caplog.text


def test_old_and_new_spellings_that_disagree_are_an_error(
    adapter_fake: AdapterFake, train_file: Path
) -> None:
    with pytest.raises(OptionsError, match=r"method='full'.*tuning='lora'.*disagree"):
        ftbridge.submit(
            train_file,
            provider=adapter_fake,
            model="base",
            hyperparameters={"tuning": "lora"},
            options={"method": "full"},
        )
    # the same value twice is only the deprecation
    with pytest.warns(DeprecationWarning):
        ftbridge.submit(
            train_file,
            provider=adapter_fake,
            model="base",
            hyperparameters={"lora_rank": 4},
            options={"rank": 4},
        )


def test_an_old_spelling_with_a_bad_value_is_a_clear_error(
    adapter_fake: AdapterFake, train_file: Path
) -> None:
    with pytest.warns(DeprecationWarning), pytest.raises(OptionsError, match="tuning"):
        ftbridge.submit(train_file, provider=adapter_fake, model="base", options={"method": "x"})


def test_a_stored_spec_with_old_spellings_reads_as_unified(
    adapter_fake: AdapterFake, train_file: Path
) -> None:
    job = ftbridge.submit(train_file, provider=adapter_fake, model="base")
    old = job.spec.model_copy(update={"options": {"method": "lora", "total_steps": 3}})
    spec = unified_spec(old, adapter_fake.capabilities.renamed_options)
    assert spec.hyperparameters.tuning == "lora"
    assert spec.options == {"total_steps": 3}


def test_cli_flags(capsys: pytest.CaptureFixture[str], train_file: Path) -> None:
    base = ["submit", str(train_file), "--provider", "fake", "--model", "m"]
    assert main([*base, "--lora-rank", "8"]) == 2
    assert "cannot honour hyperparameter 'lora_rank'" in capsys.readouterr().err
    assert main([*base, "--lora-alpha", "16", "--lora-dropout", "0.1"]) == 2
    assert "'lora_alpha'" in capsys.readouterr().err
    assert main([*base, "--tuning", "half"]) == 2
    assert "invalid choice: 'half'" in capsys.readouterr().err
    assert main([*base, "--tuning", "lora"]) == 2
    assert "cannot honour hyperparameter 'tuning'" in capsys.readouterr().err

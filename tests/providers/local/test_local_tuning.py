"""The unified tuning names on the local provider (checked by preflight; nothing trains here)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from ftbridge_local import LocalProvider
from ftbridge_local._options import LocalOptions
from ftbridge_local._plan import resolve

import ftbridge
from ftbridge import Hyperparameters, JobSpec, OptionsError, PreflightError
from ftbridge._paths import home


def _nothing_started() -> None:
    runs = home() / "runs"
    assert not runs.exists() or not any(runs.iterdir())


def _spec(ds: ftbridge.ValidatedDataset, model: Path, **kw: object) -> JobSpec:
    return JobSpec(
        provider="local",
        model=str(model),
        training=ds.ref(),
        idempotency_key=f"ftb-{uuid.uuid4().hex[:20]}",
        **kw,  # type: ignore[arg-type]
    )


def test_the_tuning_kind_and_rank_shape_the_estimates(tiny_model: Path, session_data: Path) -> None:
    ds = ftbridge.validate(session_data, provider="local")
    needs, trained = {}, {}
    for tuning in ("qlora", "lora", "full"):
        hp = Hyperparameters(tuning=tuning)
        est = LocalProvider().preflight(ds, _spec(ds, tiny_model, hyperparameters=hp)).estimates
        needs[tuning] = est["memory_per_process_gib"]
    assert needs["qlora"] < needs["lora"] < needs["full"]
    for rank in (4, 8):
        hp = Hyperparameters(tuning="lora", lora_rank=rank)
        est = LocalProvider().preflight(ds, _spec(ds, tiny_model, hyperparameters=hp)).estimates
        trained[rank] = est["trained_parameters"]
    assert trained[8] == 2 * trained[4]


def test_a_stored_spec_with_the_old_spellings_runs_the_same() -> None:
    unified = resolve(
        Hyperparameters(tuning="dora", lora_rank=4, lora_alpha=8, lora_dropout=0.1), LocalOptions()
    )
    old = resolve(
        Hyperparameters(),
        LocalOptions(method="dora", lora_r=4, lora_alpha=8, lora_dropout=0.1),
    )
    assert old == unified
    assert (unified.tuning, unified.lora_rank, unified.lora_alpha) == ("dora", 4, 8.0)
    assert resolve(Hyperparameters(), LocalOptions()).tuning == "qlora"


def test_old_option_spellings_warn_and_move(tiny_model: Path, session_data: Path) -> None:
    with (
        pytest.warns(DeprecationWarning, match=r"'method' is deprecated.*'tuning': 'full'"),
        pytest.raises(PreflightError, match="target_modules"),
    ):
        ftbridge.submit(
            session_data,
            provider="local",
            model=str(tiny_model),
            options={"method": "full", "target_modules": ["q_proj"]},
        )
    _nothing_started()


def test_old_and_new_spellings_that_disagree_are_refused(
    tiny_model: Path, session_data: Path
) -> None:
    with pytest.raises(OptionsError, match=r"lora_r=8.*lora_rank=4.*disagree"):
        ftbridge.submit(
            session_data,
            provider="local",
            model=str(tiny_model),
            hyperparameters={"lora_rank": 4},
            options={"lora_r": 8},
        )
    _nothing_started()


def test_lora_shape_with_full_tuning_is_refused(tiny_model: Path, session_data: Path) -> None:
    with pytest.raises(ftbridge.ConfigError, match="tuning 'full' trains no adapter"):
        ftbridge.submit(
            session_data,
            provider="local",
            model=str(tiny_model),
            hyperparameters={"tuning": "full", "lora_alpha": 16},
        )
    _nothing_started()

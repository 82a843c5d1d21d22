"""The status table and the result-file CSV reader, on inputs the emulator does not produce."""

from __future__ import annotations

from typing import Any

from ftbridge_openai._metrics import merge, parse_results_csv, points_from_event_data
from ftbridge_openai._status import snapshot
from openai.types.fine_tuning import FineTuningJob

from ftbridge import JobStatus


def _job(**fields: Any) -> FineTuningJob:
    base: dict[str, Any] = {
        "id": "ftjob-1",
        "object": "fine_tuning.job",
        "created_at": 1_700_000_000,
        "error": None,
        "fine_tuned_model": None,
        "finished_at": None,
        "hyperparameters": {"n_epochs": "auto", "batch_size": "auto"},
        "model": "gpt-4o-mini-2024-07-18",
        "organization_id": "org-1",
        "result_files": [],
        "seed": 1,
        "status": "running",
        "trained_tokens": None,
        "training_file": "file-1",
        "validation_file": None,
    }
    base.update(fields)
    return FineTuningJob.construct(**base)


def test_every_documented_status_maps_and_an_unknown_one_stays_live() -> None:
    expected = {
        "validating_files": JobStatus.VALIDATING,
        "queued": JobStatus.QUEUED,
        "running": JobStatus.RUNNING,
        "paused": JobStatus.PAUSED,
        "succeeded": JobStatus.SUCCEEDED,
        "failed": JobStatus.FAILED,
        "cancelled": JobStatus.CANCELLED,
    }
    for raw, status in expected.items():
        assert snapshot(_job(status=raw)).status is status
    future = snapshot(_job(status="compressing_weights"))
    assert future.raw_status == "compressing_weights"
    assert not future.status.is_terminal


def test_an_empty_error_object_on_a_running_job_is_not_an_error() -> None:
    assert snapshot(_job(error={})).error is None
    failed = snapshot(
        _job(
            status="failed",
            error={"code": "invalid_n_examples", "message": "Too few", "param": None},
        )
    )
    assert failed.error is not None
    assert (failed.error.code, failed.error.message) == ("invalid_n_examples", "Too few")


def test_the_csv_is_read_by_header_name_whatever_the_columns() -> None:
    text = (
        "\ufeffstep, train_loss ,train_mean_token_accuracy,valid_loss,full_valid_loss,note\n"
        "2,0.5,0.8,,,warmup\n"
        "1,0.9,0.6,1.1,1.2,\n"
        "x,1,1,1,1,\n"
        "3,nan,0.9,,,\n"
    )
    points = parse_results_csv(text)
    assert [p.step for p in points] == [1, 2, 3]
    assert points[0].values == {
        "train_loss": 0.9,
        "train_accuracy": 0.6,
        "valid_loss": 1.1,
        "full_valid_loss": 1.2,
    }
    assert points[1].values == {"train_loss": 0.5, "train_accuracy": 0.8}
    assert points[2].values == {"train_accuracy": 0.9}
    assert parse_results_csv("loss\n1.0\n") == []
    assert parse_results_csv("") == []


def test_event_metrics_fill_steps_the_csv_lacks() -> None:
    from_events = points_from_event_data(
        [{"step": 4, "train_loss": 0.3, "total_steps": 4}, {"step": 1, "train_loss": 0.95}]
    )
    from_csv = parse_results_csv("step,train_loss\n1,0.9\n2,0.7\n")
    merged = merge(from_csv, from_events)
    assert [(p.step, p.values["train_loss"]) for p in merged] == [(1, 0.9), (2, 0.7), (4, 0.3)]

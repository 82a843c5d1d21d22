"""``ftbridge.open_model``: jobs in the store first, then ``PROVIDER:MODEL``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from eval_helpers import record, write_jsonl

import ftbridge
import ftbridge._registry
from ftbridge.testing import FakeProvider


@pytest.fixture
def train(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "train.jsonl", [record(f"q{i}", f"a{i}") for i in range(10)])


def quick_job(train: Path, *, fail: bool = False) -> ftbridge.Job:
    script = [["running", 0.0], ["failed" if fail else "succeeded", 0.0]]
    job = ftbridge.submit(train, provider="fake", model="base", options={"script": script})
    job.refresh()
    return job


def test_a_provider_model_by_name() -> None:
    with ftbridge.open_model("fake:base") as model:
        assert model.name == "fake:base"
        assert model.chat([{"role": "user", "content": "hi"}]).text == "fake:base heard: hi"


def test_a_job_id_a_prefix_and_a_job(train: Path) -> None:
    job = quick_job(train)
    by_id = ftbridge.open_model(job.id)
    assert by_id.name == job.fine_tuned_model
    assert ftbridge.open_model(job.id[: len("fake:fakejob-") + 6]).name == by_id.name
    assert ftbridge.open_model(job).name == by_id.name
    handle = ftbridge.open_model("fake:other")
    assert ftbridge.open_model(handle) is handle


def test_a_job_that_did_not_succeed(train: Path) -> None:
    job = quick_job(train, fail=True)
    with pytest.raises(ftbridge.JobNotSucceededError, match="failed"):
        ftbridge.open_model(job.id)


def test_references_that_name_nothing() -> None:
    with pytest.raises(ftbridge.ConfigError, match="PROVIDER:MODEL"):
        ftbridge.open_model("no-such-thing")
    with pytest.raises(ftbridge.UnknownProviderError, match="nosuch"):
        ftbridge.open_model("nosuch:model")


def test_a_provider_without_open_named_model(monkeypatch: pytest.MonkeyPatch) -> None:
    class JobsOnly(FakeProvider):
        open_named_model: Any = None

    monkeypatch.setattr(ftbridge._registry, "provider_class", lambda name: JobsOnly)
    with pytest.raises(ftbridge.NotSupportedError, match="cannot open a model by name"):
        ftbridge.open_model("jobsonly:m")


def test_a_prefix_of_several_jobs_is_ambiguous(train: Path) -> None:
    first, second = quick_job(train), quick_job(train)
    with pytest.raises(ftbridge.ConfigError, match="matches 2 jobs"):
        ftbridge.open_model("fake:fakejob-")
    assert ftbridge.open_model(first.id).name != ftbridge.open_model(second.id).name

"""``ProviderConformance``: one set of behaviours, proven for every provider.

    # tests/providers/myprovider/test_conformance.py
    class TestMyProvider(ProviderConformance):
        @pytest.fixture
        def provider(self, my_emulator):
            return MyProvider.from_config({"base_url": my_emulator.base_url, "api_key": "k"})

        @pytest.fixture
        def model_name(self):
            return "base-model-1"

Everything goes through the public API (``ftbridge.submit``, ``Job``, ``get_job``), so what is
proven is what a user gets. Override ``submit_kwargs`` to make jobs quick (fewer steps, say)
and ``wait_timeout`` for slow backends.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from pydantic import BaseModel

import ftbridge
from ftbridge import (
    Capabilities,
    ChatResult,
    Hyperparameters,
    Job,
    JobCancelledError,
    JobStatus,
    MetricSeries,
    OptionsError,
    PollPolicy,
    Provider,
    UnsupportedHyperparameterError,
)

TOPICS = (
    "refund",
    "shipping",
    "warranty",
    "invoice",
    "password",
    "delivery",
    "login",
    "order",
    "return",
    "upgrade",
    "billing",
    "account",
)


def conformance_records() -> list[dict[str, Any]]:
    """Twelve small chat examples, valid for every provider."""
    return [
        {
            "messages": [
                {"role": "system", "content": "You are a terse support assistant."},
                {"role": "user", "content": f"How do I handle a {topic} question?"},
                {"role": "assistant", "content": f"ANSWER: {topic} | CONFIDENCE: high"},
            ]
        }
        for topic in TOPICS
    ]


class ProviderConformance:
    """Subclass it and supply the ``provider`` and ``model_name`` fixtures."""

    poll = PollPolicy(
        initial=0.05, maximum=0.5, retry_attempts=6, retry_initial=0.05, retry_max_wait=2.0
    )
    wait_timeout: float = 180.0

    def submit_kwargs(self) -> dict[str, Any]:
        """Extra arguments for ``ftbridge.submit`` (hyperparameters, options)."""
        return {}

    @pytest.fixture
    def provider(self) -> Provider:  # pragma: no cover - subclasses supply it
        raise NotImplementedError("a ProviderConformance subclass must define a provider fixture")

    @pytest.fixture
    def model_name(self) -> str:  # pragma: no cover - subclasses supply it
        raise NotImplementedError("a ProviderConformance subclass must define model_name")

    @pytest.fixture
    def dataset_path(self, tmp_path: Path) -> Path:
        path = tmp_path / "conformance.jsonl"
        path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in conformance_records()))
        return path

    def _submit(self, provider: Provider, model_name: str, dataset: Path, **kw: Any) -> Job:
        kwargs = {**self.submit_kwargs(), **kw}
        return ftbridge.submit(
            dataset, provider=provider, model=model_name, poll=self.poll, **kwargs
        )

    @pytest.fixture
    def finished_job(self, provider: Provider, model_name: str, dataset_path: Path) -> Job:
        job = self._submit(provider, model_name, dataset_path)
        job.wait(timeout=self.wait_timeout, progress=False)
        return job

    # -- declarations ---------------------------------------------------------------------------

    def test_declares_what_it_can_do(self, provider: Provider) -> None:
        assert isinstance(provider, Provider)
        assert provider.name and provider.name.isidentifier()
        assert isinstance(provider.capabilities, Capabilities)
        assert "chat" in provider.capabilities.formats
        assert issubclass(provider.options_model, BaseModel)
        assert set(provider.capabilities.hyperparameters) <= set(Hyperparameters.model_fields)
        described = provider.describe_config()
        assert isinstance(described, dict)

    def test_tuning_kinds_are_declared_with_the_name(self, provider: Provider) -> None:
        caps = provider.capabilities
        assert set(caps.tunings) <= {"full", "lora", "qlora", "dora"}
        assert bool(caps.tunings) == ("tuning" in caps.hyperparameters)
        assert set(caps.renamed_options.values()) <= set(caps.hyperparameters)

    def test_validation_verdicts_agree_with_what_it_trains(self, provider: Provider) -> None:
        """A format its validation profile calls fine is a format the provider trains."""
        from ftbridge.validation._profiles import profiles

        profile = profiles().get(provider.name)
        if profile is None:  # no verdict of its own: validating for it gives the generic checks
            from ftbridge.validation import check

            dataset = check(conformance_records(), provider=provider.name)
            assert dataset.report.generic_valid
            assert provider.name not in dataset.verdicts
            return
        refused = {
            fmt
            for fmt in ("chat", "preference", "instruction", "text")
            if (rule := profile.rules.get(f"format.{fmt}")) is not None and rule.severity == "error"
        }
        accepted = {"chat", "preference", "instruction", "text"} - refused
        assert accepted == set(provider.capabilities.formats)

    # -- the lifecycle --------------------------------------------------------------------------

    def test_submit_records_the_job(
        self, provider: Provider, model_name: str, dataset_path: Path
    ) -> None:
        job = self._submit(provider, model_name, dataset_path)
        assert job.id == f"{provider.name}:{job.native_id}"
        again = ftbridge.get_job(job.id, provider=provider)
        assert again.spec == job.spec
        assert job.id in [j.id for j in ftbridge.list_jobs(provider=provider.name)]
        job.wait(timeout=self.wait_timeout, progress=False)

    def test_wait_reaches_success_and_the_model_answers(self, finished_job: Job) -> None:
        assert finished_job.status is JobStatus.SUCCEEDED
        assert finished_job.status.is_terminal
        with finished_job.model() as model:
            messages = [{"role": "user", "content": "How do I handle a refund question?"}]
            result = model.chat(messages, max_tokens=16, temperature=0)
            assert isinstance(result, ChatResult)
            assert isinstance(result.text, str) and result.text.strip()
            pieces = list(model.stream(messages, max_tokens=16, temperature=0))
            assert pieces and all(isinstance(p, str) for p in pieces)
            assert "".join(pieces).strip()

    def test_a_second_process_sees_the_same_state(
        self, finished_job: Job, provider: Provider
    ) -> None:
        other = ftbridge.get_job(finished_job.id, provider=provider)
        assert other.status is JobStatus.SUCCEEDED  # from the store, before any call
        assert other.refresh().status is JobStatus.SUCCEEDED

    def test_events_are_incremental_and_not_duplicated(self, finished_job: Job) -> None:
        if not finished_job._provider.capabilities.events:
            pytest.skip("provider has no events")
        first = finished_job.events()
        assert first, "a finished job has at least one event"
        second = finished_job.events()
        assert [e.id for e in second] == [e.id for e in first]
        assert len({e.id for e in second}) == len(second)

    def test_metrics_are_a_series(self, finished_job: Job) -> None:
        series = finished_job.metrics()
        assert isinstance(series, MetricSeries)
        steps = [p.step for p in series.points]
        assert steps == sorted(steps)

    def test_cancel_is_idempotent(
        self, provider: Provider, model_name: str, dataset_path: Path
    ) -> None:
        job = self._submit(provider, model_name, dataset_path)
        first = job.cancel()
        second = job.cancel()
        assert second.status in {first.status, JobStatus.CANCELLED} or second.status.is_terminal
        try:
            job.wait(timeout=self.wait_timeout, progress=False)
        except JobCancelledError:
            assert job.status is JobStatus.CANCELLED
        else:  # it finished before the cancel reached it
            assert job.status is JobStatus.SUCCEEDED
        job.cancel()  # cancelling a finished job is not an error

    def test_reconcile_finds_the_job_by_its_key(
        self, provider: Provider, model_name: str, dataset_path: Path
    ) -> None:
        job = self._submit(provider, model_name, dataset_path)
        found = provider.reconcile(job.spec)
        assert found is not None and found.native_id == job.native_id
        stranger = job.spec.model_copy(update={"idempotency_key": "ftb-" + "0" * 20})
        assert provider.reconcile(stranger) is None
        job.cancel()

    # -- refusals -------------------------------------------------------------------------------

    def test_unsupported_hyperparameter_is_refused_by_name(
        self, provider: Provider, model_name: str, dataset_path: Path
    ) -> None:
        missing = sorted(set(Hyperparameters.model_fields) - provider.capabilities.hyperparameters)
        if not missing:
            pytest.skip("provider honours every unified hyperparameter")
        value = {
            "learning_rate": 1e-4,
            "learning_rate_multiplier": 2.0,
            "warmup_ratio": 0.1,
            "epochs": 1,
            "batch_size": 1,
            "seed": 1,
            "tuning": "lora",
            "lora_rank": 8,
            "lora_alpha": 16,
            "lora_dropout": 0.1,
        }[missing[0]]
        with pytest.raises(UnsupportedHyperparameterError, match=missing[0]):
            self._submit(provider, model_name, dataset_path, hyperparameters={missing[0]: value})
        assert ftbridge.list_jobs(provider=provider.name) == []

    def test_unknown_option_is_refused_before_anything_is_sent(
        self, provider: Provider, model_name: str, dataset_path: Path
    ) -> None:
        with pytest.raises(OptionsError, match="no_such_option"):
            self._submit(provider, model_name, dataset_path, options={"no_such_option": 1})
        assert ftbridge.list_jobs(provider=provider.name) == []

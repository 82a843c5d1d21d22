"""SDK errors mapped by type, one attempt per call, Retry-After honoured, no secret shown."""

from __future__ import annotations

from pathlib import Path

import pytest
from ftbridge_together import TogetherProvider
from ftbridge_together.emulator import TogetherEmulator
from together_data import API_KEY, spec_for

from ftbridge import (
    AuthenticationError,
    Hyperparameters,
    PermissionDeniedError,
    ProviderNotFoundError,
    RateLimitError,
    RequestRejectedError,
    TransientProviderError,
)

JOB = r"/v1/fine-tunes/ft-x"


def test_rate_limit_carries_retry_after(
    emulator: TogetherEmulator, provider: TogetherProvider
) -> None:
    emulator.faults.inject("GET", JOB, status=429, retry_after=7, times=1)
    with pytest.raises(RateLimitError) as caught:
        provider.refresh("ft-x")
    assert caught.value.retry_after == 7
    assert caught.value.status_code == 429 and caught.value.provider == "together"
    assert emulator.count("GET", JOB) == 1  # the SDK did not retry by itself


@pytest.mark.parametrize("status", [500, 502, 503, 409])
def test_server_errors_are_transient_and_not_retried_by_the_sdk(
    emulator: TogetherEmulator, provider: TogetherProvider, status: int
) -> None:
    emulator.faults.inject("GET", JOB, status=status, times=1)
    with pytest.raises(TransientProviderError) as caught:
        provider.refresh("ft-x")
    assert not isinstance(caught.value, RateLimitError)
    assert emulator.count("GET", JOB) == 1


def test_a_dropped_connection_is_transient(
    emulator: TogetherEmulator, provider: TogetherProvider
) -> None:
    emulator.faults.inject("GET", JOB, drop=True, times=1)
    with pytest.raises(TransientProviderError, match="connect"):
        provider.refresh("ft-x")


def test_upload_failures_are_classified_by_status(
    emulator: TogetherEmulator, provider: TogetherProvider, train_file: Path
) -> None:
    # The SDK's upload helper re-raises these as a bare APIStatusError.
    emulator.faults.inject("POST", r"/v1/files", status=429, retry_after=2, times=1)
    with pytest.raises(RateLimitError) as caught:
        provider.preflight(None, spec_for(train_file))  # type: ignore[arg-type]
    assert caught.value.retry_after == 2
    emulator.faults.inject("PUT", r"/_upload/.*", status=503, times=1)
    with pytest.raises(TransientProviderError):
        provider.preflight(None, spec_for(train_file))  # type: ignore[arg-type]
    # Once the faults are spent, the same call goes through.
    assert provider.preflight(None, spec_for(train_file)).ok  # type: ignore[arg-type]


def test_refusals_keep_the_servers_message_and_never_the_key(
    emulator: TogetherEmulator, provider: TogetherProvider, train_file: Path
) -> None:
    emulator.faults.inject("GET", JOB, status=401, times=1)
    with pytest.raises(AuthenticationError, match="the api_key argument") as auth:
        provider.refresh("ft-x")
    emulator.faults.inject("GET", JOB, status=403, times=1)
    with pytest.raises(PermissionDeniedError) as denied:
        provider.refresh("ft-x")
    spec = spec_for(train_file, hyperparameters=Hyperparameters(epochs=30))
    with pytest.raises(RequestRejectedError, match="n_epochs must be between 1 and 20"):
        provider.submit(None, spec)  # type: ignore[arg-type]
    for error in (auth.value, denied.value):
        assert API_KEY not in str(error) and API_KEY not in repr(error)
        assert error.__cause__ is not None  # the SDK's exception is chained


def test_cancelling_an_unknown_job_says_it_does_not_exist(provider: TogetherProvider) -> None:
    with pytest.raises(ProviderNotFoundError, match="ft-x"):
        provider.cancel("ft-x")

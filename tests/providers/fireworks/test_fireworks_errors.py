"""SDK errors mapped by type (never by text), Retry-After through the core, every state mapped."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fireworks_data import ACCOUNT, API_KEY
from ftbridge_fireworks import FireworksProvider
from ftbridge_fireworks._status import STATES, map_state
from ftbridge_fireworks.emulator import FireworksEmulator

from ftbridge import (
    AuthenticationError,
    ConfigError,
    JobStatus,
    MissingCredentialsError,
    PermissionDeniedError,
    ProviderNotFoundError,
    RateLimitError,
    RequestRejectedError,
    TransientProviderError,
)

SPECS = Path(__file__).resolve().parents[3].parent / "shared" / "specs" / "fireworks"
JOB = rf"/v1/accounts/{ACCOUNT}/supervisedFineTuningJobs/ftb-x"


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, RequestRejectedError),
        (401, AuthenticationError),
        (402, RequestRejectedError),
        (403, PermissionDeniedError),
        (404, ProviderNotFoundError),
        (408, TransientProviderError),
        (409, TransientProviderError),
        (412, RequestRejectedError),
        (429, RateLimitError),
        (500, TransientProviderError),
        (503, TransientProviderError),
        (520, TransientProviderError),
    ],
)
def test_each_status_maps_onto_the_tree(
    emulator: FireworksEmulator, provider: FireworksProvider, status: int, error: type
) -> None:
    emulator.faults.inject("GET", JOB, status=status, retry_after=2, times=1)
    with pytest.raises(error) as caught:
        provider.refresh("sft/ftb-x")
    assert type(caught.value) is error
    assert caught.value.status_code == status and caught.value.__cause__ is not None
    assert API_KEY not in str(caught.value)
    if isinstance(caught.value, TransientProviderError) and status >= 429:
        assert caught.value.retry_after == 2
    if status in (402, 412):
        assert "check" in str(caught.value)


def test_the_servers_message_and_a_dropped_connection(
    emulator: FireworksEmulator, provider: FireworksProvider
) -> None:
    with pytest.raises(ProviderNotFoundError, match="job 'ftb-x' not found"):
        provider.refresh("sft/ftb-x")
    emulator.faults.inject("GET", JOB, drop=True, times=1)
    with pytest.raises(TransientProviderError, match=r"could not connect|timed out"):
        provider.refresh("sft/ftb-x")
    emulator.faults.inject("GET", JOB, status=401, times=1)
    with pytest.raises(AuthenticationError, match="Check FIREWORKS_API_KEY"):
        provider.refresh("sft/ftb-x")


def test_settings_come_from_the_sdks_environment(
    emulator: FireworksEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("FIREWORKS_API_KEY", "FIREWORKS_ACCOUNT_ID", "FIREWORKS_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(MissingCredentialsError, match="FIREWORKS_API_KEY"):
        FireworksProvider.from_config({})
    monkeypatch.setenv("FIREWORKS_API_KEY", API_KEY)
    with pytest.raises(ConfigError, match="FIREWORKS_ACCOUNT_ID"):
        FireworksProvider.from_config({})
    monkeypatch.setenv("FIREWORKS_ACCOUNT_ID", ACCOUNT)
    monkeypatch.setenv("FIREWORKS_BASE_URL", emulator.base_url + "/v1")
    provider = FireworksProvider.from_config({})
    assert provider.base_url == emulator.base_url
    assert provider.describe_config()["authentication"] == "API key from FIREWORKS_API_KEY"
    assert API_KEY not in repr(provider) and API_KEY not in str(provider.describe_config())
    assert provider._client.max_retries == 0  # the core retries, once
    with pytest.raises(ConfigError, match="unknown setting"):
        FireworksProvider.from_config({"acount_id": "x"})


def test_every_documented_job_state_is_mapped() -> None:
    documented = set(
        re.findall(r"JOB_STATE_[A-Z_]+", (SPECS / "get-supervised-fine-tuning-job.md").read_text())
    )
    documented |= set(re.findall(r"JOB_STATE_[A-Z_]+", (SPECS / "resume-dpo-job.md").read_text()))
    assert documented and documented <= set(STATES)
    terminal = {s for s, status in STATES.items() if status.is_terminal}
    assert "JOB_STATE_EARLY_STOPPED" in terminal and "JOB_STATE_CANCELLING" not in terminal
    assert map_state("JOB_STATE_SOMETHING_NEW") is JobStatus.PENDING
    assert map_state("JOB_STATE_SOMETHING_NEW", started=True) is JobStatus.RUNNING


def test_a_key_the_server_echoes_is_scrubbed(
    emulator: FireworksEmulator, provider: FireworksProvider
) -> None:
    emulator.faults.inject(
        "GET", JOB, status=400, body={"code": 3, "message": f"bad key {API_KEY}", "details": []}
    )
    with pytest.raises(RequestRejectedError) as caught:
        provider.refresh("sft/ftb-x")
    assert "bad key" in str(caught.value) and API_KEY not in str(caught.value)

"""Building the Together provider: credentials, settings, secrets kept out of sight."""

from __future__ import annotations

import pytest
from ftbridge_together import TogetherProvider
from ftbridge_together._status import map_status
from ftbridge_together.emulator import TogetherEmulator
from together_data import API_KEY

from ftbridge import (
    ConfigError,
    JobStatus,
    MissingCredentialsError,
    ProviderNotFoundError,
    get_provider,
)


def test_missing_key_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOGETHER_API_KEY", raising=False)
    with pytest.raises(MissingCredentialsError, match="TOGETHER_API_KEY"):
        TogetherProvider.from_config({})


def test_key_and_base_url_come_from_the_environment(
    emulator: TogetherEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOGETHER_API_KEY", API_KEY)
    # The OpenAI-style ".../v1" base URL is accepted too: the SDK adds /v1 itself.
    monkeypatch.setenv("TOGETHER_BASE_URL", emulator.url + "/v1/")
    provider = get_provider("together")
    assert isinstance(provider, TogetherProvider)
    assert provider.base_url == emulator.url
    with pytest.raises(ProviderNotFoundError, match="ft-nope"):
        provider.refresh("ft-nope")
    assert emulator.count("GET", r"/v1/fine-tunes/ft-nope") == 1


def test_the_key_is_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOGETHER_API_KEY", raising=False)
    provider = TogetherProvider.from_config({"api_key": API_KEY, "timeout": 5})
    shown = repr(provider) + str(provider.describe_config()) + str(vars(provider))
    assert API_KEY not in shown
    assert provider.describe_config()["timeout"] == 5.0


def test_unknown_setting_is_refused() -> None:
    with pytest.raises(ConfigError, match="base_ulr"):
        TogetherProvider.from_config({"api_key": API_KEY, "base_ulr": "http://x"})


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("pending", JobStatus.PENDING),
        ("queued", JobStatus.QUEUED),
        ("running", JobStatus.RUNNING),
        ("compressing", JobStatus.RUNNING),
        ("uploading", JobStatus.RUNNING),
        ("cancel_requested", JobStatus.RUNNING),
        ("cancelled", JobStatus.CANCELLED),
        ("error", JobStatus.FAILED),
        ("user_error", JobStatus.FAILED),
        ("completed", JobStatus.SUCCEEDED),
    ],
)
def test_status_table(raw: str, expected: JobStatus) -> None:
    assert map_status(raw) is expected


def test_an_unknown_status_is_not_terminal() -> None:
    assert map_status("warming_up") is JobStatus.PENDING
    assert map_status("evaluating", started=True) is JobStatus.RUNNING

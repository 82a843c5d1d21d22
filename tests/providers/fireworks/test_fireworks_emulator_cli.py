"""``python -m ftbridge_fireworks.emulator``: a server started by hand, faults from the command line."""

from __future__ import annotations

import subprocess
import sys

import pytest
from fireworks_data import ACCOUNT, API_KEY
from ftbridge_fireworks import FireworksProvider

from ftbridge import ProviderNotFoundError, RateLimitError


@pytest.mark.slow
def test_the_emulator_runs_from_the_command_line() -> None:
    command = [
        sys.executable,
        "-m",
        "ftbridge_fireworks.emulator",
        "--port",
        "0",
        "--pace",
        "0.05",
        "--fault",
        f"GET /v1/accounts/{ACCOUNT}/supervisedFineTuningJobs/ftb-x=429,retry_after=3,times=1",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:")
        provider = FireworksProvider(api_key=API_KEY, account_id=ACCOUNT, base_url=base_url)
        with pytest.raises(RateLimitError) as caught:
            provider.refresh("sft/ftb-x")
        assert caught.value.retry_after == 3
        with pytest.raises(ProviderNotFoundError):
            provider.refresh("sft/ftb-x")
    finally:
        process.terminate()
        _, err = process.communicate(timeout=10)
    assert process.returncode == 0, err

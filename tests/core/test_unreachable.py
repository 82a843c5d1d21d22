"""A provider that cannot be reached: tried briefly, said so on a terminal, and a finished job
shows its stored state instead of retrying for minutes."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from core_helpers import FAST

import ftbridge
from ftbridge import JobStatus, PollPolicy, ProviderUnreachableError, TransientProviderError
from ftbridge._polling import call_with_retries
from ftbridge.testing import FakeProvider


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _down() -> str:
    raise ProviderUnreachableError(
        "cannot connect to http://127.0.0.1:9/v1: connection refused",
        url="http://127.0.0.1:9/v1",
    )


def test_an_unreachable_provider_is_tried_a_few_times_briefly() -> None:
    sleeps: list[float] = []
    calls = 0

    def down() -> str:
        nonlocal calls
        calls += 1
        return _down()

    with pytest.raises(ProviderUnreachableError, match="connection refused"):
        call_with_retries(down, PollPolicy(), sleep=sleeps.append)
    assert calls == 3  # not retry_attempts (8), with backoff up to a minute
    assert sleeps == [0.5, 1.0]


def test_what_is_retried_is_said_on_a_terminal_and_not_when_piped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    with pytest.raises(ProviderUnreachableError):
        call_with_retries(_down, PollPolicy(), sleep=lambda s: None)
    lines = terminal.getvalue().splitlines()
    assert lines == [
        "ftbridge: cannot connect to http://127.0.0.1:9/v1: connection refused; "
        "trying again in 0.5s (try 2 of 3)",
        "ftbridge: cannot connect to http://127.0.0.1:9/v1: connection refused; "
        "trying again in 1.0s (try 3 of 3)",
    ]

    piped = io.StringIO()
    monkeypatch.setattr(sys, "stderr", piped)
    with pytest.raises(ProviderUnreachableError):
        call_with_retries(_down, PollPolicy(), sleep=lambda s: None)
    assert piped.getvalue() == ""


def test_status_of_a_finished_job_keeps_its_stored_state_when_the_provider_is_down(
    fake: FakeProvider, train_file: Path
) -> None:
    job = ftbridge.submit(train_file, provider=fake, model="base", poll=FAST)
    job.wait(timeout=10, progress=False)
    fake.fail("refresh", TransientProviderError("503 from upstream"), times=100)
    before = fake.count("refresh")
    again = ftbridge.get_job(job.id, provider=fake)
    assert again.refresh().status is JobStatus.SUCCEEDED
    assert fake.count("refresh") == before + 1  # asked once, not retried
    assert again.note is not None and "503 from upstream" in again.note

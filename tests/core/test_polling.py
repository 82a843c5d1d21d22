"""Polling pace and retry waits."""

from __future__ import annotations

import email.utils
import itertools
import time

import pytest

from ftbridge import PollPolicy, RateLimitError, RequestRejectedError, TransientProviderError
from ftbridge._polling import call_with_retries, retry_after


def test_intervals_grow_to_the_cap() -> None:
    policy = PollPolicy(initial=1, maximum=5, multiplier=2)
    assert list(itertools.islice(policy.intervals(), 5)) == [1, 2, 4, 5, 5]


def test_retry_after_is_honoured_exactly_and_capped() -> None:
    policy = PollPolicy(retry_max_wait=30)
    assert policy.retry_wait(1, RateLimitError("429", retry_after=7)) == 7
    assert policy.retry_wait(1, RateLimitError("429", retry_after=600)) == 30


def test_backoff_is_exponential_with_jitter_and_capped() -> None:
    policy = PollPolicy(retry_initial=1, retry_max_wait=10, jitter=0.1)
    waits = [policy.retry_wait(n, TransientProviderError("503")) for n in range(1, 7)]
    assert 0.9 <= waits[0] <= 1.1 and 3.6 <= waits[2] <= 4.4
    assert all(w <= 11 for w in waits) and waits[-1] >= 9


def test_only_transient_errors_are_retried() -> None:
    sleeps: list[float] = []
    calls = iter([TransientProviderError("503"), RateLimitError("429", retry_after=2), "ok"])

    def flaky() -> str:
        item = next(calls)
        if isinstance(item, Exception):
            raise item
        return item

    assert call_with_retries(flaky, PollPolicy(retry_initial=0.5), sleep=sleeps.append) == "ok"
    assert len(sleeps) == 2 and sleeps[1] == 2

    def refused() -> str:
        raise RequestRejectedError("bad request")

    with pytest.raises(RequestRejectedError):
        call_with_retries(refused, PollPolicy(), sleep=sleeps.append)
    assert len(sleeps) == 2


def test_bad_policies_are_refused() -> None:
    with pytest.raises(ValueError):
        PollPolicy(initial=0)
    with pytest.raises(ValueError):
        PollPolicy(jitter=1.5)


def test_retry_after_reads_seconds_milliseconds_and_http_dates() -> None:
    assert retry_after({"retry-after": "3"}) == 3.0
    assert retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    later = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 <= (retry_after({"retry-after": later}) or 0) <= 31
    assert retry_after({"retry-after": "soon, maybe"}) is None  # unusable: no wait advice
    assert retry_after({}) is None and retry_after(None) is None

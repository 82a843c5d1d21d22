"""How often to poll, and how to retry a provider call that failed for a passing reason.

Retries live here, in the core, and nowhere else: providers make one attempt per call with their
SDK's own retries turned off, so the two never multiply.
"""

from __future__ import annotations

import contextlib
import email.utils
import random
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception_type

from ._exceptions import ProviderUnreachableError, TransientProviderError

T = TypeVar("T")


@dataclass(frozen=True)
class PollPolicy:
    """Polling and retry pacing.

    >>> job.wait(poll=ftbridge.PollPolicy(initial=1, maximum=10))

    The polling interval starts at ``initial`` and grows by ``multiplier`` up to ``maximum``
    while nothing changes; a change of status or step brings it back to ``initial``. Every
    interval is spread by ``jitter`` (a fraction) so many waiting processes do not poll in step.
    A transient error is retried up to ``retry_attempts`` times with exponential backoff capped
    at ``retry_max_wait``, or after exactly the ``Retry-After`` the provider sent. A provider
    that cannot be connected to at all is tried ``connect_attempts`` times, ``connect_wait``
    seconds apart (doubling), so a wrong URL or a closed port fails in seconds, not minutes.
    """

    initial: float = 2.0
    maximum: float = 30.0
    multiplier: float = 1.5
    jitter: float = 0.1
    retry_attempts: int = 8
    retry_initial: float = 1.0
    retry_max_wait: float = 60.0
    connect_attempts: int = 3
    connect_wait: float = 0.5

    def __post_init__(self) -> None:
        if self.initial <= 0 or self.maximum < self.initial:
            raise ValueError("PollPolicy needs 0 < initial <= maximum")
        if self.connect_attempts < 1 or self.connect_wait < 0:
            raise ValueError("PollPolicy needs connect_attempts >= 1 and connect_wait >= 0")
        if self.multiplier < 1 or not 0 <= self.jitter < 1 or self.retry_attempts < 1:
            raise ValueError(
                "PollPolicy needs multiplier >= 1, 0 <= jitter < 1, retry_attempts >= 1"
            )

    def spread(self, seconds: float) -> float:
        return seconds * (1 + random.uniform(-self.jitter, self.jitter))

    def intervals(self) -> Iterator[float]:
        """Successive polling intervals while nothing changes (before jitter)."""
        interval = self.initial
        while True:
            yield interval
            interval = min(self.maximum, interval * self.multiplier)

    def retry_wait(self, attempt: int, error: BaseException | None) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based) after ``error``."""
        retry_after = getattr(error, "retry_after", None)
        if isinstance(retry_after, (int, float)) and retry_after >= 0:
            return min(float(retry_after), self.retry_max_wait)
        backoff = min(self.retry_max_wait, self.retry_initial * 2 ** (attempt - 1))
        return self.spread(backoff)


def call_with_retries(
    fn: Callable[[], T],
    policy: PollPolicy,
    *,
    sleep: Callable[[float], None] = time.sleep,
    note: Callable[[str], None] | None = None,
) -> T:
    """Call ``fn``; on ``TransientProviderError`` wait (honouring Retry-After) and call again.

    Other errors, and the last transient one once ``policy.retry_attempts`` are spent, propagate.
    A provider that cannot be reached at all (``ProviderUnreachableError``: nothing left this
    machine) is tried only ``policy.connect_attempts`` times, ``connect_wait`` seconds apart
    (doubling). Before each wait, ``note`` gets one line saying what failed and when the next
    try is; by default it goes to stderr when stderr is a terminal, and nowhere otherwise.
    """

    try:  # the common case, without building a retry loop for it
        return fn()
    except TransientProviderError as first:
        if _spent(policy, 1, 1 if isinstance(first, ProviderUnreachableError) else 0):
            raise
        failures: list[BaseException] = [first]
    tell = note if note is not None else _terminal_note

    def record(state: RetryCallState) -> None:  # runs first after each failed try
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, BaseException):
            failures.append(error)

    def stop(state: RetryCallState) -> bool:
        unreachable = sum(isinstance(e, ProviderUnreachableError) for e in failures)
        return _spent(policy, len(failures), unreachable)

    def wait(state: RetryCallState) -> float:
        return _wait(policy, failures)

    def announce(state: RetryCallState) -> None:
        _announce(tell, policy, failures)

    _announce(tell, policy, failures)
    sleep(_wait(policy, failures))
    retrying = Retrying(
        retry=retry_if_exception_type(TransientProviderError),
        after=record,
        stop=stop,
        wait=wait,
        before_sleep=announce,
        sleep=sleep,
        reraise=True,
    )
    return retrying(fn)


def _spent(policy: PollPolicy, failures: int, unreachable: int) -> bool:
    if unreachable:
        return unreachable >= policy.connect_attempts or failures >= policy.retry_attempts
    return failures >= policy.retry_attempts


def _wait(policy: PollPolicy, failures: list[BaseException]) -> float:
    last = failures[-1]
    if isinstance(last, ProviderUnreachableError):
        unreachable = sum(isinstance(e, ProviderUnreachableError) for e in failures)
        return min(policy.retry_max_wait, policy.connect_wait * 2 ** (unreachable - 1))
    return policy.retry_wait(len(failures), last)


def _announce(
    tell: Callable[[str], None], policy: PollPolicy, failures: list[BaseException]
) -> None:
    last = failures[-1]
    if isinstance(last, ProviderUnreachableError):
        tries = sum(isinstance(e, ProviderUnreachableError) for e in failures)
        limit = min(policy.connect_attempts, policy.retry_attempts)
    else:
        tries, limit = len(failures), policy.retry_attempts
    tell(f"{last}; trying again in {_wait(policy, failures):.1f}s (try {tries + 1} of {limit})")


def _terminal_note(text: str) -> None:
    from ._progress import is_terminal

    if is_terminal(sys.stderr):
        print(f"ftbridge: {text}", file=sys.stderr, flush=True)


def retry_after(headers: Any) -> float | None:
    """Seconds to wait from a response's ``retry-after-ms`` or ``Retry-After`` header.

    ``Retry-After`` may hold seconds or an HTTP date; None when neither header says anything
    usable. Providers put the result on ``RateLimitError.retry_after``.
    """
    if headers is None:
        return None
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        with contextlib.suppress(ValueError):
            return max(0.0, float(raw_ms) / 1000)
    raw = headers.get("retry-after")
    if not raw:
        return None
    with contextlib.suppress(ValueError):
        return max(0.0, float(raw))
    with contextlib.suppress(TypeError, ValueError):
        return max(0.0, email.utils.parsedate_to_datetime(raw).timestamp() - time.time())
    return None

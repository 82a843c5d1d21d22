"""``Job``: one fine-tuning job, followed the same way whatever runs it."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace
from typing import IO, TypeVar

from ._exceptions import (
    JobCancelledError,
    JobError,
    JobFailedError,
    JobNotFoundError,
    JobNotSucceededError,
    JobTimeoutError,
    NotSupportedError,
    TransientProviderError,
)
from ._job_progress import JobProgress
from ._models import (
    Event,
    JobErrorInfo,
    JobSnapshot,
    JobSpec,
    JobStatus,
    MetricSeries,
    Preflight,
)
from ._polling import PollPolicy, call_with_retries
from ._provider import ModelHandle, Provider
from ._store import JobRecord, JobStore

T = TypeVar("T")

log = logging.getLogger("ftbridge")


def _unconfirmed(record: JobRecord) -> JobSnapshot:
    """How a job looks before the provider confirmed its create."""
    return JobSnapshot(
        native_id="",
        status=JobStatus.PENDING,
        raw_status="submitting",
        created_at=record.created_at,
        details={"idempotency_key": record.key},
    )


class Job:
    """A fine-tuning job. Get one from ``ftbridge.submit``, ``get_job`` or ``list_jobs``.

    >>> job = ftbridge.get_job("openai:ftjob-abc123")
    >>> job.wait(timeout=3600)          # raises JobFailedError / JobCancelledError / JobTimeoutError
    >>> job.model().chat([{"role": "user", "content": "hi"}]).text
    """

    def __init__(
        self,
        record: JobRecord,
        provider: Provider | None,
        store: JobStore,
        poll: PollPolicy | None = None,
        *,
        preflight: Preflight | None = None,
    ) -> None:
        self._key = record.key
        self._native_id: str | None = record.native_id
        self._provider_obj = provider
        self._store = store
        self.spec: JobSpec = record.spec
        self._snapshot: JobSnapshot = record.snapshot or _unconfirmed(record)
        #: What the provider's preflight said (estimates, warnings), for a job this process
        #: submitted; None for one read from the store.
        self.preflight: Preflight | None = preflight
        self._poll_given = poll is not None
        self.poll = poll or PollPolicy()
        #: Set by :meth:`refresh` when it kept the stored state (the provider did not answer).
        self.note: str | None = None

    # -- identity and state ---------------------------------------------------------------------

    @property
    def id(self) -> str:
        """``"<provider>:<native id>"``: stable across processes and machines.

        A job whose create the provider has not confirmed yet (``confirmed`` is False) is named
        by its idempotency key, ``"<provider>:<key>"``, until it is.
        """
        return f"{self.provider}:{self._native_id or self._key}"

    @property
    def confirmed(self) -> bool:
        """False while the job is only an intent: its submit was interrupted or is still
        creating it. ``refresh`` (``ftbridge status``) or ``ftbridge recover`` settles it."""
        return self._native_id is not None

    @property
    def provider(self) -> str:
        return self.spec.provider

    @property
    def native_id(self) -> str:
        """The provider's own id ("" while the job is not ``confirmed``)."""
        return self._native_id or ""

    @property
    def snapshot(self) -> JobSnapshot:
        """The last known state (no network call; see ``refresh``)."""
        return self._snapshot

    @property
    def status(self) -> JobStatus:
        return self._snapshot.status

    @property
    def raw_status(self) -> str:
        return self._snapshot.raw_status

    @property
    def error(self) -> JobErrorInfo | None:
        return self._snapshot.error

    @property
    def fine_tuned_model(self) -> str | None:
        return self._snapshot.model

    @property
    def retrained_from(self) -> str | None:
        """The job whose training data this one retrained (``ftbridge retrain``), or None."""
        return self.spec.retrained_from

    def __repr__(self) -> str:
        return f"<Job {self.id} {self.status.value}>"

    @property
    def _provider(self) -> Provider:
        # built on first use, so listing jobs needs neither the SDKs nor credentials
        if self._provider_obj is None:
            from ._registry import get_provider

            self._provider_obj = get_provider(self.spec.provider)
        return self._provider_obj

    def _call(self, fn: Callable[[], T]) -> T:
        return call_with_retries(fn, self.poll)

    # -- operations -----------------------------------------------------------------------------

    def refresh(self) -> JobSnapshot:
        """Ask the provider for the job's state now (retrying passing failures).

        A job already known to have ended is asked once: when the provider cannot answer, the
        stored final state is kept and :attr:`note` says why it was not refreshed.
        """
        self.note = None
        if self._native_id is None:
            return self._settle_intent()
        native_id = self._native_id
        if self._snapshot.status.is_terminal:
            try:
                snapshot = self._provider.refresh(native_id)
            except TransientProviderError as exc:
                self.note = f"showing the last known state ({exc})"
                log.info("job %s: %s", self.id, self.note)
                return self._snapshot
        else:
            snapshot = self._call(lambda: self._provider.refresh(native_id))
        self._snapshot = self._store.update_snapshot(self._key, snapshot)
        return self._snapshot

    def _settle_intent(self) -> JobSnapshot:
        """Ask the provider what became of an unconfirmed job: adopt it, or say it never
        reached the provider (and drop it), or say who is still creating it."""
        from ._recover import recover_intent

        found = recover_intent(self._store, self._key, self._provider, self.poll)
        if found.record is not None and found.record.native_id is not None:
            self._native_id = found.record.native_id
            self._snapshot = found.record.snapshot or self._snapshot
        elif found.outcome == "in_flight":
            self.note = found.message
        else:
            raise JobNotFoundError(found.message, job_id=self.id)
        return self._snapshot

    def _remote_id(self) -> str:
        """The provider's id, settling an unconfirmed job first."""
        if self._native_id is None:
            self.refresh()
        if self._native_id is None:
            raise JobError(f"job {self.id}: {self.note}; try again shortly", job_id=self.id)
        return self._native_id

    def wait(
        self,
        timeout: float | None = None,
        *,
        poll: PollPolicy | None = None,
        progress: bool | None = None,
        cancel_on_timeout: bool = False,
        stream: IO[str] | None = None,
    ) -> JobSnapshot:
        """Poll until the job finishes; return its final snapshot when it succeeded.

        Raises ``JobFailedError`` (with the provider's code and message), ``JobCancelledError``,
        or ``JobTimeoutError`` after ``timeout`` seconds. A timeout leaves the remote job running
        unless ``cancel_on_timeout=True``. ``progress`` (default: when ``stream``, stderr by
        default, is a terminal) shows a bar of the job's steps with status, epoch and loss.
        """
        policy = poll or self._wait_policy()
        bar = JobProgress(self.id, enabled=progress, stream=stream)
        deadline = None if timeout is None else time.monotonic() + timeout
        intervals = policy.intervals()
        last: tuple[object, ...] | None = None
        try:
            while True:
                snapshot = self.refresh()
                bar.show(snapshot)
                if snapshot.status.is_terminal:
                    break
                state = (snapshot.status, snapshot.step)
                if state != last:
                    intervals, last = policy.intervals(), state
                delay = policy.spread(next(intervals))
                if deadline is not None:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        if cancel_on_timeout:
                            self.cancel()
                        raise JobTimeoutError(
                            f"job {self.id} is still {snapshot.status.value} after {timeout:g}s"
                            + ("; cancelled it" if cancel_on_timeout else "; it goes on"),
                            job_id=self.id,
                        )
                    delay = min(delay, remaining)
                time.sleep(delay)
        finally:
            bar.close()
        self.raise_for_status()
        return self._snapshot

    def _wait_policy(self) -> PollPolicy:
        """The job's policy; without one from the user, paced as the provider suggests."""
        hint = None if self._poll_given else self._provider.capabilities.poll_interval
        if hint is None or hint == self.poll.initial:
            return self.poll
        return replace(
            self.poll, initial=hint, maximum=max(hint, min(self.poll.maximum, hint * 10))
        )

    def raise_for_status(self) -> None:
        """Raise ``JobFailedError`` or ``JobCancelledError`` if the job ended that way."""
        snapshot = self._snapshot
        if snapshot.status is JobStatus.FAILED:
            err = snapshot.error
            detail = f"{err.code + ': ' if err and err.code else ''}{err.message if err else ''}"
            raise JobFailedError(
                f"job {self.id} failed" + (f": {detail}" if detail else ""),
                job_id=self.id,
                code=err.code if err else None,
                provider_message=err.message if err else None,
                param=err.param if err else None,
            )
        if snapshot.status is JobStatus.CANCELLED:
            raise JobCancelledError(f"job {self.id} was cancelled", job_id=self.id)

    def progress_line(self) -> str:
        s = self._snapshot
        parts = [self.id, s.status.value]
        if s.status.value != s.raw_status:
            parts[-1] += f" ({s.raw_status})"
        if s.step is not None:
            parts.append(f"step {s.step}" + (f"/{s.total_steps}" if s.total_steps else ""))
        if s.epoch is not None:
            parts.append(f"epoch {s.epoch:.2f}")
        if s.loss is not None:
            parts.append(f"loss {s.loss:.4f}")
        return "  ".join(parts)

    def cancel(self) -> JobSnapshot:
        """Cancel the job. Cancelling a finished job does nothing and is not an error."""
        if self._snapshot.status.is_terminal:
            return self._snapshot
        if not self._provider.capabilities.cancel:
            raise NotSupportedError(
                f"{self.provider} jobs cannot be cancelled", provider=self.provider
            )
        native_id = self._remote_id()
        snapshot = self._call(lambda: self._provider.cancel(native_id))
        self._snapshot = self._store.update_snapshot(self._key, snapshot)
        return self._snapshot

    def pause(self) -> JobSnapshot:
        return self._optional("pause")

    def resume(self) -> JobSnapshot:
        """Resume a paused job, or continue a failed or cancelled one from its last checkpoint."""
        return self._optional("resume")

    def _optional(self, operation: str) -> JobSnapshot:
        caps = self._provider.capabilities
        method = getattr(self._provider, operation, None)
        # a pausable provider resumes what it paused, even if it cannot revive a failed job
        allowed = getattr(caps, operation, False) or (operation == "resume" and caps.pause)
        if method is None or not allowed:
            raise NotSupportedError(
                f"{self.provider} does not support {operation}", provider=self.provider
            )
        native_id = self._remote_id()
        snapshot = self._call(lambda: method(native_id))
        # resume may legitimately move a terminal job back to a live status
        self._snapshot = self._store.update_snapshot(self._key, snapshot, force=True)
        return self._snapshot

    def events(self) -> list[Event]:
        """Every event of the job so far, oldest first (fetched incrementally, stored)."""
        if self._native_id is None:
            self.refresh()
        if self._provider.capabilities.events and self._native_id is not None:
            native_id = self._native_id
            after = self._store.last_event_id(self._key)
            new = self._call(lambda: self._provider.events(native_id, after=after))
            self._store.add_events(self._key, new)
        return self._store.events(self._key)

    def metrics(self) -> MetricSeries:
        """Training metrics by step (loss, learning rate, ...)."""
        if self._native_id is None:
            self.refresh()
        if self._provider.capabilities.metrics and self._native_id is not None:
            native_id = self._native_id
            points = self._call(lambda: self._provider.metrics(native_id))
            self._store.put_metrics(self._key, points)
        return MetricSeries(points=tuple(self._store.metrics(self._key)))

    def model(self) -> ModelHandle:
        """A handle to chat with the fine-tuned model (the job must have succeeded)."""
        if not self._snapshot.status.is_terminal:
            self.refresh()
        if self._snapshot.status is not JobStatus.SUCCEEDED:
            raise JobNotSucceededError(
                f"job {self.id} is {self._snapshot.status.value}; only a succeeded job has a "
                "model to chat with" + ("" if self.status.is_terminal else " (wait for it first)"),
                job_id=self.id,
            )
        return self._provider.open_model(self._snapshot, self.spec)

"""One submit, from its intent to its job: the one place that decides what an unfinished
submit leaves behind.

The rule: an intent is dropped only when nothing can exist remotely (the provider refused the
job outright, its preflight refused it, it could not be reached at all, or ``reconcile`` said no
such job exists and no create was sent since). In every other case (a passing failure after the
create was sent, an interrupt, a crash) the intent stays, shown as ``pending`` by ``jobs``, and
``ftbridge recover`` or any ``status`` of it asks the provider what became of it.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from ._exceptions import ProviderError, ProviderUnreachableError, TransientProviderError
from ._job import Job
from ._leases import Claim, Lease, claim, release
from ._models import JobSnapshot, JobSpec, Preflight
from ._polling import PollPolicy, call_with_retries
from ._progress import is_terminal
from ._provider import Provider
from ._store import JobStore

if TYPE_CHECKING:
    from .validation import ValidatedDataset

log = logging.getLogger("ftbridge")

#: Seconds between looks at an identical submit's lease while waiting for it.
WAIT_STEP = 0.2


class Submission:
    """Submit ``spec`` once across processes: claim its intent, then preflight and create it.

    ``maybe_remote`` is what the keep-or-drop rule reads: True once something may have created
    the job remotely that no later ``reconcile`` has ruled out.
    """

    def __init__(
        self,
        provider: Provider,
        store: JobStore,
        dataset: ValidatedDataset,
        spec: JobSpec,
        fingerprint: str,
        *,
        chosen_key: bool,
        policy: PollPolicy,
        poll: PollPolicy | None,
        since: datetime,
        preflight_warning: Callable[[str], None],
    ) -> None:
        self.provider = provider
        self.store = store
        self.dataset = dataset
        self.spec = spec
        self.fingerprint = fingerprint
        self.chosen_key = chosen_key
        self.policy = policy
        self.poll = poll
        self.since = since
        self.warn = preflight_warning
        self.maybe_remote = False

    # -- the whole submit -----------------------------------------------------------------------

    def run(self) -> Job:
        found = self._claim()
        if found.verdict == "created":  # an identical submit made it, or this key did
            return Job(found.record, self.provider, self.store, self.poll)
        # an earlier intent keeps its key; the files are ours (the same bytes, maybe elsewhere)
        self.spec = self.spec.model_copy(update={"idempotency_key": found.record.key})
        key = self.spec.idempotency_key
        lease = Lease(self.store, key)
        try:
            if found.verdict == "taken":  # left by a submit that stopped: did it create it?
                self.maybe_remote = True
                adopted = call_with_retries(lambda: self.provider.reconcile(self.spec), self.policy)
                if adopted is not None:
                    log.info("adopted job %s from an interrupted submit", adopted.native_id)
                    return self._job(key, adopted)
                self.maybe_remote = False
            check = call_with_retries(
                lambda: self.provider.preflight(self.dataset, self.spec), self.policy
            )
            self._check(check)
            return self._job(key, call_with_retries(self._create, self.policy), check)
        except BaseException as exc:
            self._settle(key, exc)
            raise
        finally:
            lease.stop()
            release(self.store, key)

    def _claim(self) -> Claim:
        """Our intent, or the job an identical submit made (after waiting for it)."""
        waited_on: str | None = None
        told = False
        while True:
            found = claim(
                self.store,
                self.spec,
                self.fingerprint,
                chosen_key=self.chosen_key,
                since=self.since,
                waited_on=waited_on,
            )
            if found.verdict != "waiting":
                return found
            waited_on = found.record.key
            if not told and found.owner is not None:
                told = True
                note = (
                    f"an identical submit ({found.owner.describe()}) is creating this job; "
                    "waiting for it"
                )
                log.info(note)
                if is_terminal(sys.stderr):
                    print(f"ftbridge: {note}", file=sys.stderr, flush=True)
            time.sleep(WAIT_STEP)

    # -- the steps ------------------------------------------------------------------------------

    def _check(self, check: Preflight) -> None:
        from ._exceptions import PreflightError

        for warning in check.warnings:
            self.warn(warning)
        if not check.ok:
            raise PreflightError(
                f"{self.provider.name} refused this job before starting it: "
                + "; ".join(check.problems),
                provider=self.provider.name,
            )

    def _create(self) -> JobSnapshot:
        """One create attempt; after an attempt that may have created it, look for it first."""
        if self.maybe_remote:
            found = self.provider.reconcile(self.spec)
            if found is not None:
                return found
            self.maybe_remote = False
        try:
            return self.provider.submit(self.dataset, self.spec)
        except ProviderUnreachableError:
            raise  # nothing left this machine
        except ProviderError as exc:
            # a passing failure may hide a create that went through; a refusal created nothing
            self.maybe_remote = isinstance(exc, TransientProviderError)
            raise
        except BaseException:  # interrupted, or a failure we cannot read: assume it went through
            self.maybe_remote = True
            raise

    def _settle(self, key: str, error: BaseException) -> None:
        """Keep or drop the intent after ``error`` ended the submit."""
        if not self.maybe_remote:
            self.store.forget_intent(key)
            return
        job = f"{self.provider.name}:{key}"
        log.warning(
            "the submit stopped (%s) after the create may have reached %s; the job is kept as "
            "pending %s: `ftbridge recover` (or `ftbridge status %s`) asks %s what became of it",
            type(error).__name__ if not str(error) else error,
            self.provider.name,
            job,
            job,
            self.provider.name,
        )

    def _job(
        self, key: str, snapshot: JobSnapshot | None, preflight: Preflight | None = None
    ) -> Job:
        record = self.store.attach(key, snapshot) if snapshot is not None else None
        record = record or self.store.get_by_key(key)
        assert record is not None
        return Job(record, self.provider, self.store, self.poll, preflight=preflight)

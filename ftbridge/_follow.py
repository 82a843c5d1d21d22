"""``wait_all``: follow many jobs at once with a bounded number of threads."""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from ._exceptions import JobTimeoutError
from ._job import Job
from ._models import JobSnapshot
from ._polling import PollPolicy


def wait_all(
    jobs: Sequence[Job],
    *,
    timeout: float | None = None,
    poll: PollPolicy | None = None,
    max_workers: int = 8,
    on_update: Callable[[Job, JobSnapshot], None] | None = None,
) -> list[JobSnapshot]:
    """Poll every job until all have finished; return their final snapshots, in order.

    >>> snapshots = ftbridge.wait_all([job_a, job_b, job_c], timeout=3600)

    Unlike ``Job.wait`` it does not raise for a failed or cancelled job: look at each snapshot's
    ``status``. One scheduler decides when each job is due (the same backoff as ``Job.wait``);
    at most ``max_workers`` refreshes run at the same time, however many jobs there are.
    ``JobTimeoutError`` after ``timeout`` seconds leaves every job running.
    """
    # each job paced by its own policy (the provider's pace unless ``poll`` is given)
    policies = [poll or job._wait_policy() for job in jobs]
    deadline = None if timeout is None else time.monotonic() + timeout
    results: list[JobSnapshot | None] = [None] * len(jobs)
    intervals = {i: policies[i].intervals() for i in range(len(jobs))}
    last_state: dict[int, object] = {}
    due: list[tuple[float, int]] = [(time.monotonic(), i) for i in range(len(jobs))]
    heapq.heapify(due)
    running: dict[Future[JobSnapshot], int] = {}

    with ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="ftbridge-poll") as pool:
        while due or running:
            now = time.monotonic()
            while due and due[0][0] <= now and len(running) < max_workers:
                _, i = heapq.heappop(due)
                running[pool.submit(jobs[i].refresh)] = i
            if deadline is not None and now >= deadline:
                for future in running:
                    future.cancel()
                left = sum(r is None for r in results)
                raise JobTimeoutError(
                    f"{left} of {len(jobs)} jobs still running after {timeout:g}s; they go on"
                )
            next_due = due[0][0] if due and len(running) < max_workers else None
            wait_for = None if next_due is None else max(0.0, next_due - now)
            if deadline is not None:
                wait_for = min(
                    wait_for if wait_for is not None else deadline - now, max(0.0, deadline - now)
                )
            if running:
                done, _ = wait(list(running), timeout=wait_for, return_when=FIRST_COMPLETED)
            else:
                time.sleep(wait_for or 0)
                done = set()
            for future in done:
                i = running.pop(future)
                snapshot = future.result()
                if on_update is not None:
                    on_update(jobs[i], snapshot)
                if snapshot.status.is_terminal:
                    results[i] = snapshot
                    continue
                state = (snapshot.status, snapshot.step)
                if last_state.get(i) != state:
                    intervals[i], last_state[i] = policies[i].intervals(), state
                heapq.heappush(due, (time.monotonic() + policies[i].spread(next(intervals[i])), i))
    return [r for r in results if r is not None]

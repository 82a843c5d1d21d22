"""Follow many fake jobs at once in one process: how close to ideal is the polling, and what
does the core add to each refresh?

    python benchmarks/polling.py [--jobs 500] [--duration 6] [--interval 0.5] [--workers 16]

Each job runs for ``duration`` seconds from its submission; with a fixed polling interval the
ideal is one refresh per interval of the time it still had to run when following began, plus
the one that sees it finish. The core's overhead per refresh is the CPU time ``Job.refresh``
takes minus the CPU time inside the provider's own ``refresh`` (here: reading one small JSON
file), measured per thread so that waiting for the GIL or for other processes does not count.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import orjson


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--jobs", type=int, default=500)
    ap.add_argument("--duration", type=float, default=6.0)
    ap.add_argument("--interval", type=float, default=0.5)
    ap.add_argument("--workers", type=int, default=16)
    args = ap.parse_args()
    os.environ["FTBRIDGE_HOME"] = tempfile.mkdtemp(prefix="ftbridge-bench-")

    import ftbridge
    from ftbridge.testing import FakeProvider
    from ftbridge.testing._conformance import conformance_records

    class TimedFake(FakeProvider):
        inside = 0.0
        lock = threading.Lock()

        def refresh(self, native_id: str) -> ftbridge.JobSnapshot:
            t = time.thread_time()
            try:
                return super().refresh(native_id)
            finally:
                with self.lock:
                    TimedFake.inside += time.thread_time() - t

    data = Path(os.environ["FTBRIDGE_HOME"]) / "train.jsonl"
    data.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in conformance_records()))
    fake = TimedFake(script=[("running", args.duration), ("succeeded", 0)])
    dataset = ftbridge.validate(data)
    policy = ftbridge.PollPolicy(
        initial=args.interval, maximum=args.interval, multiplier=1.0, jitter=0.1
    )
    t0 = time.perf_counter()
    jobs = [
        ftbridge.submit(dataset, provider=fake, model="base", poll=policy) for _ in range(args.jobs)
    ]
    submit_s = time.perf_counter() - t0

    outer = [0.0]
    lock = threading.Lock()
    original = ftbridge.Job.refresh

    def timed_refresh(self: ftbridge.Job) -> ftbridge.JobSnapshot:
        t = time.thread_time()
        try:
            return original(self)
        finally:
            with lock:
                outer[0] += time.thread_time() - t

    ftbridge.Job.refresh = timed_refresh  # type: ignore[method-assign]
    threads_before = threading.active_count()
    started = time.time()
    left = [max(0.0, j.snapshot.created_at.timestamp() + args.duration - started) for j in jobs]
    ideal = sum(t // args.interval + 1 for t in left) / len(jobs)
    t0 = time.perf_counter()
    finals = ftbridge.wait_all(jobs, poll=policy, max_workers=args.workers)
    wall = time.perf_counter() - t0
    refreshes = fake.count("refresh")
    ok = sum(s.status is ftbridge.JobStatus.SUCCEEDED for s in finals)
    per_job = refreshes / args.jobs
    overhead_ms = (outer[0] - TimedFake.inside) / refreshes * 1000
    print(
        f"jobs followed          {args.jobs} ({ok} succeeded) with {args.workers} threads "
        f"(threads before: {threads_before})"
    )
    print(f"submit                 {submit_s / args.jobs * 1000:.2f} ms per job")
    print(f"wall time              {wall:.2f} s for jobs of {args.duration:g} s")
    print(f"refreshes per job      {per_job:.2f}  (ideal {ideal:.2f}; ratio {per_job / ideal:.3f})")
    print(
        f"core CPU per refresh   {overhead_ms:.3f} ms  "
        f"(provider's own refresh: {TimedFake.inside / refreshes * 1000:.3f} ms)"
    )
    sys.exit(0 if ok == args.jobs else 1)


if __name__ == "__main__":
    main()

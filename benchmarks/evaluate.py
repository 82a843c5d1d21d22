"""Evaluation against a model with a fixed latency: how close to ideal is the generation, and
how much does scoring add?

    python benchmarks/evaluate.py [--examples 500] [--latency 0.05] [--concurrency 8]

The ideal wall time is examples x latency / concurrency (every request in flight is waiting on
the model, none on ftbridge). The run goes through ``ftbridge.evaluate`` with the default
scorers' kind of work (exact, token F1, ROUGE-L) and the generation cache on, as a user runs
it; a second run of the same evaluation is answered from the cache, so its time is the
scoring, statistics and cache reads alone. Target (DESIGN §8): within 1.3x of the ideal.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Mapping, Sequence
from typing import Any


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--examples", type=int, default=500)
    ap.add_argument("--latency", type=float, default=0.05, help="seconds per reply")
    ap.add_argument("--concurrency", type=int, default=8)
    args = ap.parse_args()
    os.environ["FTBRIDGE_HOME"] = tempfile.mkdtemp(prefix="ftbridge-bench-")

    import ftbridge

    class FixedLatency(ftbridge.ModelHandle):
        """Answers after exactly ``latency`` seconds, as a remote model that is never busy."""

        name = "bench:fixed-latency"

        def _chat(
            self, messages: Sequence[Mapping[str, Any]], params: ftbridge.Generation
        ) -> ftbridge.ChatResult:
            time.sleep(args.latency)
            question = str(messages[-1]["content"])
            return ftbridge.ChatResult(
                text=f"the answer to {question} is forty two", finish_reason="stop"
            )

    data = [
        {
            "messages": [
                {"role": "user", "content": f"question {i}: what is six times seven?"},
                {"role": "assistant", "content": f"the answer to question {i} is forty two"},
            ]
        }
        for i in range(args.examples)
    ]
    scorers = ["exact", "f1", "rouge_l"]
    ftbridge.evaluate({"warm-up": FixedLatency()}, data[:4], scorers=scorers, cache=False)

    started = time.perf_counter()
    report = ftbridge.evaluate(
        {"model": FixedLatency()}, data, scorers=scorers, concurrency=args.concurrency
    )
    wall = time.perf_counter() - started
    started = time.perf_counter()
    ftbridge.evaluate(
        {"model": FixedLatency()}, data, scorers=scorers, concurrency=args.concurrency
    )
    rescored = time.perf_counter() - started

    ideal = args.examples * args.latency / args.concurrency
    assert report.errors("model") == 0 and report.mean("model", "exact") < 1.0
    print(
        f"examples {args.examples}, latency {args.latency * 1000:.0f} ms, concurrency {args.concurrency}"
    )
    print(f"ideal (examples x latency / concurrency): {ideal:.2f} s")
    print(
        f"ftbridge.evaluate, generating:            {wall:.2f} s  ({wall / ideal:.2f}x the ideal; target <= 1.3x)"
    )
    print(
        f"the same again from the cache (scoring and statistics): {rescored:.2f} s "
        f"({rescored / wall:.1%} of the first run)"
    )


if __name__ == "__main__":
    main()

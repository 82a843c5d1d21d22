"""What ``import ftbridge`` adds to interpreter start (target: well under 150 ms), and that it
pulls in no heavy dependency.

    python benchmarks/import_time.py [--runs 20]

Runs ``python -c pass`` and ``python -c "import ftbridge"`` alternately in fresh processes and
compares the medians.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

HEAVY = ("torch", "transformers", "peft", "trl", "bitsandbytes", "openai", "together", "datasets")


def _time(code: str) -> float:
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args()
    bare, loaded = [], []
    for _ in range(args.runs):
        bare.append(_time("pass"))
        loaded.append(_time("import ftbridge"))
    added = (statistics.median(loaded) - statistics.median(bare)) * 1000
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import sys, ftbridge; print(' '.join(m for m in {HEAVY!r} if m in sys.modules))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    print(
        f"python -c pass           {statistics.median(bare) * 1000:.1f} ms (median of {args.runs})"
    )
    print(f"python -c 'import ftbridge' {statistics.median(loaded) * 1000:.1f} ms")
    print(f"added by import ftbridge {added:.1f} ms  (target < 150 ms: ratio {added / 150:.2f})")
    print(f"heavy modules imported   {out or 'none'}")


if __name__ == "__main__":
    main()

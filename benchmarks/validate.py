"""Validation speed and memory against Together's ``check_file`` and a plain ``json.loads`` loop.

    python benchmarks/validate.py [--size-mb 200] [--rounds 3] [--bad-every 1000]

Makes the file with ``make_chat_jsonl.py`` (cached in ``.bench/``), then times, alternating
round by round so background load hits all alike, each contender in a fresh subprocess (so
its peak RSS is its own; ftbridge's worker processes are measured too):

- ftbridge: full validation, every generic rule and every provider profile, with a fresh
  ``FTBRIDGE_HOME`` so the cache cannot answer;
- together: ``together.lib.utils.files.check_file`` (UTF-8 and JSON-object structure only);
- json: ``json.loads`` of each line, nothing else;
- python (with ``--python``): ftbridge with its compiled checker off, as without a compiler.

Prints median seconds, the ratios to ``check_file`` (target: ftbridge <= 0.33x) and peak
RSS (target: ftbridge <= 80 MiB). With ``--bad-every K`` it also checks that every bad line
was counted.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAKER = Path(
    os.environ.get("FTBRIDGE_BENCH_MAKER")
    or ROOT.parent / "shared" / "bench" / "make_chat_jsonl.py"
)

RUNNERS = {
    "ftbridge": """
import os, sys, time, resource, tempfile
os.environ["FTBRIDGE_HOME"] = tempfile.mkdtemp(prefix="ftb-bench-")
t = time.perf_counter()
from ftbridge.validation import check
ds = check(sys.argv[1])
elapsed = time.perf_counter() - t
r = ds.report
from ftbridge.validation import _compiled
out = {"seconds": elapsed, "examples": r.stats.examples, "error_lines": r.stats.error_lines,
       "errors": r.error_count, "tokens_exact": r.stats.tokens_exact,
       "compiled": _compiled.AVAILABLE}
""",
    "together": """
import sys, time
t = time.perf_counter()
from together.lib.utils.files import check_file
rep = check_file(sys.argv[1])
out = {"seconds": time.perf_counter() - t, "passed": rep["is_check_passed"]}
""",
    "json": """
import json, sys, time
t = time.perf_counter()
n = 0
with open(sys.argv[1], "rb") as f:
    for line in f:
        try:
            json.loads(line)
        except ValueError:
            pass
        n += 1
out = {"seconds": time.perf_counter() - t, "lines": n}
""",
}
# the same full validation with the compiled checker off: what a machine without a compiler gets
RUNNERS_PYTHON = {
    "python": RUNNERS["ftbridge"].replace(
        "from ftbridge.validation import check\n",
        "from ftbridge.validation import check, _compiled as _c\n_c.ENABLED = False\n",
    )
}
_TAIL = """
import resource, json as _j
out["rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
out["child_rss_mib"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(_j.dumps(out))
"""


def make_file(size_mb: float, bad_every: int) -> Path:
    cache = ROOT / ".bench"
    cache.mkdir(exist_ok=True)
    name = f"chat_{size_mb:g}mb" + (f"_bad{bad_every}" if bad_every else "") + ".jsonl"
    path = cache / name
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        cmd = [sys.executable, str(MAKER), str(tmp), str(size_mb)]
        if bad_every:
            cmd += ["--bad-every", str(bad_every)]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        tmp.rename(path)
    return path


def run(name: str, path: Path) -> dict[str, float]:
    code = {**RUNNERS, **RUNNERS_PYTHON}[name] + _TAIL
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-c", code, str(path)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"{name} failed:\n{proc.stderr}")
    result: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def bad_lines(path: Path, every: int) -> int:
    """How many lines the generator broke (every K-th)."""
    with open(path, "rb") as f:
        return sum(1 for _ in f) // every


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--size-mb", type=float, default=200)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument(
        "--bad-every", type=int, default=0, help="also time a file with every K-th line broken"
    )
    ap.add_argument(
        "--python",
        action="store_true",
        help="also time ftbridge with its compiled checker off (the Python checks only)",
    )
    a = ap.parse_args()

    path = make_file(a.size_mb, 0)
    print(
        f"file: {path} ({path.stat().st_size / 2**20:.0f} MiB), {os.cpu_count()} CPUs, {a.rounds} rounds"
    )
    names = [*RUNNERS, *(RUNNERS_PYTHON if a.python else ())]
    results: dict[str, list[dict[str, float]]] = {name: [] for name in names}
    for _ in range(a.rounds):
        for name in names:
            results[name].append(run(name, path))
    med = {name: statistics.median(r["seconds"] for r in rs) for name, rs in results.items()}
    for name, rs in results.items():
        rss = max(r["rss_mib"] for r in rs)
        child = max(r.get("child_rss_mib", 0) for r in rs)
        extra = f", workers {child:.0f} MiB" if name in ("ftbridge", "python") and child else ""
        print(f"{name:>9}: {med[name]:6.2f} s median, peak RSS {rss:.0f} MiB{extra}")
    ft = results["ftbridge"][0]
    print(
        f"ftbridge tokens exact: {bool(ft['tokens_exact'])}; examples {ft['examples']:.0f}; "
        f"compiled checker: {'built' if ft['compiled'] else 'not built (Python checks only)'}"
    )
    print(
        f"ratio ftbridge / check_file: {med['ftbridge'] / med['together']:.2f}x (target <= 0.33x)"
    )
    print(f"ratio ftbridge / json.loads loop: {med['ftbridge'] / med['json']:.2f}x")
    if a.python:
        print(
            f"ratio ftbridge without the compiled checker / check_file: "
            f"{med['python'] / med['together']:.2f}x"
        )
    peak = max(max(r["rss_mib"], r.get("child_rss_mib", 0)) for r in results["ftbridge"])
    print(f"ftbridge peak RSS (largest process): {peak:.0f} MiB (target <= 80 MiB)")

    if a.bad_every:
        bad = make_file(a.size_mb, a.bad_every)
        r = run("ftbridge", bad)
        expected = bad_lines(bad, a.bad_every)
        verdict = "all counted" if r["error_lines"] == expected else "MISMATCH"
        print(
            f"--bad-every {a.bad_every}: {r['error_lines']:.0f} lines with errors of {expected} broken "
            f"({verdict}), {r['seconds']:.2f} s"
        )
    return 0


if __name__ == "__main__":
    tempfile.tempdir = None
    sys.exit(main())

"""Run a scan over a whole file, in one process or split across CPU cores.

A big file is cut at newlines into ranges that worker processes check in parallel, while
this process computes the file's sha256; ranges come back in order, so line numbers are
exact (each range's local numbers plus the lines before it). Duplicate keys are looked up here
as the ranges arrive; ``_merge`` makes the report.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import sys
import threading
from collections.abc import Callable, Mapping
from itertools import pairwise
from typing import Any

import orjson

from ._duplicates import Duplicates
from ._profiles import ProviderProfile
from ._scan import iter_lines, scan
from ._tally import ExampleLimit, Rule, ScanConfig, ScanResult
from ._tokens import TokenCounter

Progress = Callable[[int, int], None]

#: Files at least this big are checked by several processes (when the platform allows it).
PARALLEL_MIN_BYTES = 24 << 20
RANGE_BYTES = 16 << 20
_READ = 1 << 20


def build_config(
    selected: Mapping[str, ProviderProfile],
    max_length: int | None,
    counter: TokenCounter | None,
    max_findings: int,
) -> ScanConfig:
    rules: dict[str, list[Rule]] = {}
    for p in selected.values():
        for feature, rule in p.rules.items():
            rules.setdefault(feature, []).append(
                Rule(p.name, rule.code, rule.severity, rule.message)
            )
    limits: set[int] = set()
    example_limits: list[ExampleLimit] = []
    for p in selected.values():
        plimits = dict(p.token_limits)
        if p.uses_max_length and max_length:
            plimits["max_length"] = max_length
        limits.update(plimits.values())
        if p.billing_cap:
            limits.add(p.billing_cap)
        if plimits:
            low = min(plimits.values())
            models = ", ".join(sorted(m for m, v in plimits.items() if v == low))
            example_limits.append(ExampleLimit(p.name, low, models))
    return ScanConfig(
        wanted=frozenset(rules),
        rules=rules,
        limits=sorted(limits),
        example_limits=example_limits,
        max_findings=max_findings,
        counter=counter,
    )


def run_file(
    path: str,
    size: int,
    cfg: ScanConfig,
    *,
    progress: Progress | None = None,
    parallel: bool = True,
    known_sha256: str | None = None,
    on_sha256: Callable[[str], Any] | None = None,
) -> tuple[list[ScanResult], str, Any]:
    """Scan ``path``; returns (results in file order, sha256, early answer from ``on_sha256``).

    ``on_sha256`` is called as soon as the file's digest is known; if it returns something
    (a cached report), the scan is abandoned and that is returned as the third element.
    """
    workers = _workers(size, cfg) if parallel else 1
    if workers > 1:
        return _run_parallel(path, size, cfg, workers, progress, on_sha256)
    sha = known_sha256 or _sha256(path)
    if on_sha256 is not None:
        early = on_sha256(sha)
        if early is not None:
            return [], sha, early

    def on_chunk(data: bytes, done: int) -> None:
        if progress is not None:
            progress(done, size)

    with open(path, "rb") as f:
        result = scan(f, 0, size, cfg, on_chunk)
    return [result], sha, None


def _workers(size: int, cfg: ScanConfig) -> int:
    if size < PARALLEL_MIN_BYTES or (cfg.counter is not None and not cfg.counter.parallel_safe):
        return 1
    if sys.platform == "win32" or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    if threading.active_count() > 1:  # forking a threaded process can deadlock the child
        return 1
    cores = (
        len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    )
    return max(1, min(cores, 8))


def _sha256(path: str) -> str:
    h = hashlib.sha256()
    buf = bytearray(_READ)  # one buffer, read into again and again: no allocation per chunk
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as f:
        while n := f.readinto(buf):
            h.update(view[:n])
    return h.hexdigest()


def _ranges(path: str, size: int) -> list[tuple[int, int]]:
    """Byte ranges of about RANGE_BYTES that start right after a newline."""
    cuts = [0]
    with open(path, "rb") as f:
        target = RANGE_BYTES
        while target < size:
            f.seek(target)
            pos = target
            while True:
                block = f.read(_READ)
                if not block:
                    pos = size
                    break
                nl = block.find(b"\n")
                if nl >= 0:
                    pos += nl + 1
                    break
                pos += len(block)
            if pos >= size:
                break
            if pos > cuts[-1]:
                cuts.append(pos)
            target = max(pos, target) + RANGE_BYTES
    cuts.append(size)
    return [(a, b) for a, b in pairwise(cuts) if b > a]


_WORK: tuple[str, ScanConfig] | None = None


def _scan_range(rng: tuple[int, int]) -> ScanResult:
    assert _WORK is not None
    path, cfg = _WORK
    with open(path, "rb") as f:
        return scan(f, rng[0], rng[1], cfg)


def _first_format(path: str, cfg: ScanConfig) -> tuple[str | None, int]:
    """The dataset's format and the line it was found on, from the start of the file."""
    from ._formats import detect

    with open(path, "rb") as f:
        for ln, (raw, _, _) in enumerate(
            iter_lines(f, 0, os.fstat(f.fileno()).st_size, cfg.max_line), 1
        ):
            if ln > 10_000:
                break
            if raw is None:
                continue
            try:
                rec = orjson.loads(raw[3:] if ln == 1 and raw[:3] == b"\xef\xbb\xbf" else raw)
            except orjson.JSONDecodeError:
                continue
            if type(rec) is dict:
                fmt = detect(rec)
                if isinstance(fmt, str):
                    return fmt, ln
    return None, 0


def _run_parallel(
    path: str,
    size: int,
    cfg: ScanConfig,
    workers: int,
    progress: Progress | None,
    on_sha256: Callable[[str], Any] | None,
) -> tuple[list[ScanResult], str, Any]:
    global _WORK
    fmt, first = _first_format(path, cfg)
    if fmt is None:  # nothing recognisable near the start: one process keeps it simple
        return run_file(path, size, cfg, progress=progress, parallel=False, on_sha256=on_sha256)
    cfg.expected, cfg.first_line = fmt, first
    ranges = _ranges(path, size)
    _WORK = (path, cfg)
    ctx = multiprocessing.get_context("fork")
    pool = ctx.Pool(workers)
    try:
        pending = pool.imap(_scan_range, ranges)
        sha = _sha256(path)  # while the workers scan
        early = on_sha256(sha) if on_sha256 is not None else None
        if early is not None:
            pool.terminate()
            return [], sha, early
        results = []
        done = 0
        dups = Duplicates(path, cfg.max_findings)
        for rng, res in zip(ranges, pending, strict=False):
            # finding duplicates here overlaps with the workers still scanning
            dups.feed(res, size_hint=res.examples * len(ranges))
            results.append(res)
            done += rng[1] - rng[0]
            if progress is not None:
                progress(done, size)
        pool.close()
        cfg.duplicates = dups
        return results, sha, None
    finally:
        pool.terminate()
        pool.join()
        _WORK = None


__all__ = ["build_config", "run_file"]

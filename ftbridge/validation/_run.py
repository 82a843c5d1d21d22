"""Run a scan over a whole file (in one process, or split across CPU cores) and merge it.

A big file is cut at newlines into ranges that worker processes check in parallel, while
this process computes the file's sha256; ranges come back in order, so line numbers are
exact (each range's local numbers plus the lines before it). Findings, statistics and
duplicate keys are merged here; then the provider profiles give their file-level verdicts.
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

from ._codes import CODES, RULES_VERSION, Severity, render
from ._duplicates import Duplicates
from ._profiles import ProviderProfile
from ._report import DatasetStats, Distribution, Finding, ProviderVerdict, ValidationReport
from ._scan import iter_lines, scan
from ._tally import RawFinding, ScanConfig, ScanResult
from ._tokens import ESTIMATE_LABEL, TokenCounter

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
    rules: dict[str, list[tuple[str, str, str, str]]] = {}
    for p in selected.values():
        for feature, rule in p.rules.items():
            rules.setdefault(feature, []).append((p.name, rule.code, rule.severity, rule.message))
    limits: set[int] = set()
    example_limits: list[tuple[str, int, str]] = []
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
            example_limits.append((p.name, low, models))
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


# -- merging ------------------------------------------------------------------------------------


def merge(
    results: list[ScanResult],
    *,
    path: str,
    sha256: str,
    size: int,
    cfg: ScanConfig,
    selected: Mapping[str, ProviderProfile],
    provider: str | None,
    counter: TokenCounter | None,
    max_length: int | None,
    extra: list[RawFinding] | None = None,
) -> ValidationReport:
    """One report from the per-range results (in file order)."""
    raw: list[RawFinding] = []
    counts: dict[str, int] = {}
    totals: dict[tuple[str | None, str], int] = {}
    offset = 0
    fmt: str | None = cfg.expected
    for res in results:
        for f in res.findings:
            raw.append((f[0] + offset if f[0] is not None else None, *f[1:]))  # type: ignore[arg-type]
        for k, v in res.counts.items():
            counts[k] = counts.get(k, 0) + v
        for k2, v in res.totals.items():
            totals[k2] = totals.get(k2, 0) + v
        if fmt is None and res.expected is not None:
            fmt = res.expected
        offset += res.lines
    excess: dict[int, int] = {}
    for res in results:
        for limit, v in res.excess.items():
            excess[limit] = excess.get(limit, 0) + v
    dups = cfg.duplicates
    if dups is None:
        dups = Duplicates(path, cfg.max_findings)
        for res in results:
            dups.feed(res)
    raw += dups.findings
    if dups.count:
        counts["record.duplicate"] = dups.count
        totals[(None, "warning")] = totals.get((None, "warning"), 0) + dups.count
    stats = _stats(results, size, dups.count, dups.checked, counter, selected, max_length)
    file_level = _file_level(stats, fmt, size, selected, cfg)
    for f in [*file_level, *(extra or [])]:
        raw.append(f)
        counts[f[2]] = counts.get(f[2], 0) + 1
        totals[(f[4], f[5])] = totals.get((f[4], f[5]), 0) + 1
    raw.sort(key=lambda f: (f[0] if f[0] is not None else -1, f[1] or ""))
    raw = _collapse_once(raw, selected, counts, totals)
    buckets: dict[tuple[str | None, str], list[Finding]] = {}
    for f in raw:
        bucket = buckets.setdefault((f[4], f[5]), [])
        if len(bucket) < cfg.max_findings:
            bucket.append(_finding(f))
    generic_errors = totals.get((None, "error"), 0)
    verdicts = {}
    for name, p in selected.items():
        n_err = totals.get((name, "error"), 0)
        verdicts[name] = ProviderVerdict(
            provider=name,
            valid=generic_errors == 0 and n_err == 0,
            errors=buckets.get((name, "error"), []),
            warnings=buckets.get((name, "warning"), []),
            error_count=n_err,
            warning_count=totals.get((name, "warning"), 0),
            estimate=_estimate(p, stats, excess),
        )
    valid = generic_errors == 0
    if provider is not None and provider in verdicts:
        valid = valid and verdicts[provider].valid
    return ValidationReport(
        path=path,
        sha256=sha256,
        format=fmt,
        provider=provider,
        valid=valid,
        errors=buckets.get((None, "error"), []),
        warnings=buckets.get((None, "warning"), []),
        error_count=generic_errors,
        warning_count=totals.get((None, "warning"), 0),
        counts=dict(sorted(counts.items())),
        max_findings=cfg.max_findings,
        stats=stats,
        verdicts=verdicts,
        rules_version=RULES_VERSION,
    )


def _collapse_once(
    raw: list[RawFinding],
    selected: Mapping[str, ProviderProfile],
    counts: dict[str, int],
    totals: dict[tuple[str | None, str], int],
) -> list[RawFinding]:
    """Keep the first finding of each ``once`` rule, saying how often it occurred."""
    once = {(p.name, r.code) for p in selected.values() for r in p.rules.values() if r.once}
    if not once:
        return raw
    out: list[RawFinding] = []
    seen: set[tuple[str | None, str]] = set()
    for f in raw:
        key = (f[4], f[2])
        if key not in once:
            out.append(f)
        elif key not in seen:
            seen.add(key)
            n = counts.get(f[2], 1)
            template = (
                f"{f[6]} ({n} occurrence{'s' if n != 1 else ''} in the file)" if f[6] else f[6]
            )
            out.append((*f[:6], template))
            totals[(f[4], f[5])] -= n - 1
    return out


def _finding(f: RawFinding) -> Finding:
    line, loc, code, args, provider, severity, template = f
    if template is None:
        message = render(code, args)
    else:
        try:
            message = template.format(**(args or {}))
        except (KeyError, IndexError, ValueError):
            message = template
    sev: Severity = "error" if severity == "error" else "warning"
    return Finding(line=line, loc=loc, code=code, message=message, severity=sev, provider=provider)


def _stats(
    results: list[ScanResult],
    size: int,
    dups: int,
    dup_checked: int,
    counter: TokenCounter | None,
    selected: Mapping[str, ProviderProfile],
    max_length: int | None,
) -> DatasetStats:
    checked = sum(r.checked for r in results)

    def dist(attr: str) -> Distribution:
        accs = [getattr(r, attr) for r in results if r.checked]
        if not accs:
            return Distribution()
        return Distribution(
            min=min(a[1] for a in accs),
            mean=round(sum(a[0] for a in accs) / checked, 2),
            max=max(a[2] for a in accs),
        )

    over: dict[int, int] = {}
    for r in results:
        for k, v in r.over.items():
            over[k] = over.get(k, 0) + v
    over_limit: dict[str, dict[str, int]] = {}
    for name, p in selected.items():
        limits = dict(p.token_limits)
        if p.uses_max_length and max_length:
            limits["max_length"] = max_length
        if limits:
            over_limit[name] = {
                model: over.get(limit, 0) for model, limit in sorted(limits.items())
            }
    tokens = dist("tokens")
    return DatasetStats(
        examples=sum(r.examples for r in results),
        lines=sum(r.lines for r in results),
        messages=dist("msgs"),
        turns=dist("turns"),
        tokens=tokens,
        total_tokens=sum(r.tokens[0] for r in results),
        trainable_tokens=sum(r.trainable for r in results),
        max_example_tokens=int(tokens.max),
        tokens_exact=counter is not None,
        tokenizer=counter.label if counter is not None else ESTIMATE_LABEL,
        duplicates=dups,
        duplicates_checked=dup_checked,
        without_system=sum(r.without_system for r in results),
        over_limit=over_limit,
        error_lines=sum(r.error_lines for r in results),
        bytes=size,
    )


def _file_level(
    stats: DatasetStats,
    fmt: str | None,
    size: int,
    selected: Mapping[str, ProviderProfile],
    cfg: ScanConfig,
) -> list[RawFinding]:
    out: list[RawFinding] = []
    if stats.examples == 0:
        out.append((None, None, "dataset.empty", None, None, "error", None))
    for name, p in selected.items():
        if stats.examples and stats.examples < p.min_examples:
            out.append(
                (
                    None,
                    None,
                    f"{name}.too_few_examples",
                    {"n": stats.examples, "min": p.min_examples},
                    name,
                    "error",
                    "{n} examples; this provider needs at least {min}: add more examples",
                )
            )
        if p.max_file_bytes is not None and size > p.max_file_bytes:
            out.append(
                (
                    None,
                    None,
                    f"{name}.file_too_large",
                    {"size": size, "max": p.max_file_bytes},
                    name,
                    "error",
                    "the file is {size} bytes, over this provider's {max}-byte limit; split it",
                )
            )
        rule = p.rules.get(f"format.{fmt}") if fmt else None
        if rule is not None:
            out.append((None, None, rule.code, {"format": fmt}, name, rule.severity, rule.message))
    return out


def _estimate(
    p: ProviderProfile, stats: DatasetStats, excess: dict[int, int]
) -> dict[str, Any] | None:
    if p.estimate is None:
        return None
    # each example is billed up to the cap: total minus what examples exceed it by
    billing = stats.total_tokens - (excess.get(p.billing_cap, 0) if p.billing_cap else 0)
    return p.estimate(stats.examples, billing, stats.tokens_exact)


__all__ = ["CODES", "build_config", "merge", "run_file"]

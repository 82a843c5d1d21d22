"""One report from the per-range scan results: findings, statistics, per-provider verdicts.

Imported once the scan is under way (the report models need pydantic, which the scan does not).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._codes import RULES_VERSION, Severity, render
from ._duplicates import Duplicates
from ._profiles import ProviderProfile
from ._report import DatasetStats, Distribution, Finding, ProviderVerdict, ValidationReport
from ._tally import RawFinding, ScanConfig, ScanResult
from ._tokens import ESTIMATE_LABEL, TokenCounter


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

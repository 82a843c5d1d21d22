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
from ._tally import RawFinding, ScanConfig, ScanResult, Spread
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
    fmt = cfg.expected or next((r.expected for r in results if r.expected is not None), None)
    dups = cfg.duplicates
    if dups is None:
        dups = Duplicates(path, cfg.max_findings)
        for res in results:
            dups.feed(res)
    stats = _stats(results, size, dups.count, dups.checked, counter, selected, max_length)
    added = [*_file_level(stats, fmt, size, selected, cfg), *(extra or [])]
    findings = [*_in_file_order(results), *dups.findings, *added]
    findings.sort(key=lambda f: (f.line if f.line is not None else -1, f.loc or ""))
    counts = _counts(results, dups, added)
    findings, folded = _collapse_once(findings, selected, counts)
    totals = _totals(results, dups, added, folded)
    buckets: dict[tuple[str | None, str], list[Finding]] = {}
    for f in findings:
        bucket = buckets.setdefault((f.provider, f.severity), [])
        if len(bucket) < cfg.max_findings:
            bucket.append(_finding(f))
    excess: dict[int, int] = {}
    for res in results:
        for limit, v in res.excess.items():
            excess[limit] = excess.get(limit, 0) + v
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


def _in_file_order(results: list[ScanResult]) -> list[RawFinding]:
    """The ranges' kept findings, their local line numbers made file line numbers."""
    out: list[RawFinding] = []
    before = 0
    for res in results:
        for f in res.findings:
            out.append(f._replace(line=f.line + before) if f.line is not None else f)
        before += res.lines
    return out


def _counts(results: list[ScanResult], dups: Duplicates, added: list[RawFinding]) -> dict[str, int]:
    """How often each code occurred in the whole file (kept in full or not)."""
    counts: dict[str, int] = {}
    for res in results:
        for code, n in res.counts.items():
            counts[code] = counts.get(code, 0) + n
    if dups.count:
        counts["record.duplicate"] = dups.count
    for f in added:
        counts[f.code] = counts.get(f.code, 0) + 1
    return counts


def _totals(
    results: list[ScanResult],
    dups: Duplicates,
    added: list[RawFinding],
    folded: dict[tuple[str | None, str], int],
) -> dict[tuple[str | None, str], int]:
    """Findings per (provider, severity), a ``once`` rule counting once (``folded`` less)."""
    totals: dict[tuple[str | None, str], int] = {}
    for res in results:
        for key, n in res.totals.items():
            totals[key] = totals.get(key, 0) + n
    if dups.count:
        totals[(None, "warning")] = totals.get((None, "warning"), 0) + dups.count
    for f in added:
        totals[(f.provider, f.severity)] = totals.get((f.provider, f.severity), 0) + 1
    for key, n in folded.items():
        totals[key] -= n
    return totals


def _collapse_once(
    findings: list[RawFinding], selected: Mapping[str, ProviderProfile], counts: dict[str, int]
) -> tuple[list[RawFinding], dict[tuple[str | None, str], int]]:
    """Keep the first finding of each ``once`` rule, saying how often it occurred.

    Returns the findings kept and, per (provider, severity), how many occurrences were folded
    into a first one.
    """
    once = {(p.name, r.code) for p in selected.values() for r in p.rules.values() if r.once}
    folded: dict[tuple[str | None, str], int] = {}
    if not once:
        return findings, folded
    out: list[RawFinding] = []
    seen: set[tuple[str | None, str]] = set()
    for f in findings:
        key = (f.provider, f.code)
        if key not in once:
            out.append(f)
        elif key not in seen:
            seen.add(key)
            n = counts.get(f.code, 1)
            if f.template:
                f = f._replace(
                    template=f"{f.template} ({n} occurrence{'s' if n != 1 else ''} in the file)"
                )
            out.append(f)
            kind = (f.provider, f.severity)
            folded[kind] = folded.get(kind, 0) + n - 1
    return out, folded


def _finding(f: RawFinding) -> Finding:
    if f.template is None:
        message = render(f.code, f.args)
    else:
        try:
            message = f.template.format(**(f.args or {}))
        except (KeyError, IndexError, ValueError):
            message = f.template
    sev: Severity = "error" if f.severity == "error" else "warning"
    return Finding(
        line=f.line, loc=f.loc, code=f.code, message=message, severity=sev, provider=f.provider
    )


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
        spreads: list[Spread] = [getattr(r, attr) for r in results if r.checked]
        if not spreads:
            return Distribution()
        return Distribution(
            min=min(s.low for s in spreads),
            mean=round(sum(s.total for s in spreads) / checked, 2),
            max=max(s.high for s in spreads),
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
        total_tokens=sum(r.tokens.total for r in results),
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
        out.append(RawFinding(None, None, "dataset.empty", None, None, "error", None))
    for name, p in selected.items():
        if stats.examples and stats.examples < p.min_examples:
            out.append(
                RawFinding(
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
                RawFinding(
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
            out.append(
                RawFinding(
                    None, None, rule.code, {"format": fmt}, name, rule.severity, rule.message
                )
            )
    return out


def _estimate(
    p: ProviderProfile, stats: DatasetStats, excess: dict[int, int]
) -> dict[str, Any] | None:
    if p.estimate is None:
        return None
    # each example is billed up to the cap: total minus what examples exceed it by
    billing = stats.total_tokens - (excess.get(p.billing_cap, 0) if p.billing_cap else 0)
    return p.estimate(stats.examples, billing, stats.tokens_exact)

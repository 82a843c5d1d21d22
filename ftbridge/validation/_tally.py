"""What a scan records: its settings, its results, and how findings are counted.

Shared by the Python line checks (``_scan``) and the compiled block checker (``_compiled``).
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from typing import Any

from ._codes import CODES
from ._tokens import TokenCounter

#: A longer line is reported (``line.too_long``) and skipped without being held in memory.
MAX_LINE_BYTES = 16 << 20

# (line, loc, code, args, provider, severity, message template or None for generic codes)
RawFinding = tuple[int | None, str | None, str, Any, str | None, str, str | None]
Rule = tuple[str, str, str, str]  # provider, code, severity, message template


@dataclass
class ScanConfig:
    """What a scan needs to know, picklable for worker processes."""

    expected: str | None = None
    first_line: int = 0
    wanted: frozenset[str] = frozenset()
    rules: dict[str, list[Rule]] = field(default_factory=dict)
    limits: list[int] = field(default_factory=list)  # sorted token limits to count against
    example_limits: list[tuple[str, int, str]] = field(
        default_factory=list
    )  # provider, limit, text
    max_findings: int = 1000
    max_line: int = MAX_LINE_BYTES
    counter: TokenCounter | None = None
    duplicates: Any = None  # set by a parallel run: duplicates found as the ranges came in


@dataclass
class ScanResult:
    lines: int = 0
    examples: int = 0
    checked: int = 0
    expected: str | None = None
    first_line: int = 0
    findings: list[RawFinding] = field(default_factory=list)
    kept: dict[tuple[str | None, str], int] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    totals: dict[tuple[str | None, str], int] = field(default_factory=dict)
    error_lines: int = 0
    hashes: array[int] = field(default_factory=lambda: array("q"))
    hash_lines: array[int] = field(default_factory=lambda: array("q"))
    offsets: array[int] = field(default_factory=lambda: array("q"))
    msgs: list[int] = field(default_factory=lambda: [0, 1 << 62, 0])  # sum, min, max
    turns: list[int] = field(default_factory=lambda: [0, 1 << 62, 0])
    tokens: list[int] = field(default_factory=lambda: [0, 1 << 62, 0])
    trainable: int = 0
    without_system: int = 0
    over: dict[int, int] = field(default_factory=dict)
    excess: dict[int, int] = field(default_factory=dict)

    def add(self, raw: RawFinding) -> None:
        """Count a finding; keep it in full while under the cap for its provider and severity."""
        key = (raw[4], raw[5])
        self.totals[key] = self.totals.get(key, 0) + 1
        self.counts[raw[2]] = self.counts.get(raw[2], 0) + 1
        if self.kept.get(key, 0) < self._cap:
            self.kept[key] = self.kept.get(key, 0) + 1
            self.findings.append(raw)

    _cap: int = 1000


def fold(
    r: ScanResult, tok: array[int], train: array[int], msgs: array[int], turns: array[int]
) -> None:
    if not tok:
        return
    r.checked += len(tok)
    r.trainable += sum(train)
    for acc, values in ((r.tokens, tok), (r.msgs, msgs), (r.turns, turns)):
        acc[0] += sum(values)
        acc[1] = min(acc[1], min(values))
        acc[2] = max(acc[2], max(values))
    for values in (tok, train, msgs, turns):
        del values[:]


def flush_findings(
    r: ScanResult, ln: int, out: list[Any], feats: list[Any], rules: dict[str, list[Rule]]
) -> None:
    had_error = False
    for loc, code, args in out:
        sev = CODES[code][0]
        had_error = had_error or sev == "error"
        r.add((ln, loc, code, args, None, sev, None))
    for loc, feat, args in feats:
        for provider, pcode, psev, template in rules.get(feat, ()):
            r.add((ln, loc, pcode, args, provider, psev, template))
    if had_error:
        r.error_lines += 1
    out.clear()
    feats.clear()


def line_finding(r: ScanResult, ln: int, code: str, args: Any) -> None:
    sev = CODES[code][0]
    r.add((ln, None, code, args, None, sev, None))
    if sev == "error":
        r.error_lines += 1


def bad_line(r: ScanResult, ln: int, raw: memoryview, complete: int, exc: Exception) -> bool:
    """Report a line orjson refused; True when it was merely blank."""
    data = bytes(raw)
    if not data.strip():
        line_finding(r, ln, "line.blank", None)
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as bad:
        line_finding(r, ln, "line.invalid_utf8", {"column": bad.start + 1})
        return False
    if not complete:
        line_finding(r, ln, "line.truncated", None)
    else:
        line_finding(r, ln, "line.invalid_json", {"detail": str(exc)})
    return False


def over_limit(r: ScanResult, cfg: ScanConfig, ln: int, tokens: int, exact: bool) -> None:
    for limit in cfg.limits:
        if tokens > limit:
            r.over[limit] = r.over.get(limit, 0) + 1
            r.excess[limit] = r.excess.get(limit, 0) + tokens - limit
    shown = str(tokens) if exact else f"~{tokens}"
    for provider, limit, models in cfg.example_limits:
        if tokens > limit:
            r.add(
                (
                    ln,
                    None,
                    f"{provider}.token_limit",
                    {"tokens": shown, "limit": limit, "models": models},
                    provider,
                    "warning",
                    "example has {tokens} tokens, over the {limit}-token limit of {models}; "
                    "it will be truncated in training: shorten or split it",
                )
            )

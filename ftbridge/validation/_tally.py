"""What a scan records: its settings, its results, and how findings are counted.

Shared by the Python line checks (``_scan``) and the compiled block checker (``_compiled``).
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ._codes import CODES
from ._tokens import TokenCounter

#: A longer line is reported (``line.too_long``) and skipped without being held in memory.
MAX_LINE_BYTES = 16 << 20


class RawFinding(NamedTuple):
    """A finding before it is rendered: ``line`` is local to its range until ``_merge``."""

    line: int | None
    loc: str | None
    code: str
    args: Any
    provider: str | None  # None for the generic rules
    severity: str
    template: str | None  # a profile's message template; None: the generic code's text


class Rule(NamedTuple):
    """What a profile makes of a feature, as the scan applies it."""

    provider: str
    code: str
    severity: str
    template: str


class ExampleLimit(NamedTuple):
    """A provider's lowest per-example token limit and the models it belongs to."""

    provider: str
    limit: int
    models: str


@dataclass(slots=True)
class Spread:
    """Sum, minimum and maximum of a per-example quantity."""

    total: int = 0
    low: int = 1 << 62
    high: int = 0

    def add(self, total: int, low: int, high: int) -> None:
        self.total += total
        self.low = min(self.low, low)
        self.high = max(self.high, high)


@dataclass
class ScanConfig:
    """What a scan needs to know, picklable for worker processes."""

    expected: str | None = None
    first_line: int = 0
    wanted: frozenset[str] = frozenset()
    rules: dict[str, list[Rule]] = field(default_factory=dict)
    limits: list[int] = field(default_factory=list)  # sorted token limits to count against
    example_limits: list[ExampleLimit] = field(default_factory=list)
    max_findings: int = 1000
    max_line: int = MAX_LINE_BYTES
    counter: TokenCounter | None = None
    duplicates: Any = None  # set by a parallel run: duplicates found as the ranges came in


@dataclass
class ScanResult:
    """What the scan of one range found; line numbers are local to the range."""

    cap: int = 1000  # findings kept in full per (provider, severity)
    lines: int = 0
    examples: int = 0
    checked: int = 0  # examples whose statistics were counted
    expected: str | None = None
    first_line: int = 0
    findings: list[RawFinding] = field(default_factory=list)
    kept: dict[tuple[str | None, str], int] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    totals: dict[tuple[str | None, str], int] = field(default_factory=dict)
    error_lines: int = 0
    # duplicate keys (hash | length << 32), the line and the file offset of each example
    hashes: array[int] = field(default_factory=lambda: array("q"))
    hash_lines: array[int] = field(default_factory=lambda: array("q"))
    offsets: array[int] = field(default_factory=lambda: array("q"))
    msgs: Spread = field(default_factory=Spread)
    turns: Spread = field(default_factory=Spread)
    tokens: Spread = field(default_factory=Spread)
    trainable: int = 0
    without_system: int = 0
    over: dict[int, int] = field(default_factory=dict)  # token limit -> examples over it
    excess: dict[int, int] = field(default_factory=dict)  # token limit -> tokens over it

    def add(
        self,
        line: int | None,
        loc: str | None,
        code: str,
        args: Any,
        provider: str | None,
        severity: str,
        template: str | None,
    ) -> None:
        """Count a finding; keep it in full while under the cap for its provider and severity.

        Takes the fields rather than a RawFinding: most findings of a big file are only
        counted, so the record is built only for those kept.
        """
        key = (provider, severity)
        totals = self.totals
        totals[key] = totals.get(key, 0) + 1
        self.counts[code] = self.counts.get(code, 0) + 1
        kept = self.kept.get(key, 0)
        if kept < self.cap:
            self.kept[key] = kept + 1
            self.findings.append(RawFinding(line, loc, code, args, provider, severity, template))


class PerExample:
    """Per-example numbers, appended cheaply and folded into a result now and then."""

    __slots__ = ("messages", "tokens", "trainable", "turns")

    #: Fold after this many examples.
    BATCH = 1 << 16

    def __init__(self) -> None:
        self.tokens, self.trainable = array("q"), array("q")
        self.messages, self.turns = array("q"), array("q")

    def fold_into(self, r: ScanResult) -> None:
        tok = self.tokens
        if not tok:
            return
        r.checked += len(tok)
        r.trainable += sum(self.trainable)
        for acc, values in ((r.tokens, tok), (r.msgs, self.messages), (r.turns, self.turns)):
            acc.add(sum(values), min(values), max(values))
        for values in (tok, self.trainable, self.messages, self.turns):
            del values[:]


def flush_findings(
    r: ScanResult, ln: int, out: list[Any], feats: list[Any], rules: dict[str, list[Rule]]
) -> None:
    """Turn one record's generic findings (``out``) and features (``feats``) into findings."""
    had_error = False
    for loc, code, args in out:
        sev = CODES[code][0]
        had_error = had_error or sev == "error"
        r.add(ln, loc, code, args, None, sev, None)
    for loc, feat, args in feats:
        for provider, code, severity, template in rules.get(feat, ()):
            r.add(ln, loc, code, args, provider, severity, template)
    if had_error:
        r.error_lines += 1
    out.clear()
    feats.clear()


def line_finding(r: ScanResult, ln: int, code: str, args: Any) -> None:
    sev = CODES[code][0]
    r.add(ln, None, code, args, None, sev, None)
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


_TOKEN_LIMIT = (
    "example has {tokens} tokens, over the {limit}-token limit of {models}; "
    "it will be truncated in training: shorten or split it"
)


def over_limit(r: ScanResult, cfg: ScanConfig, ln: int, tokens: int, exact: bool) -> None:
    """Count an example over some token limit, and warn for the providers it exceeds."""
    for limit in cfg.limits:
        if tokens > limit:
            r.over[limit] = r.over.get(limit, 0) + 1
            r.excess[limit] = r.excess.get(limit, 0) + tokens - limit
    shown = str(tokens) if exact else f"~{tokens}"
    for el in cfg.example_limits:
        if tokens > el.limit:
            args = {"tokens": shown, "limit": el.limit, "models": el.models}
            code = f"{el.provider}.token_limit"
            r.add(ln, None, code, args, el.provider, "warning", _TOKEN_LIMIT)

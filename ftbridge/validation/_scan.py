"""Scan a byte range of a JSONL file: split lines, parse, check, count.

This is the hot path. Lines are cut from large chunks at the bytes level and parsed with
orjson straight from a memoryview (no copy, no decode); the common chat record goes through
the fast branch of the chat checks; findings are kept as plain tuples and rendered later.
A range's line numbers are local (1-based from its start); ``_run`` adds the offsets.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any
from zlib import crc32

import orjson

from . import _fast
from ._chat import ChatContext, check_chat_record, check_messages
from ._codes import CODES, type_name
from ._formats import check_instruction, check_preference, check_text, detect
from ._tokens import TokenCounter

CHUNK_BYTES = 4 << 20
#: A longer line is reported (``line.too_long``) and skipped without being held in memory.
MAX_LINE_BYTES = 16 << 20
_BOM = b"\xef\xbb\xbf"

# (line, loc, code, args, provider, severity, message template or None for generic codes)
RawFinding = tuple[int | None, str | None, str, Any, str | None, str, str | None]
Rule = tuple[str, str, str, str]  # provider, code, severity, message template

CHECKERS: dict[str, Callable[[dict[str, Any], ChatContext], tuple[int, int, int, int, bool]]] = {
    "chat": check_chat_record,
    "preference": check_preference,
    "instruction": check_instruction,
    "text": check_text,
}


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


def iter_lines(
    f: IO[bytes],
    start: int,
    end: int,
    max_line: int,
    on_chunk: Callable[[bytes, int], None] | None = None,
) -> Iterator[tuple[memoryview | None, int, int]]:
    """Yield ``(line, complete, offset)`` for the lines in ``[start, end)``.

    ``line`` is a read-only memoryview without the newline; ``complete`` is 1 when a newline
    ended it, 0 for a last line without one; ``offset`` is where it starts in the file. A line
    longer than ``max_line`` yields ``(None, size, offset)`` and is skipped without being held
    in memory.
    """
    f.seek(start)
    pos = start
    pieces: list[bytes] = []  # a line that spans chunks
    pending = 0
    skipping = -1  # >= 0 while inside a too-long line: its size so far
    line_start = start
    while pos < end:
        data = f.read(min(CHUNK_BYTES, end - pos))
        if not data:
            break
        base = pos
        pos += len(data)
        if on_chunk is not None:
            on_chunk(data, pos - start)
        i = 0
        if skipping >= 0 or pieces:
            nl = data.find(b"\n")
            if nl < 0:
                if skipping >= 0:
                    skipping += len(data)
                else:
                    pending += len(data)
                    if pending > max_line:
                        skipping, pieces = pending, []
                    else:
                        pieces.append(data)
                continue
            if skipping >= 0:
                yield None, skipping + nl, line_start
                skipping = -1
            else:
                pieces.append(data[:nl])
                line = b"".join(pieces)
                pieces, pending = [], 0
                if len(line) > max_line:
                    yield None, len(line), line_start
                else:
                    yield memoryview(line), 1, line_start
            i = nl + 1
        mv = memoryview(data)
        find = data.find
        while True:
            nl = find(b"\n", i)
            if nl < 0:
                break
            if nl - i > max_line:
                yield None, nl - i, base + i
            else:
                yield mv[i:nl], 1, base + i
            i = nl + 1
        if i < len(data):
            line_start = base + i
            pending = len(data) - i
            if pending > max_line:
                skipping = pending
            else:
                pieces = [data[i:]]
    if skipping >= 0:
        yield None, skipping, line_start
    elif pieces:
        yield memoryview(b"".join(pieces)), 0, line_start


def scan(
    f: IO[bytes],
    start: int,
    end: int,
    cfg: ScanConfig,
    on_chunk: Callable[[bytes, int], None] | None = None,
) -> ScanResult:
    """Check every line of ``[start, end)``; ``on_chunk`` sees the raw bytes (hash, progress)."""
    r = ScanResult()
    r._cap = cfg.max_findings
    r.expected, r.first_line = cfg.expected, cfg.first_line
    ctx = ChatContext(cfg.wanted)
    out, feats = ctx.out, ctx.feats
    rules = cfg.rules
    loads = orjson.loads
    decode_error = orjson.JSONDecodeError
    counter = cfg.counter
    lowest = cfg.limits[0] if cfg.limits else 1 << 62
    add_hash, add_line, add_offset = r.hashes.append, r.hash_lines.append, r.offsets.append
    tok_arr, train_arr, msg_arr, turn_arr = array("q"), array("q"), array("q"), array("q")
    add_tok, add_train, add_msg, add_turn = (
        tok_arr.append,
        train_arr.append,
        msg_arr.append,
        turn_arr.append,
    )
    without_system = examples = 0
    fast_chat = cfg.expected == "chat"
    # the typed fast path (see _fast); a tokenizer counts the parsed record, so it goes without
    use_fast = counter is None and _fast.ENABLED
    ff = _fast.FastFeatures(cfg.wanted)
    check_fast, decode_chat, DecodeError = _fast.check_fast, _fast.decode_chat, _fast.DecodeError
    ln = 0
    for raw, complete, offset in iter_lines(f, start, end, cfg.max_line, on_chunk):
        ln += 1
        if raw is None:
            examples += 1
            _line_finding(r, ln, "line.too_long", {"size": complete, "limit": cfg.max_line})
            continue
        if ln == 1 and start == 0 and raw[:3] == _BOM:
            _line_finding(r, ln, "line.bom", None)
            raw = raw[3:]
            offset += 3
        res = None
        if fast_chat and use_fast:
            try:  # noqa: SIM105 - suppress() costs a call per line here
                res = check_fast(decode_chat(raw), ctx, ff)
            except DecodeError:
                pass  # not the common shape: the detailed checks below say why
        if res is None:
            try:
                rec = loads(raw)
            except decode_error as exc:
                if not _bad_line(r, ln, raw, complete, exc):
                    examples += 1
                continue
            if type(rec) is not dict:
                examples += 1
                _line_finding(r, ln, "record.not_object", {"found": type_name(rec)})
                continue
        examples += 1
        # duplicates: length and CRC-32 now, confirmed byte by byte when two keys meet
        add_hash(crc32(raw) | (len(raw) << 32))
        add_line(ln)
        add_offset(offset)
        if res is not None:
            n, chars, tchars, users, has_system = res
            if not has_system:
                without_system += 1
            fmt = "chat"
        elif fast_chat and (msgs := rec.get("messages")) is not None and len(rec) == 1:
            n, chars, tchars, users, has_system = check_messages(msgs, ctx, "messages", True)
            if not has_system:
                without_system += 1
            fmt = "chat"
        else:
            fmt_found = detect(rec)
            if fmt_found is None:
                _line_finding(r, ln, "record.unknown_format", {"keys": sorted(rec)[:8]})
                continue
            if isinstance(fmt_found, tuple):
                _line_finding(r, ln, "record.ambiguous_format", {"keys": sorted(rec)[:8]})
                continue
            fmt = fmt_found
            if r.expected is None:
                r.expected, r.first_line = fmt, ln
                fast_chat = fmt == "chat"
            elif fmt != r.expected:
                _line_finding(
                    r,
                    ln,
                    "record.mixed_format",
                    {"found": fmt, "expected": r.expected, "first_line": r.first_line},
                )
                continue
            n, chars, tchars, users, has_system = CHECKERS[fmt](rec, ctx)
            if fmt == "chat" and not has_system:
                without_system += 1
        if out or feats:
            _flush(r, ln, out, feats, rules)
        if counter is None:
            tokens = chars // 4 + 3 * n + 3
            trainable = tchars // 4
        else:
            try:
                tokens, trainable = counter.count(rec, fmt)
            except Exception:  # a record the tokenizer cannot render still gets counted
                tokens, trainable = chars // 4 + 3 * n + 3, tchars // 4
        # per-record numbers go to arrays (cheap appends) and are folded in C now and then
        add_tok(tokens)
        add_train(trainable)
        add_msg(n)
        add_turn(users)
        if tokens > lowest:
            _over_limit(r, cfg, ln, tokens, counter is not None)
        if len(tok_arr) >= _FOLD:
            _fold(r, tok_arr, train_arr, msg_arr, turn_arr)
    _fold(r, tok_arr, train_arr, msg_arr, turn_arr)
    r.lines = ln
    r.examples = examples
    r.without_system = without_system
    return r


_FOLD = 1 << 16


def _fold(
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


def _flush(
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


def _line_finding(r: ScanResult, ln: int, code: str, args: Any) -> None:
    sev = CODES[code][0]
    r.add((ln, None, code, args, None, sev, None))
    if sev == "error":
        r.error_lines += 1


def _bad_line(r: ScanResult, ln: int, raw: memoryview, complete: int, exc: Exception) -> bool:
    """Report a line orjson refused; True when it was merely blank."""
    data = bytes(raw)
    if not data.strip():
        _line_finding(r, ln, "line.blank", None)
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as bad:
        _line_finding(r, ln, "line.invalid_utf8", {"column": bad.start + 1})
        return False
    if not complete:
        _line_finding(r, ln, "line.truncated", None)
    else:
        _line_finding(r, ln, "line.invalid_json", {"detail": str(exc)})
    return False


def _over_limit(r: ScanResult, cfg: ScanConfig, ln: int, tokens: int, exact: bool) -> None:
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

"""Scan a byte range of a JSONL file: split lines, parse, check, count.

This is the hot path. Lines are cut from large chunks at the bytes level and parsed with
orjson straight from a memoryview (no copy, no decode); the common chat record goes through
the fast branch of the chat checks; findings are kept as plain tuples and rendered later.
A range's line numbers are local (1-based from its start); ``_run`` adds the offsets.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import IO, Any

import orjson

from . import _compiled, _fast
from ._chat import ChatContext, check_chat_record, check_messages
from ._codes import type_name
from ._estimate import tokens as estimate_tokens
from ._formats import check_instruction, check_preference, check_text, detect
from ._tally import (
    PerExample,
    ScanConfig,
    ScanResult,
    bad_line,
    flush_findings,
    line_finding,
    over_limit,
)

CHUNK_BYTES = 4 << 20
_BOM = b"\xef\xbb\xbf"

#: What every record check returns: (messages, characters, trainable characters, user turns,
#: has a system message).
Counts = tuple[int, int, int, int, bool]

CHECKERS: dict[str, Callable[[dict[str, Any], ChatContext], Counts]] = {
    "chat": check_chat_record,
    "preference": check_preference,
    "instruction": check_instruction,
    "text": check_text,
}


#: What :func:`iter_pieces` yields: a block of complete lines (``kind`` BLOCK) or one line
#: (``kind`` 1 when a newline ended it, 0 for a last line without one, or the size of a line
#: too long to hold, with ``None`` for the view).
BLOCK = -1


def iter_pieces(
    f: IO[bytes],
    start: int,
    end: int,
    max_line: int,
    on_chunk: Callable[[bytes, int], None] | None = None,
) -> Iterator[tuple[memoryview | None, int, int]]:
    """Yield ``(view, kind, offset)`` covering the lines of ``[start, end)`` in order.

    Most of a chunk comes as one BLOCK: a read-only view of complete lines, each ending in a
    newline. A line that spans chunks comes alone, without its newline; a line longer than
    ``max_line`` comes as ``(None, size, offset)`` and is skipped without being held in memory.
    ``offset`` is where the piece starts in the file.
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
        last = data.rfind(b"\n")
        if last >= i:
            yield memoryview(data)[i : last + 1], BLOCK, base + i
            i = last + 1
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


def split_block(
    block: memoryview, offset: int, max_line: int
) -> Iterator[tuple[memoryview | None, int, int]]:
    """The lines of a BLOCK that starts at ``offset``, as :func:`iter_lines` yields them."""
    data = bytes(block)  # bytes can be searched; a chunk's copy costs far less than the checks
    mv = memoryview(data)
    find = data.find
    i = 0
    while (nl := find(b"\n", i)) >= 0:
        if nl - i > max_line:
            yield None, nl - i, offset + i
        else:
            yield mv[i:nl], 1, offset + i
        i = nl + 1


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
    for view, kind, offset in iter_pieces(f, start, end, max_line, on_chunk):
        if kind == BLOCK:
            yield from split_block(view, offset, max_line)  # type: ignore[arg-type]
        else:
            yield view, kind, offset


def scan(
    f: IO[bytes],
    start: int,
    end: int,
    cfg: ScanConfig,
    on_chunk: Callable[[bytes, int], None] | None = None,
) -> ScanResult:
    """Check every line of ``[start, end)``; ``on_chunk`` sees the raw bytes (hash, progress).

    Blocks of lines go to the compiled checker when it is built (see ``_compiled``), which
    hands back the lines it cannot vouch for; those, and every line when it is not built or a
    tokenizer counts the tokens, go through the Python checks (:meth:`RangeScan.line`).
    """
    rs = RangeScan(cfg, start)
    ln = 0
    for view, kind, offset in iter_pieces(f, start, end, cfg.max_line, on_chunk):
        if kind != BLOCK:
            ln += 1
            rs.line(ln, view, kind, offset)
        elif rs.block_checker is not None:
            assert view is not None
            ln = rs.compiled_block(view, offset, ln)
        else:
            assert view is not None
            ln = rs.python_block(view, offset, ln)
    return rs.finish(ln)


class RangeScan:
    """The checks of one range and what they have counted so far.

    Three ways to check a line, chosen per line: the compiled checker takes whole blocks
    (:meth:`compiled_block`); in Python, the typed fast path (:meth:`typed`) takes the common
    chat record and the detailed checks (:meth:`detailed`) everything else, with the findings.
    """

    def __init__(self, cfg: ScanConfig, start: int) -> None:
        self.cfg = cfg
        self.start = start
        r = self.result = ScanResult(cap=cfg.max_findings)
        r.expected, r.first_line = cfg.expected, cfg.first_line
        self.ctx = ChatContext(cfg.wanted)
        self.counter = cfg.counter
        self.lowest = cfg.limits[0] if cfg.limits else 1 << 62
        self.examples = 0
        self.without_system = 0
        self.per_example = PerExample()
        self.block_checker = _compiled.for_scan(r, cfg)
        self.line_hash = _compiled.line_hash_for(self.block_checker)
        #: The file is chat (so far as known): the chat fast paths apply.
        self.chat = cfg.expected == "chat"
        # the typed fast path (see _fast); a tokenizer counts the parsed record, so it goes without
        self.use_typed = self.counter is None and _fast.ENABLED
        self.fast_features = _fast.FastFeatures(cfg.wanted)

    # -- blocks of complete lines --------------------------------------------------------------

    def compiled_block(self, view: memoryview, offset: int, ln: int) -> int:
        """Check a block with the compiled checker; returns the last line number."""
        assert self.block_checker is not None
        if not self.chat:
            # the compiled checks are for chat records: lines go one by one until one says
            # that the file is chat, and the rest of the block goes to them
            for raw, size, at in split_block(view, offset, self.cfg.max_line):
                ln += 1
                self.line(ln, raw, size, at)
                if self.chat:
                    skip = at - offset + (size if raw is None else len(raw)) + 1
                    view, offset = view[skip:], offset + skip
                    break
            if not self.chat or not view:
                return ln
        lines, checked, missing = self.block_checker.check(view, offset, ln, self.line)
        self.examples += checked
        self.without_system += missing
        return ln + lines

    def python_block(self, view: memoryview, offset: int, ln: int) -> int:
        """Check a block line by line in Python; returns the last line number."""
        line = self.line
        for raw, size, at in split_block(view, offset, self.cfg.max_line):
            ln += 1
            line(ln, raw, size, at)
        return ln

    # -- one line in Python --------------------------------------------------------------------

    def line(self, ln: int, raw: memoryview | None, complete: int, offset: int) -> None:
        """The Python checks of one line: the typed fast path, else the detailed checks."""
        r, cfg = self.result, self.cfg
        # a line that is not a JSON object is reported, and is not counted as an example
        if raw is None:
            line_finding(r, ln, "line.too_long", {"size": complete, "limit": cfg.max_line})
            return
        if len(raw) > cfg.max_line:  # a block's line (blocks are not cut at max_line)
            line_finding(r, ln, "line.too_long", {"size": len(raw), "limit": cfg.max_line})
            return
        if ln == 1 and self.start == 0 and raw[:3] == _BOM:
            line_finding(r, ln, "line.bom", None)
            raw = raw[3:]
            offset += 3
        counts = self.typed(raw) if self.chat and self.use_typed else None
        if counts is not None:
            self.count(ln, raw, offset, counts, "chat", None)
        else:
            self.detailed(ln, raw, complete, offset)

    def typed(self, raw: memoryview) -> Counts | None:
        """The common chat record, decoded into types; None when it is not of that shape."""
        try:
            return _fast.check_fast(_fast.decode_chat(raw), self.ctx, self.fast_features)
        except _fast.DecodeError:
            return None  # not the common shape: the detailed checks say why

    def detailed(self, ln: int, raw: memoryview, complete: int, offset: int) -> None:
        """Parse and check a line with every rule, noting each finding."""
        r = self.result
        try:
            rec = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            bad_line(r, ln, raw, complete, exc)
            return
        if type(rec) is not dict:
            line_finding(r, ln, "record.not_object", {"found": type_name(rec)})
            return
        if self.chat and (msgs := rec.get("messages")) is not None and len(rec) == 1:
            counts = check_messages(msgs, self.ctx, "messages", True)
            self.count(ln, raw, offset, counts, "chat", rec)
            return
        fmt = detect(rec)
        if fmt is None or isinstance(fmt, tuple):
            self.examples += 1
            self._key_hash(ln, raw, offset)
            code = "record.unknown_format" if fmt is None else "record.ambiguous_format"
            line_finding(r, ln, code, {"keys": sorted(rec)[:8]})
            return
        if r.expected is None:
            r.expected, r.first_line = fmt, ln
            self.chat = fmt == "chat"
        elif fmt != r.expected:
            self.examples += 1
            self._key_hash(ln, raw, offset)
            args = {"found": fmt, "expected": r.expected, "first_line": r.first_line}
            line_finding(r, ln, "record.mixed_format", args)
            return
        self.count(ln, raw, offset, CHECKERS[fmt](rec, self.ctx), fmt, rec)

    def _key_hash(self, ln: int, raw: memoryview, offset: int) -> None:
        """Note the example's duplicate key (length and hash, confirmed byte by byte later)."""
        r = self.result
        r.hashes.append(self.line_hash(raw) | (len(raw) << 32))
        r.hash_lines.append(ln)
        r.offsets.append(offset)

    def count(
        self,
        ln: int,
        raw: memoryview,
        offset: int,
        counts: Counts,
        fmt: str,
        rec: dict[str, Any] | None,
    ) -> None:
        """Count a checked example: findings, duplicate key, tokens, messages, turns."""
        r, ctx = self.result, self.ctx
        self.examples += 1
        self._key_hash(ln, raw, offset)
        n, chars, tchars, users, has_system = counts
        if fmt == "chat" and not has_system:
            self.without_system += 1
        if ctx.out or ctx.feats:
            flush_findings(r, ln, ctx.out, ctx.feats, self.cfg.rules)
        counter = self.counter
        if counter is None:  # the estimate (see _estimate), inlined
            tokens, trainable = chars // 4 + 3 * n + 3, tchars // 4
        else:
            assert rec is not None  # with a tokenizer every line takes the detailed checks
            try:
                tokens, trainable = counter.count(rec, fmt)
            except Exception:  # a record the tokenizer cannot render still gets counted
                tokens, trainable = estimate_tokens(chars, n), tchars // 4
        # per-example numbers go to arrays (cheap appends) and are folded in C now and then
        pe = self.per_example
        pe.tokens.append(tokens)
        pe.trainable.append(trainable)
        pe.messages.append(n)
        pe.turns.append(users)
        if tokens > self.lowest:
            over_limit(r, self.cfg, ln, tokens, counter is not None)
        if len(pe.tokens) >= PerExample.BATCH:
            pe.fold_into(r)

    def finish(self, lines: int) -> ScanResult:
        r = self.result
        self.per_example.fold_into(r)
        r.lines = lines
        r.examples = self.examples
        r.without_system = self.without_system
        return r

"""Scan a byte range of a JSONL file: split lines, parse, check, count.

This is the hot path. Lines are cut from large chunks at the bytes level and parsed with
orjson straight from a memoryview (no copy, no decode); the common chat record goes through
the fast branch of the chat checks; findings are kept as plain tuples and rendered later.
A range's line numbers are local (1-based from its start); ``_run`` adds the offsets.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterator
from typing import IO, Any

import orjson

from . import _compiled, _fast
from ._chat import ChatContext, check_chat_record, check_messages
from ._codes import type_name
from ._formats import check_instruction, check_preference, check_text, detect
from ._tally import (
    ScanConfig,
    ScanResult,
    bad_line,
    flush_findings,
    fold,
    line_finding,
    over_limit,
)

CHUNK_BYTES = 4 << 20
_BOM = b"\xef\xbb\xbf"

CHECKERS: dict[str, Callable[[dict[str, Any], ChatContext], tuple[int, int, int, int, bool]]] = {
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
    tokenizer counts the tokens, go through the Python checks in ``one`` below.
    """
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
    block_checker = _compiled.for_scan(r, cfg)
    line_hash = _compiled.line_hash_for(block_checker)
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

    def one(ln: int, raw: memoryview | None, complete: int, offset: int) -> None:
        """The Python checks of one line."""
        nonlocal examples, without_system, fast_chat
        # a line that is not a JSON object is reported, and is not counted as an example
        if raw is None:
            line_finding(r, ln, "line.too_long", {"size": complete, "limit": cfg.max_line})
            return
        if len(raw) > cfg.max_line:  # a block's line (blocks are not cut at max_line)
            line_finding(r, ln, "line.too_long", {"size": len(raw), "limit": cfg.max_line})
            return
        if ln == 1 and start == 0 and raw[:3] == _BOM:
            line_finding(r, ln, "line.bom", None)
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
                bad_line(r, ln, raw, complete, exc)
                return
            if type(rec) is not dict:
                line_finding(r, ln, "record.not_object", {"found": type_name(rec)})
                return
        examples += 1
        # duplicates: length and hash now, confirmed byte by byte when two keys meet
        add_hash(line_hash(raw) | (len(raw) << 32))
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
                line_finding(r, ln, "record.unknown_format", {"keys": sorted(rec)[:8]})
                return
            if isinstance(fmt_found, tuple):
                line_finding(r, ln, "record.ambiguous_format", {"keys": sorted(rec)[:8]})
                return
            fmt = fmt_found
            if r.expected is None:
                r.expected, r.first_line = fmt, ln
                fast_chat = fmt == "chat"
            elif fmt != r.expected:
                line_finding(
                    r,
                    ln,
                    "record.mixed_format",
                    {"found": fmt, "expected": r.expected, "first_line": r.first_line},
                )
                return
            n, chars, tchars, users, has_system = CHECKERS[fmt](rec, ctx)
            if fmt == "chat" and not has_system:
                without_system += 1
        if out or feats:
            flush_findings(r, ln, out, feats, rules)
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
            over_limit(r, cfg, ln, tokens, counter is not None)
        if len(tok_arr) >= _FOLD:
            fold(r, tok_arr, train_arr, msg_arr, turn_arr)

    ln = 0
    for view, kind, offset in iter_pieces(f, start, end, cfg.max_line, on_chunk):
        if kind != BLOCK:
            ln += 1
            one(ln, view, kind, offset)
            continue
        assert view is not None
        if block_checker is not None and not fast_chat:
            # the compiled checks are for chat records: lines go one by one until one says
            # that the file is chat, and the rest of the block goes to them
            for raw, size, at in split_block(view, offset, cfg.max_line):
                ln += 1
                one(ln, raw, size, at)
                if fast_chat:
                    skip = at - offset + (size if raw is None else len(raw)) + 1
                    view, offset = view[skip:], offset + skip
                    break
            if not fast_chat or not view:
                continue
        if block_checker is not None:
            lines, checked, missing = block_checker.check(view, offset, ln, one)
            ln += lines
            examples += checked
            without_system += missing
        else:
            for raw, size, at in split_block(view, offset, cfg.max_line):
                ln += 1
                one(ln, raw, size, at)
    fold(r, tok_arr, train_arr, msg_arr, turn_arr)
    r.lines = ln
    r.examples = examples
    r.without_system = without_system
    return r


_FOLD = 1 << 16

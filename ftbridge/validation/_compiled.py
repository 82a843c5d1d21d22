"""The compiled block checker (``_cscan.c``) and what its answers turn into.

``_cscan.scan_block`` checks a block of complete lines in C and vouches only for the common
chat record, exactly as the Python fast path (``_fast``) would accept it. It returns the
block's statistics and duplicate keys, the features the accepted lines noted (turned here into
the same ``feats`` the Python checks note) and the lines it hands back, which go through the
Python checks. The reports are the same whichever path a line took.

The extension is optional: where it is not built (no compiler at install time) or is stale,
every line goes through the Python checks, only slower.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable
from itertools import chain
from types import ModuleType
from typing import Any
from zlib import crc32

from . import _fast
from ._tally import ScanConfig, ScanResult, flush_findings, over_limit

_cscan: ModuleType | None
try:
    from . import _cscan  # type: ignore[attr-defined,no-redef]
except ImportError:  # not built: the Python checks do it all
    _cscan = None

#: The behaviour this Python code expects of the extension (``CSCAN_VERSION`` in the C file).
_VERSION = 1
#: Built and current. (A stale build, left by an editable install, is ignored.)
AVAILABLE = _cscan is not None and getattr(_cscan, "VERSION", None) == _VERSION
#: Off only to compare the paths in tests.
ENABLED = True

# The C side numbers features; these are their locations (under ``messages[i]``) and names.
_FEATURES = (
    ("weight", "message_key.weight"),
    ("tool_calls", "message_key.tool_calls"),
    ("tool_calls", "assistant.parallel_tool_calls"),
    ("content", "assistant.tool_calls_without_content"),
    ("role", "turns.system_not_first"),
    ("role", "role.tool"),
    ("role", "turns.consecutive"),  # with {"role": ...}
    ("role", "turns.first_not_user"),  # with {"role": ...}
)
_WITH_ROLE = 6
_ROLES = ("", "system", "user", "assistant", "tool")
# FastFeatures attributes in the C numbering
_FLAGS = (
    "weight_key",
    "calls_key",
    "parallel",
    "without_content",
    "system_not_first",
    "tool_role",
    "consecutive",
    "first_not_user",
)

LineCheck = Callable[[int, "memoryview | None", int, int], None]


class BlockChecker:
    """Checks blocks of one range for one scan; see :func:`for_scan`."""

    def __init__(self, r: ScanResult, cfg: ScanConfig) -> None:
        assert _cscan is not None
        ff = _fast.FastFeatures(cfg.wanted)
        self.flags = sum(1 << k for k, name in enumerate(_FLAGS) if getattr(ff, name))
        self.r = r
        self.cfg = cfg
        self.lowest = cfg.limits[0] if cfg.limits else 1 << 62
        self.scan_block = _cscan.scan_block
        #: The hash the duplicate keys use; lines checked in Python must use it too.
        self.line_hash: Callable[[Any], int] = _cscan.line_hash

    def check(
        self, block: memoryview, offset: int, before: int, one: LineCheck
    ) -> tuple[int, int, int]:
        """Check a block of complete lines that starts at file ``offset`` after line ``before``.

        Lines the C side hands back go to ``one(line, raw, complete, offset)``, in line order
        with the accepted lines' features. Returns (lines, examples accepted, of which without
        a system message); the rest of the accepted lines' statistics go straight into the result.
        """
        r, cfg = self.r, self.cfg
        lines, stats, hashes, hash_lines, offsets, events = self.scan_block(
            block, self.flags, before, offset, self.lowest, cfg.max_line
        )
        mark = len(r.hashes)
        feats: list[Any] = []
        for event in events:
            ln = event[0]
            if event[1] == 0:
                start, end = event[2], event[3]
                one(ln, block[start:end], 1, offset + start)
                continue
            found, tokens = event[2], event[3]
            for k in range(0, len(found), 3):
                i, feature, role = found[k], found[k + 1], found[k + 2]
                key, name = _FEATURES[feature]
                args = {"role": _ROLES[role]} if feature >= _WITH_ROLE else None
                feats.append((f"messages[{i}].{key}", name, args))
            if feats:
                flush_findings(r, ln, [], feats, cfg.rules)
            if tokens:
                over_limit(r, cfg, ln, tokens, False)
        if len(r.hashes) > mark:
            _merge_keys(r, mark, hashes, hash_lines, offsets)
        else:
            r.hashes.frombytes(hashes)
            r.hash_lines.frombytes(hash_lines)
            r.offsets.frombytes(offsets)
        checked = stats[0]
        if checked:
            r.checked += checked
            r.trainable += stats[4]
            for acc, (total, low, high) in (
                (r.tokens, stats[1:4]),
                (r.msgs, stats[5:8]),
                (r.turns, stats[8:11]),
            ):
                acc[0] += total
                acc[1] = min(acc[1], low)
                acc[2] = max(acc[2], high)
        return lines, checked, stats[11]


def _merge_keys(r: ScanResult, mark: int, hashes: bytes, lines: bytes, offsets: bytes) -> None:
    """Duplicate keys go in line order: merge the block's with those of its handed-back lines."""
    c_hashes, c_lines, c_offsets = array("q"), array("q"), array("q")
    c_hashes.frombytes(hashes)
    c_lines.frombytes(lines)
    c_offsets.frombytes(offsets)
    entries = sorted(
        zip(
            chain(c_lines, r.hash_lines[mark:]),
            chain(c_hashes, r.hashes[mark:]),
            chain(c_offsets, r.offsets[mark:]),
            strict=True,
        )
    )
    del r.hashes[mark:], r.hash_lines[mark:], r.offsets[mark:]
    r.hash_lines.extend(e[0] for e in entries)
    r.hashes.extend(e[1] for e in entries)
    r.offsets.extend(e[2] for e in entries)


def for_scan(r: ScanResult, cfg: ScanConfig) -> BlockChecker | None:
    """A block checker for this scan, or None when every line goes through Python.

    Only without a tokenizer (which counts the parsed records) and with the Python fast path
    on (the tests turn both off to compare with the detailed checks).
    """
    if not (AVAILABLE and ENABLED and _fast.ENABLED) or cfg.counter is not None:
        return None
    return BlockChecker(r, cfg)


def dup_probe() -> Callable[..., Any] | None:
    """The compiled duplicate-key lookup (see ``_duplicates``), or None."""
    if not (AVAILABLE and ENABLED and _fast.ENABLED):
        return None
    return _cscan.dup_probe  # type: ignore[union-attr]


def line_hash_for(checker: BlockChecker | None) -> Callable[[Any], int]:
    """The hash of duplicate keys: the C one alongside the block checker, else CRC-32."""
    return checker.line_hash if checker is not None else crc32

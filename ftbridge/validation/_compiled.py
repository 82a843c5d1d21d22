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
from typing import Any, NamedTuple
from zlib import crc32

from . import _fast
from ._tally import ScanConfig, ScanResult, flush_findings, over_limit

_cscan: ModuleType | None
try:
    from . import _cscan  # type: ignore[attr-defined,no-redef]
except ImportError:  # not built: the Python checks do it all
    _cscan = None

#: The behaviour this Python code expects of the extension (``CSCAN_VERSION`` in the C file).
_VERSION = 2
#: Built and current. (A stale build, left by an editable install, is ignored.)
AVAILABLE = _cscan is not None and getattr(_cscan, "VERSION", None) == _VERSION
#: Off only to compare the paths in tests.
ENABLED = True


class Feature(NamedTuple):
    """A feature the C side can note, as the Python checks note it."""

    wanted_by: str  # the ``FastFeatures`` attribute that asks for it
    key: str  # where it is, under ``messages[i]``
    name: str  # the feature profiles map to rules
    with_role: bool  # its arguments name the message's role


#: The C side's feature numbers (``F_*`` in ``_cscan.c``) and what each one is.
FEATURES: dict[int, Feature] = {
    0: Feature("weight_key", "weight", "message_key.weight", False),
    1: Feature("calls_key", "tool_calls", "message_key.tool_calls", False),
    2: Feature("parallel", "tool_calls", "assistant.parallel_tool_calls", False),
    3: Feature("without_content", "content", "assistant.tool_calls_without_content", False),
    4: Feature("system_not_first", "role", "turns.system_not_first", False),
    5: Feature("tool_role", "role", "role.tool", False),
    6: Feature("consecutive", "role", "turns.consecutive", True),
    7: Feature("first_not_user", "role", "turns.first_not_user", True),
}
#: The C side's role numbers.
ROLES: dict[int, str] = {0: "", 1: "system", 2: "user", 3: "assistant", 4: "tool"}


class BlockStats(NamedTuple):
    """The statistics ``scan_block`` returns for the lines it accepted, in its order."""

    examples: int
    tokens_total: int
    tokens_min: int
    tokens_max: int
    trainable: int
    messages_total: int
    messages_min: int
    messages_max: int
    turns_total: int
    turns_min: int
    turns_max: int
    without_system: int


#: ``scan_block`` events: ``(line, HANDED_BACK, start, end)`` for a line Python must check,
#: ``(line, ACCEPTED, features, tokens)`` for an accepted line with features or over a limit.
HANDED_BACK, ACCEPTED = 0, 1

LineCheck = Callable[[int, "memoryview | None", int, int], None]


class BlockChecker:
    """Checks blocks of one range for one scan; see :func:`for_scan`."""

    def __init__(self, r: ScanResult, cfg: ScanConfig) -> None:
        assert _cscan is not None
        ff = _fast.FastFeatures(cfg.wanted)
        self.flags = sum(1 << code for code, f in FEATURES.items() if getattr(ff, f.wanted_by))
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
        for ln, kind, a, b in events:
            if kind == HANDED_BACK:  # a, b: where the line starts and ends in the block
                one(ln, block[a:b], 1, offset + a)
                continue
            # accepted: a holds (message, feature, role) triples, b the tokens if over a limit
            for k in range(0, len(a), 3):
                f = FEATURES[a[k + 1]]
                args = {"role": ROLES[a[k + 2]]} if f.with_role else None
                feats.append((f"messages[{a[k]}].{f.key}", f.name, args))
            if feats:
                flush_findings(r, ln, [], feats, cfg.rules)
            if b:
                over_limit(r, cfg, ln, b, False)
        if len(r.hashes) > mark:
            _merge_keys(r, mark, hashes, hash_lines, offsets)
        else:
            r.hashes.frombytes(hashes)
            r.hash_lines.frombytes(hash_lines)
            r.offsets.frombytes(offsets)
        st = BlockStats._make(stats)
        if st.examples:
            r.checked += st.examples
            r.trainable += st.trainable
            r.tokens.add(st.tokens_total, st.tokens_min, st.tokens_max)
            r.msgs.add(st.messages_total, st.messages_min, st.messages_max)
            r.turns.add(st.turns_total, st.turns_min, st.turns_max)
        return lines, st.examples, st.without_system


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

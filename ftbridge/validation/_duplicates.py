"""Exact-duplicate detection across a whole file, in bounded memory."""

from __future__ import annotations

from array import array

from . import _compiled
from ._tally import RawFinding, ScanResult

#: Duplicate detection remembers this many distinct examples (bounded memory).
DUPLICATE_MEMORY = 400_000


class Duplicates:
    """Finds examples byte-identical to an earlier one, fed range by range in file order.

    Keys (length and a hash) of the first DUPLICATE_MEMORY distinct examples go into an
    open-addressing table made of two arrays: a few bytes per example instead of the ~100 a
    dict entry costs, so memory stays flat. Equal keys are confirmed by reading both lines.
    """

    def __init__(self, path: str, cap: int) -> None:
        self.path = path
        self.cap = cap
        self.count = 0
        self.checked = 0
        self.findings: list[RawFinding] = []
        self._stored = 0
        self._offset = 0  # lines before the next range
        self._mask = 0
        self._keys = array("q")
        self._where = array("q")
        self._firsts = array("q")  # line, offset of the first example with each key

    def _grow(self, wanted: int) -> None:
        slots = 1 << max(4, (min(wanted, DUPLICATE_MEMORY) * 2).bit_length())
        old = [(k, w) for k, w in zip(self._keys, self._where, strict=True) if k]
        self._mask = slots - 1
        self._keys = array("q", bytes(8 * slots))  # 0 = empty (a real key holds a length >= 2)
        self._where = array("q", bytes(8 * slots))
        for key, idx in old:
            slot = key & self._mask
            while self._keys[slot]:
                slot = (slot + 1) & self._mask
            self._keys[slot] = key
            self._where[slot] = idx

    def feed(self, res: ScanResult, size_hint: int = 0) -> None:
        """Add one range's keys (the ranges must come in file order)."""
        need = min(self._stored + len(res.hashes), DUPLICATE_MEMORY)
        if need * 2 > self._mask:
            self._grow(max(need, size_hint))
        probe = _compiled.dup_probe()
        if not res.hashes:
            candidates = []
        elif probe is not None:
            self._stored, checked, firsts, candidates = probe(
                self._keys,
                self._where,
                self._stored,
                DUPLICATE_MEMORY,
                self._offset,
                res.hashes,
                res.hash_lines,
                res.offsets,
            )
            self.checked += checked
            self._firsts.frombytes(firsts)
        else:
            candidates = self._probe(res)
        if candidates:
            self._confirm(candidates)
        self._offset += res.lines
        # the keys are no longer needed: free them while later ranges are still scanning
        res.hashes, res.hash_lines, res.offsets = array("q"), array("q"), array("q")

    def _probe(self, res: ScanResult) -> list[tuple[int, int, int, int]]:
        """Store the new keys; (earlier key's index, line, offset, length) for the others."""
        keys, where, firsts, mask = self._keys, self._where, self._firsts, self._mask
        offset = self._offset
        candidates = []
        for key, local_ln, pos in zip(res.hashes, res.hash_lines, res.offsets, strict=True):
            slot = key & mask
            while True:
                k = keys[slot]
                if k == 0 or k == key:
                    break
                slot = (slot + 1) & mask
            if k == 0:
                if self._stored < DUPLICATE_MEMORY:
                    keys[slot] = key
                    where[slot] = self._stored
                    firsts.append(local_ln + offset)
                    firsts.append(pos)
                    self._stored += 1
                    self.checked += 1
                continue
            self.checked += 1
            candidates.append((where[slot], local_ln, pos, key >> 32))
        return candidates

    def _confirm(self, candidates: list[tuple[int, int, int, int]]) -> None:
        """Count the candidates whose bytes equal the earlier example's."""
        firsts, offset = self._firsts, self._offset
        with open(self.path, "rb") as f:
            for idx, local_ln, pos, length in candidates:
                f.seek(firsts[2 * idx + 1])
                first = f.read(length)
                f.seek(pos)
                if first != f.read(length):
                    continue  # same length and hash, different bytes
                self.count += 1
                if len(self.findings) < self.cap:
                    args = {"first": firsts[2 * idx]}
                    self.findings.append(
                        RawFinding(
                            local_ln + offset, None, "record.duplicate", args, None, "warning", None
                        )
                    )

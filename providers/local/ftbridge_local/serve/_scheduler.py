"""Dynamic batching: requests for any adapters decoded together, joining as they arrive.

One worker thread owns the model. It takes every waiting request (up to ``max_batch``, and at
most ``max_loaded`` distinct adapters, so a batch never needs more adapters than memory holds),
loads the adapters they need, and decodes them together (:func:`run_batch`); a DoRA adapter's
requests get batches of their own. Requests that arrive while a batch runs join it at the next
step when they can (room under ``max_batch``, an adapter that fits), else start the next one.
A request whose client left is dropped before it starts, or leaves its batch at the next step.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from typing import Any

from ._adapters import AdapterRegistry
from ._decode import Row, run_batch

log = logging.getLogger("ftbridge.serve")


class BatchScheduler:
    """Queues rows and runs them in dynamic, mixed-adapter batches on one worker thread."""

    def __init__(
        self, registry: AdapterRegistry, *, max_batch: int, pad_id: int, eos_ids: set[int]
    ) -> None:
        self.registry = registry
        self.max_batch = max_batch
        self.pad_id = pad_id
        self.eos_ids = eos_ids
        self._queue: queue.Queue[Row | None] = queue.Queue()
        self._waiting: deque[Row] = deque()  # taken from the queue, left for a later batch
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._loop, name="ftbridge-serve-batches", daemon=True
        )
        self.batches = 0
        self.largest_batch = 0
        self._current: list[Row] = []
        self.abandoned = 0  # rows whose client left while they were decoding

    def stats(self) -> dict[str, int]:
        """Rows decoding now, rows waiting, and batches run so far (for ``/health``)."""
        return {
            "running": sum(1 for r in self._current if not r.done),
            "waiting": len(self._waiting) + self._queue.qsize(),
            "batches": self.batches,
            "largest_batch": self.largest_batch,
            "abandoned": self.abandoned,
        }

    def start(self) -> None:
        self._thread.start()

    def submit(self, row: Row) -> None:
        self._queue.put(row)

    def close(self) -> None:
        self._stop.set()
        for row in list(self._current):  # the running batch ends at its next step
            row.cancelled.set()
        self._queue.put(None)
        if self._thread.is_alive():
            self._thread.join(timeout=60)
        for row in [*self._waiting, *self._drain()]:
            row.emit(("error", 503, "the server is shutting down"))

    # -- the worker ---------------------------------------------------------------------------

    def _drain(self) -> list[Row]:
        rows: list[Row] = []
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return rows
            if item is not None:
                rows.append(item)

    def _is_dora(self, row: Row) -> bool:
        info = self.registry.known.get(row.adapter) if row.adapter is not None else None
        return bool(info and info.dora)

    def _next_batch(self) -> list[Row]:
        """The waiting rows that fit in one batch; the others wait, in order, for the next.

        PEFT cannot mix a DoRA adapter with others, so a batch is either mixed LoRA (and base)
        rows, or the rows of one DoRA adapter, whichever the oldest waiting row needs.
        """
        if not self._waiting:
            item = self._queue.get()
            if item is not None:
                self._waiting.append(item)
        self._waiting.extend(self._drain())
        batch: list[Row] = []
        adapters: set[str] = set()
        later: deque[Row] = deque()
        alone: str | None = None  # the DoRA adapter this batch is for
        while self._waiting and len(batch) < self.max_batch:
            row = self._waiting.popleft()
            if row.cancelled.is_set():
                continue
            if row.adapter is not None and row.adapter not in self.registry.known:
                row.emit(("error", 404, f"the model {row.adapter!r} was unloaded"))
                continue
            dora = self._is_dora(row)
            if not batch and dora:
                alone = row.adapter
            if (alone is not None and row.adapter != alone) or (alone is None and dora):
                later.append(row)
                continue
            if row.adapter is not None:
                if row.adapter not in adapters and len(adapters) >= self.registry.max_loaded:
                    later.append(row)
                    continue
                adapters.add(row.adapter)
            batch.append(row)
        later.extend(self._waiting)
        self._waiting = later
        return batch

    def _loop(self) -> None:
        while not self._stop.is_set():
            batch = self._next_batch()
            if not batch or self._stop.is_set():
                continue
            try:
                self._run(batch)
            except Exception as exc:  # the server stays up; these requests get the error
                log.exception("generation failed")
                for row in batch:
                    row.emit(("error", 500, f"generation failed: {type(exc).__name__}: {exc}"))

    def _run(self, batch: list[Row]) -> None:
        from peft import PeftModel

        started = time.perf_counter()
        with self.registry.lock:
            gone = [
                r for r in batch if r.adapter is not None and r.adapter not in self.registry.known
            ]
            for row in gone:  # unloaded since the batch was formed
                row.emit(("error", 404, f"the model {row.adapter!r} was unloaded"))
            batch = [r for r in batch if r not in gone]
            if not batch:
                return
            self.registry.ensure([r.adapter for r in batch if r.adapter is not None])
            model: Any = self.registry.model
            slots = None
            alone = batch[0].adapter if self._is_dora(batch[0]) else None
            if alone is not None:
                model.set_adapter(self.registry.slot(alone))  # it alone is active
            elif isinstance(model, PeftModel):
                slots = [self.registry.slot(r.adapter) for r in batch]
            in_use = {r.adapter for r in batch if r.adapter is not None}
            self._current = list(batch)

            def admit(room: int) -> list[tuple[Row, str | None]]:
                return self._admit(room, alone, in_use, mixed=slots is not None)

            failed: Exception | None = None
            try:
                most = run_batch(
                    model,
                    batch,
                    slots,
                    pad_id=self.pad_id,
                    eos_ids=self.eos_ids,
                    admit=admit,
                    max_rows=self.max_batch,
                )
            except Exception as exc:  # every row still going, joined ones too, gets the error
                failed, most = exc, 0
            finally:
                rows = self._current
                for row in rows:
                    row.done = True
                self.abandoned += sum(1 for r in rows if r.finish is None and r.cancelled.is_set())
                self._current = []
        if failed is not None:
            log.error("generation failed", exc_info=failed)
            message = f"generation failed: {type(failed).__name__}: {failed}"
            for row in rows:
                if row.finish is None:
                    row.emit(("error", 500, message))
            return
        self.batches += 1
        self.largest_batch = max(self.largest_batch, most)
        log.debug(
            "batch of %d rows (%d adapters) in %.2fs",
            len(rows),
            len({r.adapter for r in rows}),
            time.perf_counter() - started,
        )

    def _admit(
        self, room: int, alone: str | None, in_use: set[str], *, mixed: bool
    ) -> list[tuple[Row, str | None]]:
        """Waiting rows that can join the running batch now, oldest first, with their slots.

        Stops at the first row that cannot (another kind of batch, or one adapter too many), so
        no row is overtaken: it starts the next batch. Takes none while an adapter is being
        loaded or unloaded, so that the batch ends and lets it happen.
        """
        if self.registry.pending or self._stop.is_set():
            return []
        self._waiting.extend(self._drain())
        taken: list[Row] = []
        while self._waiting and len(taken) < room:
            row = self._waiting[0]
            if row.cancelled.is_set():
                self._waiting.popleft()
                continue
            if row.adapter is not None and row.adapter not in self.registry.known:
                self._waiting.popleft()
                row.emit(("error", 404, f"the model {row.adapter!r} was unloaded"))
                continue
            if alone is not None:
                fits = row.adapter == alone
            elif row.adapter is None:
                fits = True
            else:
                fits = (
                    mixed
                    and not self._is_dora(row)
                    and (row.adapter in in_use or len(in_use) < self.registry.max_loaded)
                )
            if not fits:
                break
            self._waiting.popleft()
            if row.adapter is not None and alone is None:
                in_use.add(row.adapter)
            taken.append(row)
        if not taken:
            return []
        self.registry.ensure([alone] if alone is not None else sorted(in_use))
        self._current += taken
        return [(r, self.registry.slot(r.adapter) if mixed else None) for r in taken]

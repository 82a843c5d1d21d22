"""The bar ``Job.wait`` shows on a terminal: the job's steps (when its provider reports them,
as a local training run does), with status, epoch and loss after the bar."""

from __future__ import annotations

from typing import IO

from ._models import JobSnapshot
from ._progress import Progress


class JobProgress:
    """``show(snapshot)`` after each poll, ``close()`` at the end; nothing when not enabled."""

    def __init__(self, job_id: str, *, enabled: bool | None, stream: IO[str] | None) -> None:
        self._bar = Progress(desc=job_id, unit="step", enabled=enabled, stream=stream)

    @property
    def enabled(self) -> bool:
        return self._bar.enabled

    def show(self, s: JobSnapshot) -> None:
        if not self._bar.enabled:
            return
        if s.step is not None:
            self._bar.set(s.step, s.total_steps)
        parts = [s.status.value + (f" ({s.raw_status})" if s.raw_status != s.status.value else "")]
        if s.epoch is not None:
            parts.append(f"epoch {s.epoch:.2f}")
        if s.loss is not None:
            parts.append(f"loss {s.loss:.4f}")
        self._bar.note(", ".join(parts))

    def write(self, text: str) -> None:
        """A line above the bar (a retry being announced, say)."""
        self._bar.write(text)

    def close(self) -> None:
        self._bar.close()

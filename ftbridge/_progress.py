"""One way to show progress on long work (validation, upload, wait, training, evaluation).

Built on ``tqdm``; shown only when the stream is a terminal, so piped and ``--json`` output stay
clean. Every long step uses :func:`progress` the same way::

    with progress(total=size, desc="validating", unit="B") as bar:
        ...
        bar.update(n)            # or bar.set(done) for an absolute position
        bar.note("retrying")     # the text after the bar
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any


def is_terminal(stream: IO[str] | None = None) -> bool:
    stream = stream if stream is not None else sys.stderr
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


class Progress:
    """A progress bar, or nothing at all when ``enabled`` is false."""

    def __init__(
        self,
        *,
        total: float | None = None,
        desc: str = "",
        unit: str = "it",
        enabled: bool | None = None,
        stream: IO[str] | None = None,
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = is_terminal(self.stream) if enabled is None else enabled
        self._bar: Any = None
        if self.enabled:
            from tqdm import tqdm

            scale = unit == "B"
            self._bar = tqdm(
                total=total,
                desc=desc,
                unit=unit,
                unit_scale=scale,
                unit_divisor=1024 if scale else 1000,
                file=self.stream,
                leave=False,
                dynamic_ncols=True,
            )

    def update(self, n: float = 1) -> None:
        if self._bar is not None:
            self._bar.update(n)
            self._show_end()

    def set(self, done: float, total: float | None = None) -> None:
        """Move to the absolute position ``done`` (and change the total when given)."""
        if self._bar is None:
            return
        if total is not None and total != self._bar.total:
            self._bar.total = total
        self._bar.update(done - self._bar.n)
        self._show_end()

    def _show_end(self) -> None:
        # tqdm redraws at most every 0.1 s: a step that ends sooner still shows its end
        bar = self._bar
        if bar.total and bar.n >= bar.total:
            bar.refresh()

    def note(self, text: str) -> None:
        """Text shown after the bar (a state, what is being retried...)."""
        if self._bar is not None:
            self._bar.set_postfix_str(text, refresh=True)

    def write(self, text: str) -> None:
        """A line above the bar (or on the stream when there is no bar)."""
        if self._bar is not None:
            self._bar.write(text, file=self.stream)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


@contextmanager
def progress(
    *,
    total: float | None = None,
    desc: str = "",
    unit: str = "it",
    enabled: bool | None = None,
    stream: IO[str] | None = None,
) -> Iterator[Progress]:
    bar = Progress(total=total, desc=desc, unit=unit, enabled=enabled, stream=stream)
    try:
        yield bar
    finally:
        bar.close()

"""Progress of an upload, for providers whose upload reports bytes (or reads a file we hand it).

    with upload_progress(path) as bar:
        client.files.create(file=(path.name, bar.reader(handle)), ...)     # bytes as read
        # or: sdk.upload(path, progress_callback=lambda e: bar.set(e.uploaded_bytes))

On a terminal it is the same tqdm bar as every long step (``ftbridge._progress``); piped, it
is nothing at all.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from ._progress import Progress


class _CountingReader(io.RawIOBase):
    """A binary file whose reads move the bar to the position read so far."""

    def __init__(self, raw: IO[bytes], bar: Progress) -> None:
        super().__init__()
        self._raw = raw
        self._bar = bar

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._raw.seekable()

    def readinto(self, buffer: Any) -> int:
        data = self._raw.read(len(buffer))
        buffer[: len(data)] = data
        self._bar.set(self._raw.tell())
        return len(data)

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        self._bar.set(self._raw.tell())
        return data

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()

    def fileno(self) -> int:
        return self._raw.fileno()

    @property
    def name(self) -> Any:
        return getattr(self._raw, "name", None)


class UploadProgress:
    """The bar of one upload: ``set(done)``, ``update(n)``, or ``reader(handle)``."""

    def __init__(self, bar: Progress) -> None:
        self._bar = bar

    def set(self, done: float, total: float | None = None) -> None:
        self._bar.set(done, total)

    def update(self, n: float) -> None:
        self._bar.update(n)

    def reader(self, handle: IO[bytes]) -> IO[bytes]:
        """``handle``, counting what is read from it."""
        return _CountingReader(handle, self._bar)  # type: ignore[return-value]


@contextmanager
def upload_progress(path: Path, total: int | None = None) -> Iterator[UploadProgress]:
    size = total if total is not None else path.stat().st_size
    bar = Progress(total=size, desc=f"uploading {path.name}", unit="B")
    try:
        yield UploadProgress(bar)
    finally:
        bar.close()

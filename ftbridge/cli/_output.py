"""Small output helpers shared by the commands, and the guard on standard output.

``print_json`` prints one indented JSON document; ``print_jsonl`` one compact object per line
(what ``events --json`` and ``--follow`` print, so a reader can take a line at a time).
``guarded_stdout`` turns a failed write to standard output (a closed pipe, a full disk) into
:class:`OutputError`, so ``main`` can answer it once for every command.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

import orjson


def print_json(obj: Any, stream: IO[str] | None = None) -> None:
    """Print one JSON document (pydantic models, datetimes and enums included)."""
    out = stream or sys.stdout
    out.write(_dumps(obj, orjson.OPT_INDENT_2))
    out.write("\n")


def print_jsonl(obj: Any, stream: IO[str] | None = None) -> None:
    """Print one compact JSON object on its own line, flushed (JSON Lines)."""
    out = stream or sys.stdout
    out.write(_dumps(obj, 0) + "\n")
    out.flush()


def _dumps(obj: Any, option: int) -> str:
    return orjson.dumps(obj, default=_default, option=option | orjson.OPT_NON_STR_KEYS).decode()


def _default(obj: Any) -> Any:
    dump = getattr(obj, "model_dump", None)
    if dump is not None:
        return dump(mode="json")
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    raise TypeError(f"cannot serialise {type(obj).__name__}")


class OutputError(Exception):
    """Writing to standard output failed; ``.error`` is the ``OSError``."""

    def __init__(self, error: OSError) -> None:
        super().__init__(str(error))
        self.error = error


class _GuardedStream:
    """Standard output whose write errors become :class:`OutputError` (everything else as is)."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except OSError as exc:
            raise OutputError(exc) from exc

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as exc:
            raise OutputError(exc) from exc

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@contextmanager
def guarded_stdout() -> Iterator[None]:
    real = sys.stdout
    sys.stdout = _GuardedStream(real)  # type: ignore[assignment]
    try:
        yield
        sys.stdout.flush()
    finally:
        sys.stdout = real


def discard_stdout() -> None:
    """After a failed write: send what is still buffered nowhere, so exit stays quiet."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return  # not a real file (tests capture it): nothing will be flushed at exit
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)

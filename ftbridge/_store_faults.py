"""What the job store says when its file is damaged, read-only or unreachable.

Opening the store turns SQLite's and the file system's errors into one :class:`StoreError`
that names the file and what to do. A row that cannot be decoded (a status no version of
ftbridge wrote, a snapshot that is not valid JSON) is reported in one warning line naming the
job, and skipped, so the other jobs still list.
"""

from __future__ import annotations

import errno
import logging
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from pydantic import ValidationError

from ._exceptions import StoreError

log = logging.getLogger("ftbridge")

T = TypeVar("T")

_READ_ONLY = (errno.EROFS, errno.EACCES, errno.EPERM)


def _advice(path: Path, exc: BaseException) -> str:
    text = str(exc).lower()
    if (isinstance(exc, OSError) and exc.errno in _READ_ONLY) or "readonly" in text:
        return (
            f"the job store {path} cannot be written ({_reason(exc)}): make it and its "
            "directory writable, or set FTBRIDGE_HOME to a writable directory"
        )
    if isinstance(exc, OSError):
        return (
            f"the job store {path} cannot be opened ({_reason(exc)}): check that its "
            "directory exists and can be written, or set FTBRIDGE_HOME to one that can"
        )
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return (
            f"the job store {path} is damaged ({_reason(exc)}): move it aside "
            f"(mv {path} {path}.damaged) and ftbridge starts a new, empty one; the jobs it "
            "recorded keep running at their providers"
        )
    if "unable to open" in text:
        return (
            f"the job store {path} cannot be opened ({_reason(exc)}): check that its "
            "directory exists and can be written, or set FTBRIDGE_HOME to one that can"
        )
    return f"the job store {path} cannot be used ({_reason(exc)})"


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


@contextmanager
def store_errors(path: Path) -> Iterator[None]:
    """``with store_errors(path): open and prepare the store`` -> a StoreError saying what to do."""
    try:
        yield
    except (sqlite3.DatabaseError, OSError) as exc:
        raise StoreError(_advice(path, exc), path=str(path)) from exc


def _row_name(row: sqlite3.Row) -> str:
    keys = row.keys()
    for column in ("id", "key", "job_key"):
        if column in keys and row[column]:
            return str(row[column])
    return "?"


def _problem(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(map(str, first["loc"])) or "value"
        return f"{exc.title} {where}: {first['msg']}"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


_DECODE_ERRORS = (ValueError, TypeError, KeyError, IndexError)  # ValidationError is a ValueError


def decode_row(row: sqlite3.Row, decode: Callable[[sqlite3.Row], T], path: Path) -> T:
    """One row that must be read (``get_job``): a damaged one is a StoreError naming the job."""
    try:
        return decode(row)
    except _DECODE_ERRORS as exc:
        name = _row_name(row)
        raise StoreError(
            f"job {name} in the job store {path} cannot be read ({_problem(exc)}); "
            "the other jobs are fine (`ftbridge jobs` lists them)",
            path=str(path),
        ) from exc


def decode_rows(
    rows: Iterable[sqlite3.Row],
    decode: Callable[[sqlite3.Row], T],
    path: Path,
    kind: str = "job",
) -> Iterator[T]:
    """Every row that can be read; each one that cannot is one warning naming the job
    (``kind``: "job", or "an event of job" for a row of a job's events)."""
    for row in rows:
        try:
            yield decode(row)
        except _DECODE_ERRORS as exc:
            log.warning(
                "ftbridge: skipped %s %s in the job store %s: it cannot be read (%s)",
                kind,
                _row_name(row),
                path,
                _problem(exc),
            )

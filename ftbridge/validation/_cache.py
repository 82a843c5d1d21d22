"""Validation results kept under ``$FTBRIDGE_HOME/validation``, so the same bytes are checked once.

The cache only ever saves work: a home that cannot be created, read or written (a read-only
file system, no permission) means validating again, never a failed validation.

A report is stored under the file's sha256 plus a key for everything else that shapes it (the
rules' version, the profiles' data, the tokenizer, ``max_length``). A small stat index maps a
file's path, size, mtime and inode to its sha256, so validating an unchanged file again does
not even read it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

import orjson

from .._paths import subdir

if TYPE_CHECKING:
    from ._report import ValidationReport


def _dir() -> Path | None:
    try:
        return subdir("validation")
    except OSError:  # no usable $FTBRIDGE_HOME: no cache, validation goes on
        return None


def report_key(*parts: object) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:20]


def load(sha256: str, key: str) -> ValidationReport | None:
    from pydantic import ValidationError  # imported here: a scan may be running meanwhile

    from ._report import ValidationReport

    where = _dir()
    if where is None:
        return None
    path = where / f"{sha256}-{key}.json"
    try:
        return ValidationReport.model_validate_json(path.read_bytes())
    except (OSError, ValidationError, ValueError):
        return None  # missing or unreadable: validate again


def store(report: ValidationReport, key: str) -> None:
    where = _dir()
    if where is not None:
        _write_atomic(where / f"{report.sha256}-{key}.json", report.model_dump_json().encode())


def _stat_file(path: str) -> Path | None:
    where = _dir()
    name = f"stat-{hashlib.sha1(os.path.abspath(path).encode()).hexdigest()}.json"
    return where / name if where is not None else None


def _signature(st: os.stat_result) -> list[int]:
    return [st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev]


def known_sha256(path: str, st: os.stat_result) -> str | None:
    """The sha256 recorded for this path if the file has not changed since."""
    stat_file = _stat_file(path)
    if stat_file is None:
        return None
    try:
        data = orjson.loads(stat_file.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    if isinstance(data, dict) and data.get("sig") == _signature(st):
        sha = data.get("sha256")
        return sha if isinstance(sha, str) else None
    return None


def remember_sha256(path: str, st: os.stat_result, sha256: str) -> None:
    stat_file = _stat_file(path)
    if stat_file is not None:
        _write_atomic(stat_file, orjson.dumps({"sig": _signature(st), "sha256": sha256}))


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError:  # a read-only home only costs a re-validation later
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)

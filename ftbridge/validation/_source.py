"""Turn what the user passed into a JSONL file on disk that can be checked and uploaded.

- a ``.jsonl`` path is used as it is;
- a ``.jsonl.gz`` path is decompressed (streaming) to ``$FTBRIDGE_HOME/datasets/<sha256>.jsonl``;
- an iterable of dicts is written, one compact JSON object per line, to the same place.

Either way the caller gets a path holding exactly the bytes that were validated.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import stat
import tempfile
import zlib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import orjson

from .._exceptions import DatasetReadError
from .._paths import subdir

Source = str | os.PathLike[str] | Iterable[Mapping[str, Any]]


def open_source(source: Any) -> tuple[Path, os.stat_result, str | None]:
    """(path of a plain JSONL file, its stat, its sha256 when already computed)."""
    if isinstance(source, (str, os.PathLike)):
        path = Path(source).expanduser()
        st = _stat(path)
        if path.name.endswith(".gz"):
            out, sha = _gunzip(path)
            return out, out.stat(), sha
        return path, st, None
    if isinstance(source, (bytes, bytearray, Mapping)) or not isinstance(source, Iterable):
        raise DatasetReadError(
            f"cannot read a dataset from a {type(source).__name__}; pass a path to a .jsonl file "
            "or an iterable of dicts"
        )
    out, sha = _write_records(source)
    return out, out.stat(), sha


def _stat(path: Path) -> os.stat_result:
    try:
        st = path.stat()
    except FileNotFoundError:
        raise DatasetReadError(f"dataset file not found: {path}") from None
    except OSError as exc:
        raise DatasetReadError(f"cannot read dataset file {path}: {exc.strerror or exc}") from exc
    if path.is_dir():
        raise DatasetReadError(f"{path} is a directory; pass the path of a .jsonl file")
    if not stat.S_ISREG(st.st_mode):  # a pipe reads as empty, /dev/zero never ends
        raise DatasetReadError(
            f"{path} is not a regular file (a pipe or a device); save the data to a .jsonl "
            "file and pass its path"
        )
    if not os.access(path, os.R_OK):
        raise DatasetReadError(f"no permission to read dataset file {path}")
    return st


def _finish(tmp: Path, sha: str) -> Path:
    final = tmp.with_name(f"{sha}.jsonl")
    if final.exists():
        tmp.unlink()
    else:
        os.replace(tmp, final)
    return final


def _tmp() -> Path:
    return _datasets_dir() / f".incoming-{os.getpid()}-{id(object())}.jsonl"


def _datasets_dir() -> Path:
    """``$FTBRIDGE_HOME/datasets``; without a writable home, a private temporary directory,
    so that validating a ``.gz`` file or records never needs a writable home."""
    try:
        return subdir("datasets")
    except OSError:
        return Path(tempfile.mkdtemp(prefix="ftbridge-datasets-"))


def _gunzip(path: Path) -> tuple[Path, str]:
    tmp = _tmp()
    h = hashlib.sha256()
    try:
        with gzip.open(path, "rb") as src, open(tmp, "wb") as dst:
            while chunk := src.read(4 << 20):
                h.update(chunk)
                dst.write(chunk)
    except (OSError, EOFError, zlib.error) as exc:
        tmp.unlink(missing_ok=True)
        raise DatasetReadError(
            f"cannot decompress {path}: {exc}; is it a complete .gz file?"
        ) from exc
    return _finish(tmp, h.hexdigest()), h.hexdigest()


def _write_records(records: Iterable[Any]) -> tuple[Path, str]:
    tmp = _tmp()
    h = hashlib.sha256()
    dumps = orjson.dumps
    try:
        with open(tmp, "wb") as dst:
            buf: list[bytes] = []
            for i, rec in enumerate(records, 1):
                try:
                    buf.append(dumps(rec) + b"\n")
                except TypeError as exc:
                    raise DatasetReadError(
                        f"record {i} cannot be written as JSON ({exc}); use strings, numbers, "
                        "booleans, None, lists and dicts only"
                    ) from exc
                if len(buf) >= 1024:
                    data = b"".join(buf)
                    h.update(data)
                    dst.write(data)
                    buf.clear()
            data = b"".join(buf)
            h.update(data)
            dst.write(data)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return _finish(tmp, h.hexdigest()), h.hexdigest()

"""The generation cache: one SQLite file under ``$FTBRIDGE_HOME/eval/``.

A generation is keyed by the model's identity (``handle.name``), the prompt messages and the
generation settings, so re-scoring a report, adding a scorer, or re-running an evaluation that
was interrupted calls no model for what is already known::

    cache = GenerationCache()                         # $FTBRIDGE_HOME/eval/generations.db
    key = cache.key(handle.name, messages, Generation(temperature=0, max_tokens=64))
    cache.get(key)                                    # a Generated, or None
    cache.put(key, handle.name, generated)            # only successful generations are kept

Only successful generations are stored (a failure is tried again next time), and nothing but the
model's name, the key (a digest) and the reply is written: no prompt text, no credentials.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from .._paths import subdir
from .._provider import Generation

_SCHEMA = """
CREATE TABLE IF NOT EXISTS generations (
    key TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    text TEXT NOT NULL,
    finish_reason TEXT,
    usage TEXT,
    seconds REAL,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS generations_model ON generations (model);
"""


@dataclass(frozen=True)
class Generated:
    """One model's reply to one prompt, or why there is none.

    ``text`` is None exactly when ``error`` says what failed; ``cached`` tells a reply read from
    the cache; ``seconds`` is the time the call took when it was made.
    """

    text: str | None
    error: str | None = None
    finish_reason: str | None = None
    usage: Mapping[str, Any] | None = field(default=None, compare=False)
    seconds: float = field(default=0.0, compare=False)
    cached: bool = field(default=False, compare=False)

    @property
    def ok(self) -> bool:
        return self.error is None


def settings_key(generation: Generation) -> dict[str, Any]:
    return generation.given()


class GenerationCache:
    """Cached generations in SQLite; safe to share between the threads of one process and
    between processes (WAL)."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else subdir("eval") / "generations.db"
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        new = not self.path.exists()
        self._conn = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
        if new:
            os.chmod(self.path, 0o600)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(_SCHEMA)

    @staticmethod
    def key(model: str, messages: Sequence[Mapping[str, Any]], generation: Generation) -> str:
        """The digest of (model identity, prompt messages, generation settings)."""
        payload = orjson.dumps(
            {
                "model": model,
                "messages": [dict(m) for m in messages],
                "settings": settings_key(generation),
            },
            option=orjson.OPT_SORT_KEYS,
        )
        return hashlib.sha256(payload).hexdigest()

    def get(self, key: str) -> Generated | None:
        return self.get_many([key]).get(key)

    def get_many(self, keys: Iterable[str]) -> dict[str, Generated]:
        wanted = list(dict.fromkeys(keys))
        found: dict[str, Generated] = {}
        with self._lock:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                rows = self._conn.execute(
                    "SELECT key, text, finish_reason, usage, seconds FROM generations "
                    f"WHERE key IN ({','.join('?' * len(chunk))})",
                    chunk,
                ).fetchall()
                for key, text, finish, usage, seconds in rows:
                    found[key] = Generated(
                        text=text,
                        finish_reason=finish,
                        usage=orjson.loads(usage) if usage else None,
                        seconds=seconds or 0.0,
                        cached=True,
                    )
        return found

    def put(self, key: str, model: str, generated: Generated) -> None:
        """Store a successful generation (a failed one is ignored: it is retried next time)."""
        if not generated.ok or generated.text is None:
            return
        usage = orjson.dumps(dict(generated.usage)).decode() if generated.usage else None
        with self._lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO generations VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    key,
                    model,
                    generated.text,
                    generated.finish_reason,
                    usage,
                    generated.seconds,
                    time.time(),
                ),
            )
            self._conn.commit()

    def count(self, model: str | None = None) -> int:
        with self._lock:
            if model is None:
                row = self._conn.execute("SELECT COUNT(*) FROM generations").fetchone()
            else:
                row = self._conn.execute(
                    "SELECT COUNT(*) FROM generations WHERE model = ?", (model,)
                ).fetchone()
        return int(row[0])

    def clear(self, model: str | None = None) -> int:
        """Forget every generation (of ``model`` when given); returns how many."""
        with self._lock:
            if model is None:
                cur = self._conn.execute("DELETE FROM generations")
            else:
                cur = self._conn.execute("DELETE FROM generations WHERE model = ?", (model,))
            self._conn.commit()
        return cur.rowcount

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> GenerationCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

"""The job store: SQLite at ``$FTBRIDGE_HOME/jobs.db`` (WAL, numbered migrations, mode 0600).

It holds what is needed to follow a job from any process: the spec (never a secret), the
idempotency key recorded *before* the remote create, the last snapshot, and every event seen.
Several processes may poll and write the same job: writes are short transactions, events are
de-duplicated by their id, and a terminal status is never overwritten by an older, live one.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import orjson
from pydantic import BaseModel

from ._models import Event, JobSnapshot, JobSpec, JobStatus, MetricPoint, utcnow
from ._paths import home, home_path
from ._secrets import scrub
from ._store_faults import decode_row, decode_rows, store_errors

MIGRATIONS: tuple[str, ...] = (
    # 1: jobs, events, metrics
    """
    CREATE TABLE jobs (
        key            TEXT PRIMARY KEY,
        id             TEXT UNIQUE,
        provider       TEXT NOT NULL,
        native_id      TEXT,
        spec           TEXT NOT NULL,
        dataset_sha256 TEXT NOT NULL,
        fingerprint    TEXT NOT NULL,
        status         TEXT NOT NULL,
        raw_status     TEXT,
        snapshot       TEXT,
        created_at     TEXT NOT NULL,
        updated_at     TEXT NOT NULL
    );
    CREATE INDEX jobs_by_provider_status ON jobs (provider, status);
    CREATE INDEX jobs_by_fingerprint ON jobs (fingerprint);
    CREATE TABLE events (
        job_key  TEXT NOT NULL REFERENCES jobs (key),
        event_id TEXT NOT NULL,
        seq      INTEGER NOT NULL,
        body     TEXT NOT NULL,
        PRIMARY KEY (job_key, event_id)
    );
    CREATE INDEX events_by_seq ON events (job_key, seq);
    CREATE TABLE metrics (
        job_key TEXT NOT NULL REFERENCES jobs (key),
        step    INTEGER NOT NULL,
        body    TEXT NOT NULL,
        PRIMARY KEY (job_key, step)
    );
    """,
    # 2: the lease on an intent's remote create (who creates it, until when: ftbridge._leases)
    """
    ALTER TABLE jobs ADD COLUMN lease_owner TEXT;
    ALTER TABLE jobs ADD COLUMN lease_expires REAL;
    """,
)


_WRITE_LOCKS: dict[str, threading.Lock] = {}


def _clean(model: BaseModel) -> str:
    """A row's JSON body, with every registered secret scrubbed (a key echoed in an error)."""
    return scrub(model.model_dump_json())


@dataclass(frozen=True)
class JobRecord:
    """One row of the store."""

    key: str
    id: str | None
    provider: str
    native_id: str | None
    spec: JobSpec
    fingerprint: str
    status: JobStatus
    snapshot: JobSnapshot | None
    created_at: datetime
    updated_at: datetime
    lease_owner: str | None = None
    lease_expires: float | None = None

    @property
    def is_intent(self) -> bool:
        """Recorded before the remote create, and not yet matched to a remote job."""
        return self.native_id is None


def _row_to_record(row: sqlite3.Row) -> JobRecord:
    snapshot = row["snapshot"]
    return JobRecord(
        key=row["key"],
        id=row["id"],
        provider=row["provider"],
        native_id=row["native_id"],
        spec=JobSpec.model_validate_json(row["spec"]),
        fingerprint=row["fingerprint"],
        status=JobStatus(row["status"]),
        snapshot=JobSnapshot.model_validate_json(snapshot) if snapshot else None,
        created_at=datetime.fromisoformat(row["created_at"]),
        updated_at=datetime.fromisoformat(row["updated_at"]),
        lease_owner=row["lease_owner"],
        lease_expires=row["lease_expires"],
    )


def _event(row: sqlite3.Row) -> Event:
    return Event.model_validate_json(row["body"])


def _metric(row: sqlite3.Row) -> MetricPoint:
    return MetricPoint.model_validate(orjson.loads(row["body"]))


_SQLITE_BUSY = 5  # SQLite's result code; sqlite3 names it from Python 3.11 on


def _busy(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)  # Python 3.11+
    return code == _SQLITE_BUSY if code is not None else "locked" in str(exc)


def _use_wal(conn: sqlite3.Connection, wait: float = 30.0) -> None:
    """Put the store in WAL mode. Switching needs the file to itself, and SQLite answers a
    second process (or thread) opening a new store at the same moment with "database is
    locked" at once, without its busy handler: wait for the other one instead."""
    deadline = time.monotonic() + wait
    while True:
        try:
            if str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if not _busy(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


class JobStore:
    """Thread-safe access to the job store; one connection per thread."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path else home_path() / "jobs.db"
        self._local = threading.local()
        with store_errors(self.path):  # damaged, read-only, unreachable: say so, and what to do
            if not path:
                home()  # created with mode 0700 on first use
            self._prepare()

    # -- connection and schema ----------------------------------------------------------------

    def _prepare(self) -> None:
        if not self.path.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600)
            os.close(fd)
        conn = self._conn()
        with self._write(conn):
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                for statement in filter(str.strip, script.split(";")):
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {number}")
        for suffix in ("", "-wal", "-shm"):
            side = Path(f"{self.path}{suffix}")
            if side.exists() and side.stat().st_mode & 0o077:
                side.chmod(0o600)

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            conn.row_factory = sqlite3.Row
            _use_wal(conn)
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA busy_timeout = 30000")
            self._local.conn = conn
        return conn

    @contextmanager
    def _write(self, conn: sqlite3.Connection | None = None) -> Iterator[sqlite3.Connection]:
        conn = conn or self._conn()
        # Threads of one process queue on a lock: SQLite's own busy handler would make them
        # sleep for milliseconds. Other processes still meet SQLite's lock (busy_timeout).
        lock = _WRITE_LOCKS.setdefault(str(self.path), threading.Lock())
        with store_errors(self.path), lock:  # a read-only store says so, naming the file
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # -- jobs -----------------------------------------------------------------------------------

    def record_intent(self, spec: JobSpec, fingerprint: str) -> JobRecord:
        """Record a job about to be created remotely (before the create is sent)."""
        now = utcnow().isoformat()
        with self._write() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO jobs (key, provider, spec, dataset_sha256, fingerprint,"
                " status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    spec.idempotency_key,
                    spec.provider,
                    _clean(spec),
                    spec.training.sha256,
                    fingerprint,
                    JobStatus.PENDING.value,
                    now,
                    now,
                ),
            )
        record = self.get_by_key(spec.idempotency_key)
        assert record is not None
        return record

    def open_intents(self, fingerprint: str) -> list[JobRecord]:
        """Intents with this fingerprint that never got a remote job id (oldest first)."""
        rows = self._conn().execute(
            "SELECT * FROM jobs WHERE fingerprint = ? AND native_id IS NULL ORDER BY created_at",
            (fingerprint,),
        )
        return list(decode_rows(rows, _row_to_record, self.path))

    def attach(self, key: str, snapshot: JobSnapshot) -> JobRecord:
        """Tie an intent to the remote job the provider created (or that reconcile found)."""
        with self._write() as conn:
            row = conn.execute("SELECT provider FROM jobs WHERE key = ?", (key,)).fetchone()
            if row is None:
                raise KeyError(key)
            conn.execute(
                "UPDATE jobs SET id = ?, native_id = ?, status = ?, raw_status = ?, snapshot = ?,"
                " updated_at = ? WHERE key = ?",
                (
                    f"{row['provider']}:{snapshot.native_id}",
                    snapshot.native_id,
                    snapshot.status.value,
                    snapshot.raw_status,
                    _clean(snapshot),
                    utcnow().isoformat(),
                    key,
                ),
            )
        record = self.get_by_key(key)
        assert record is not None
        return record

    def forget_intent(self, key: str) -> None:
        """Drop an intent whose create was refused outright (nothing exists remotely)."""
        with self._write() as conn:
            conn.execute("DELETE FROM jobs WHERE key = ? AND native_id IS NULL", (key,))

    def update_snapshot(
        self, key: str, snapshot: JobSnapshot, *, force: bool = False
    ) -> JobSnapshot:
        """Store a newer snapshot; returns the one now stored.

        A terminal status is never replaced by a live one (another process may have polled
        an older state and written it late), unless ``force`` (a resumed job).
        """
        body = _clean(snapshot)
        row = self._conn().execute("SELECT snapshot FROM jobs WHERE key = ?", (key,)).fetchone()
        if row is not None and row["snapshot"] == body:
            return snapshot  # nothing changed: no write, no lock
        with self._write() as conn:
            row = conn.execute("SELECT status, snapshot FROM jobs WHERE key = ?", (key,)).fetchone()
            if row is None:
                raise KeyError(key)
            stale = JobStatus(row["status"]).is_terminal and not snapshot.status.is_terminal
            if stale and not force:
                return JobSnapshot.model_validate_json(row["snapshot"])
            conn.execute(
                "UPDATE jobs SET status = ?, raw_status = ?, snapshot = ?, updated_at = ?"
                " WHERE key = ?",
                (snapshot.status.value, snapshot.raw_status, body, utcnow().isoformat(), key),
            )
        return snapshot

    def get(self, job_id: str) -> JobRecord | None:
        row = self._conn().execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return decode_row(row, _row_to_record, self.path) if row else None

    def get_by_key(self, key: str) -> JobRecord | None:
        row = self._conn().execute("SELECT * FROM jobs WHERE key = ?", (key,)).fetchone()
        return decode_row(row, _row_to_record, self.path) if row else None

    def find(self, ref: str) -> JobRecord | None:
        """A job by full id, idempotency key (alone or as ``<provider>:<key>``, how a job still
        being created is named), or unambiguous native id / id prefix."""
        record = self.get(ref) or self.get_by_key(ref)
        if record is None and ":" in ref:
            provider, _, key = ref.partition(":")
            record = self.get_by_key(key)
            if record is not None and record.provider != provider:
                record = None
        if record is not None:
            return record
        rows = (
            self._conn()
            .execute(
                "SELECT * FROM jobs WHERE native_id = ? OR id LIKE ? ESCAPE '\\' LIMIT 2",
                (ref, ref.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"),
            )
            .fetchall()
        )
        return decode_row(rows[0], _row_to_record, self.path) if len(rows) == 1 else None

    def query(
        self,
        *,
        provider: str | None = None,
        status: JobStatus | None = None,
        include_intents: bool = False,
    ) -> list[JobRecord]:
        sql = "SELECT * FROM jobs WHERE 1 = 1"
        args: list[str] = []
        if not include_intents:
            sql += " AND native_id IS NOT NULL"
        if provider:
            sql += " AND provider = ?"
            args.append(provider)
        if status:
            sql += " AND status = ?"
            args.append(status.value)
        sql += " ORDER BY created_at DESC"
        return list(decode_rows(self._conn().execute(sql, args), _row_to_record, self.path))

    # -- events and metrics ---------------------------------------------------------------------

    def add_events(self, key: str, events: Iterable[Event]) -> int:
        """Store events not seen before; returns how many were new."""
        added = 0
        with self._write() as conn:
            seq = conn.execute(
                "SELECT COALESCE(MAX(seq), 0) FROM events WHERE job_key = ?", (key,)
            ).fetchone()[0]
            for event in events:
                cur = conn.execute(
                    "INSERT OR IGNORE INTO events (job_key, event_id, seq, body)"
                    " VALUES (?, ?, ?, ?)",
                    (key, event.id, seq + 1, _clean(event)),
                )
                if cur.rowcount:
                    seq += 1
                    added += 1
        return added

    def events(self, key: str) -> list[Event]:
        rows = self._conn().execute(
            "SELECT job_key, body FROM events WHERE job_key = ? ORDER BY seq", (key,)
        )
        return list(decode_rows(rows, _event, self.path, "an event of job"))

    def last_event_id(self, key: str) -> str | None:
        row = (
            self._conn()
            .execute(
                "SELECT event_id FROM events WHERE job_key = ? ORDER BY seq DESC LIMIT 1", (key,)
            )
            .fetchone()
        )
        return row["event_id"] if row else None

    def put_metrics(self, key: str, points: Iterable[MetricPoint]) -> None:
        with self._write() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO metrics (job_key, step, body) VALUES (?, ?, ?)",
                [(key, p.step, _clean(p)) for p in points],
            )

    def metrics(self, key: str) -> list[MetricPoint]:
        rows = self._conn().execute(
            "SELECT job_key, body FROM metrics WHERE job_key = ? ORDER BY step", (key,)
        )
        return list(decode_rows(rows, _metric, self.path, "a metric of job"))

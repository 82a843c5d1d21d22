"""Who is creating a job right now: a lease on an intent row of the job store.

Before the remote create, a submit records an *intent* (a row without a remote id) and holds a
lease on it: an owner (host, process id, a random token) and an expiry a few seconds ahead,
renewed by a background thread for as long as the create runs. Every decision about an intent
is one ``BEGIN IMMEDIATE`` transaction, so two processes (or machines sharing the store) never
both believe they may create the same job:

- an identical submit that finds a live lease waits for it, then returns the job it made;
- a lease whose owner died (its process is gone, or its expiry passed) is taken over: the new
  owner first asks the provider whether the job exists (``reconcile``) before creating it.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from ._exceptions import ConfigError
from ._models import JobSpec, JobStatus, utcnow
from ._store import JobRecord, JobStore, _clean, _row_to_record

#: Seconds a lease lasts without renewal (renewed every third of it while the owner works).
LEASE_SECONDS = 20.0

_TOKEN = uuid.uuid4().hex[:12]


@dataclass(frozen=True)
class Owner:
    """The holder of a lease: ``host/pid/token``, the token naming this process's run and the
    thread (two threads of one process are two owners)."""

    host: str
    pid: int
    token: str

    @classmethod
    def me(cls) -> Owner:
        """The calling thread."""
        return cls(socket.gethostname(), os.getpid(), f"{_TOKEN}.{threading.get_ident()}")

    @classmethod
    def parse(cls, text: str) -> Owner | None:
        host, _, rest = text.rpartition("/")
        host, _, pid = host.rpartition("/")
        try:
            return cls(host, int(pid), rest)
        except ValueError:
            return None

    def __str__(self) -> str:
        return f"{self.host}/{self.pid}/{self.token}"

    def describe(self) -> str:
        return f"process {self.pid} on {self.host}"

    def gone(self) -> bool:
        """True when the owner certainly no longer runs (same host, process gone)."""
        if self.host != socket.gethostname():
            return False  # another machine: only the expiry tells
        if self.pid == os.getpid():
            run, _, thread = self.token.partition(".")
            alive = {str(t.ident) for t in threading.enumerate()}
            return run != _TOKEN or thread not in alive
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False


def holder(record: JobRecord, now: float | None = None) -> Owner | None:
    """Who holds a live lease on ``record`` (None: nobody, or a dead or expired owner)."""
    if record.lease_owner is None or record.lease_expires is None:
        return None
    if record.lease_expires <= (time.time() if now is None else now):
        return None
    owner = Owner.parse(record.lease_owner)
    if owner is None or owner.gone():
        return None
    return owner


Verdict = Literal["created", "waiting", "owned", "taken"]


@dataclass(frozen=True)
class Claim:
    """The outcome of :func:`claim`.

    ``created``: the job exists (``record`` is attached); ``waiting``: another live owner is
    creating it (``owner``); ``owned``: a new intent, ours; ``taken``: an earlier intent whose
    owner is gone, now ours (reconcile it before creating).
    """

    verdict: Verdict
    record: JobRecord
    owner: Owner | None = None


def claim(
    store: JobStore,
    spec: JobSpec,
    fingerprint: str,
    *,
    chosen_key: bool,
    since: datetime,
    waited_on: str | None = None,
) -> Claim:
    """Decide, in one transaction, what this submit does about ``spec``.

    With ``chosen_key`` the user's key names the job: at most one job per key. Otherwise an
    identical job (same ``fingerprint``) joins an intent still open, or a job whose intent was
    recorded after this submit began (``since``), or the one it waited on (``waited_on``).
    """
    me = Owner.me()
    now = time.time()
    with store._write() as conn:
        if chosen_key:
            rows = conn.execute("SELECT * FROM jobs WHERE key = ?", (spec.idempotency_key,))
        else:
            rows = conn.execute(
                "SELECT * FROM jobs WHERE fingerprint = ? OR key = ? ORDER BY created_at",
                (fingerprint, waited_on or ""),
            )
        found = [_row_to_record(r) for r in rows]
        if chosen_key and found and found[0].fingerprint != fingerprint:
            raise ConfigError(
                f"idempotency key {spec.idempotency_key!r} was already used for a different "
                f"job ({found[0].id or found[0].provider + ' job still being created'}, "
                f"{found[0].spec.model}); use a new key for a new job"
            )
        if not chosen_key:
            found = [
                r
                for r in found
                if r.is_intent or r.key == waited_on or _stamp(r.created_at) >= _stamp(since)
            ]
        for record in found:
            if not record.is_intent:
                return Claim("created", record)
        for record in found:
            owner = holder(record, now)
            if owner is not None and str(owner) != str(me):
                return Claim("waiting", record, owner)
        if found:
            record = found[0]
            conn.execute(
                "UPDATE jobs SET lease_owner = ?, lease_expires = ? WHERE key = ?",
                (str(me), now + LEASE_SECONDS, record.key),
            )
            return Claim("taken", _reread(conn, record.key))
        stamp = utcnow().isoformat()
        conn.execute(
            "INSERT INTO jobs (key, provider, spec, dataset_sha256, fingerprint, status,"
            " created_at, updated_at, lease_owner, lease_expires)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                spec.idempotency_key,
                spec.provider,
                _clean(spec),
                spec.training.sha256,
                fingerprint,
                JobStatus.PENDING.value,
                stamp,
                stamp,
                str(me),
                now + LEASE_SECONDS,
            ),
        )
        return Claim("owned", _reread(conn, spec.idempotency_key))


def _stamp(when: datetime) -> float:
    return when.timestamp()


def _reread(conn: sqlite3.Connection, key: str) -> JobRecord:
    return _row_to_record(conn.execute("SELECT * FROM jobs WHERE key = ?", (key,)).fetchone())


def take_over(store: JobStore, key: str) -> Claim | None:
    """Hold the lease on the intent ``key`` if nobody live holds it (for ``recover``).

    None when ``key`` is no longer an intent; ``waiting`` (with the owner) when it is busy.
    """
    me = Owner.me()
    now = time.time()
    with store._write() as conn:
        row = conn.execute("SELECT * FROM jobs WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        record = _row_to_record(row)
        if not record.is_intent:
            return Claim("created", record)
        owner = holder(record, now)
        if owner is not None and str(owner) != str(me):
            return Claim("waiting", record, owner)
        conn.execute(
            "UPDATE jobs SET lease_owner = ?, lease_expires = ? WHERE key = ?",
            (str(me), now + LEASE_SECONDS, key),
        )
        return Claim("taken", _reread(conn, key))


def release(store: JobStore, key: str, owner: Owner | None = None) -> None:
    """Give up the lease ``owner`` (default: the calling thread) holds on ``key``; the row
    stays."""
    with store._write() as conn:
        conn.execute(
            "UPDATE jobs SET lease_owner = NULL, lease_expires = NULL"
            " WHERE key = ? AND lease_owner = ?",
            (key, str(owner or Owner.me())),
        )


class Lease:
    """The calling thread's lease on one intent, renewed in the background until
    :meth:`stop`."""

    def __init__(self, store: JobStore, key: str, seconds: float = LEASE_SECONDS) -> None:
        self._store = store
        self._key = key
        self._owner = str(Owner.me())
        self._seconds = seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._renew, name=f"ftbridge-lease-{key}")
        self._thread.daemon = True
        self._thread.start()

    def _renew(self) -> None:
        # Its own store object: a SQLite connection belongs to the thread that opened it.
        store = JobStore(self._store.path)
        try:
            while not self._stop.wait(self._seconds / 3):
                with store._write() as conn:
                    conn.execute(
                        "UPDATE jobs SET lease_expires = ? WHERE key = ? AND lease_owner = ?",
                        (time.time() + self._seconds, self._key, self._owner),
                    )
        finally:
            store.close()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

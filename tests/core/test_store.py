"""The job store: durable, shared between processes, never holding a secret."""

from __future__ import annotations

import multiprocessing
import sqlite3
import stat
from datetime import datetime, timezone
from pathlib import Path

from ftbridge import DatasetRef, Event, JobSnapshot, JobSpec, JobStatus
from ftbridge._store import MIGRATIONS, JobStore


def _spec(key: str = "ftb-test") -> JobSpec:
    ref = DatasetRef(path="/data/train.jsonl", sha256="ab" * 32, format="chat", example_count=12)
    return JobSpec(provider="fake", model="base", training=ref, idempotency_key=key)


def _snap(status: JobStatus, native: str = "job-1") -> JobSnapshot:
    return JobSnapshot(native_id=native, status=status, raw_status=status.value)


def test_file_is_private_and_migrated(ftbridge_home: Path) -> None:
    store = JobStore()
    mode = stat.S_IMODE((ftbridge_home / "jobs.db").stat().st_mode)
    assert mode == 0o600
    conn = sqlite3.connect(ftbridge_home / "jobs.db")
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    store.close()
    JobStore()  # opening again migrates nothing and fails nothing


def test_intent_then_attach() -> None:
    store = JobStore()
    store.record_intent(_spec(), "fp")
    assert [r.key for r in store.open_intents("fp")] == ["ftb-test"]
    record = store.attach("ftb-test", _snap(JobStatus.QUEUED))
    assert record.id == "fake:job-1" and not record.is_intent
    assert store.open_intents("fp") == []
    assert store.find("job-1") == store.find("fake:job-1") == store.find("ftb-test")


def test_terminal_status_is_never_overwritten_by_a_late_live_one() -> None:
    store = JobStore()
    store.record_intent(_spec(), "fp")
    store.attach("ftb-test", _snap(JobStatus.RUNNING))
    store.update_snapshot("ftb-test", _snap(JobStatus.SUCCEEDED))
    kept = store.update_snapshot("ftb-test", _snap(JobStatus.RUNNING))
    assert kept.status is JobStatus.SUCCEEDED
    assert store.get("fake:job-1").status is JobStatus.SUCCEEDED  # type: ignore[union-attr]


def _writer(home: str, worker: int, count: int) -> None:
    import os

    os.environ["FTBRIDGE_HOME"] = home
    store = JobStore()
    for i in range(count):
        # both workers report overlapping events (the same job polled twice) and their own
        shared = Event(id=f"shared-{i}", time=datetime.now(timezone.utc), message=f"step {i}")
        own = Event(id=f"w{worker}-{i}", time=datetime.now(timezone.utc), message="mine")
        store.add_events("ftb-test", [shared, own])
        store.update_snapshot("ftb-test", _snap(JobStatus.RUNNING))


def test_two_processes_writing_one_job_lose_nothing(ftbridge_home: Path) -> None:
    store = JobStore()
    store.record_intent(_spec(), "fp")
    store.attach("ftb-test", _snap(JobStatus.RUNNING))
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(ftbridge_home), w, 150)) for w in (1, 2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    ids = [e.id for e in store.events("ftb-test")]
    assert len(ids) == len(set(ids)) == 450  # 150 shared + 150 + 150 own, none lost or doubled
    assert (
        sqlite3.connect(ftbridge_home / "jobs.db").execute("PRAGMA integrity_check").fetchone()[0]
        == "ok"
    )


def test_a_store_being_written_by_another_process_is_waited_for_when_opened(
    tmp_path: Path,
) -> None:
    """Switching a new store to WAL needs the file to itself; SQLite refuses that at once while
    another connection writes (no busy handler), so opening must wait instead of failing."""
    import threading

    path = tmp_path / "jobs.db"
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("CREATE TABLE busy (x)")
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO busy VALUES (1)")
    release = threading.Timer(0.5, lambda: other.execute("COMMIT"))
    release.start()
    try:
        store = JobStore(path)  # before the fix: StoreError "database is locked" at once
        assert store.query() == []
    finally:
        release.join()
        other.close()

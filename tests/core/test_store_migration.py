"""A job store written before leases existed opens, migrates, and keeps its jobs."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import ftbridge
from ftbridge import DatasetRef, JobSnapshot, JobSpec, JobStatus
from ftbridge._store import MIGRATIONS, JobStore


def test_a_version_1_store_is_migrated_and_its_jobs_and_intents_still_list(
    ftbridge_home: Path,
) -> None:
    path = ftbridge_home / "jobs.db"
    conn = sqlite3.connect(path)
    for statement in filter(str.strip, MIGRATIONS[0].split(";")):
        conn.execute(statement)
    conn.execute("PRAGMA user_version = 1")
    ref = DatasetRef(path="/data/t.jsonl", sha256="ab" * 32, format="chat", example_count=12)
    for key, native in (("ftb-old-job", "fakejob-1"), ("ftb-old-intent", None)):
        spec = JobSpec(provider="fake", model="base", training=ref, idempotency_key=key)
        snap = JobSnapshot(native_id=native or "", status=JobStatus.RUNNING, raw_status="running")
        conn.execute(
            "INSERT INTO jobs (key, id, provider, native_id, spec, dataset_sha256, fingerprint,"
            " status, snapshot, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (
                key,
                f"fake:{native}" if native else None,
                "fake",
                native,
                spec.model_dump_json(),
                ref.sha256,
                "fp",
                "running" if native else "pending",
                snap.model_dump_json() if native else None,
                "2026-01-01T00:00:00+00:00",
                "2026-01-01T00:00:00+00:00",
            ),
        )
    conn.commit()
    conn.close()

    JobStore()
    version = sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0]
    assert version == len(MIGRATIONS) >= 2
    listed = {j.id: j.status for j in ftbridge.list_jobs()}
    assert listed == {"fake:fakejob-1": JobStatus.RUNNING, "fake:ftb-old-intent": JobStatus.PENDING}

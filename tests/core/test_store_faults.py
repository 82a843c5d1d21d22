"""A damaged, read-only or unreachable job store: a sentence naming the file and what to do.

A row that cannot be read is one warning naming the job, and the other jobs still list;
``validate`` never needs a writable ``$FTBRIDGE_HOME``.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ftbridge
from ftbridge.cli import main

SCRIPT = '[["queued", 0.05], ["running", 0.1], ["succeeded", 0]]'


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ftbridge", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


def _submit(train_file: Path, seed: int) -> str:
    done = _cli(
        "submit", str(train_file), "--provider", "fake", "--model", "base", "--json",
        "--seed", str(seed), "-o", f"script={SCRIPT}",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return str(json.loads(done.stdout)["id"])


def test_a_file_that_is_not_a_database(ftbridge_home: Path) -> None:
    store = ftbridge_home / "jobs.db"
    store.write_bytes(b"these bytes are not SQLite\n" * 200)
    for args in (["jobs"], ["status", "fake:x"], ["jobs", "--json"]):
        done = _cli(*args)
        assert done.returncode == 2, done.stderr
        assert "Traceback" not in done.stderr
        assert f"the job store {store} is damaged" in done.stderr
        assert f"mv {store} {store}.damaged" in done.stderr
    with pytest.raises(ftbridge.StoreError) as err:
        ftbridge.list_jobs()
    assert err.value.path == str(store)


def test_a_bad_row_is_reported_and_skipped(train_file: Path, ftbridge_home: Path) -> None:
    good = _submit(train_file, 1)
    bad_status = _submit(train_file, 2)
    bad_snapshot = _submit(train_file, 3)
    with contextlib.closing(sqlite3.connect(ftbridge_home / "jobs.db")) as db, db:
        db.execute("UPDATE jobs SET status = 'exploded' WHERE id = ?", (bad_status,))
        db.execute("UPDATE jobs SET snapshot = '{not json' WHERE id = ?", (bad_snapshot,))
    done = _cli("jobs")
    assert done.returncode == 0, done.stderr
    assert good in done.stdout
    assert bad_status not in done.stdout and bad_snapshot not in done.stdout
    warnings = done.stderr.strip().splitlines()
    assert len(warnings) == 2, done.stderr
    assert any(bad_status in w and "exploded" in w for w in warnings)
    assert any(bad_snapshot in w for w in warnings)
    assert all("skipped job" in w and "Traceback" not in w for w in warnings)
    listed = _cli("jobs", "--json")
    assert [j["id"] for j in json.loads(listed.stdout)] == [good]
    assert [j.id for j in ftbridge.list_jobs()] == [good]
    # asking for the damaged job itself: a StoreError naming it (exit 2)
    status = _cli("status", bad_snapshot, "--cached")
    assert status.returncode == 2
    assert f"job {bad_snapshot} in the job store" in status.stderr
    assert "cannot be read" in status.stderr and "Traceback" not in status.stderr


def test_a_bad_event_row_is_skipped_with_one_warning(train_file: Path, ftbridge_home: Path) -> None:
    job = _submit(train_file, 1)
    assert _cli("wait", job).returncode == 0
    assert _cli("events", job).returncode == 0  # the events are in the store now
    with contextlib.closing(sqlite3.connect(ftbridge_home / "jobs.db")) as db, db:
        first = db.execute("SELECT MIN(seq) FROM events").fetchone()[0]
        db.execute("UPDATE events SET body = 'garbage' WHERE seq = ?", (first,))
        total = db.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    done = _cli("events", job, "--json")
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == total - 1
    assert done.stderr.count("skipped an event of job") == 1, done.stderr


@pytest.fixture
def unusable_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A $FTBRIDGE_HOME that cannot be created, even by root: its parent is a file."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory\n")
    home = blocker / "home"
    monkeypatch.setenv("FTBRIDGE_HOME", str(home))
    return home


def test_validate_needs_no_writable_home(
    unusable_home: Path, train_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", str(train_file)]) == 0
    assert "valid" in capsys.readouterr().out
    packed = tmp_path / "train.jsonl.gz"
    packed.write_bytes(gzip.compress(train_file.read_bytes()))
    assert main(["validate", str(packed), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["valid"] is True
    assert ftbridge.validate([json.loads(line) for line in train_file.read_text().splitlines()])
    assert not unusable_home.exists()


def test_an_unusable_home_is_named_for_the_commands_that_need_it(unusable_home: Path) -> None:
    assert main(["jobs"]) == 2
    with pytest.raises(ftbridge.StoreError, match=f"the job store {unusable_home / 'jobs.db'}"):
        ftbridge.list_jobs()
    with pytest.raises(ftbridge.StoreError, match="set FTBRIDGE_HOME to"):
        ftbridge.get_job("fake:x")


@contextlib.contextmanager
def _read_only(path: Path) -> Iterator[None]:
    """Make ``path`` unwritable for this process (root ignores modes: then the immutable flag)."""
    path.chmod(0o400)
    immutable = False
    try:
        with contextlib.suppress(PermissionError), open(path, "r+b"):
            if os.geteuid() != 0:
                pytest.fail(f"chmod 0400 left {path} writable")
            done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True)
            if done.returncode != 0:
                pytest.fail(f"cannot make {path} read-only as root: {done.stderr.strip()}")
            immutable = True
        yield
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(path)], check=True)
        path.chmod(0o600)


def test_a_read_only_store_says_so(train_file: Path, ftbridge_home: Path) -> None:
    job = _submit(train_file, 1)
    store = ftbridge_home / "jobs.db"
    with contextlib.closing(sqlite3.connect(store)) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for side in ("-wal", "-shm"):
        Path(f"{store}{side}").unlink(missing_ok=True)
    with _read_only(store):
        listed = _cli("jobs")  # reading needs no write
        assert listed.returncode == 0 and job in listed.stdout, listed.stderr
        done = _cli("status", job)  # the refreshed state must be stored
        assert done.returncode == 2, done.stdout
        assert f"the job store {store} cannot be written" in done.stderr
        assert "make it and its directory writable" in done.stderr
        assert "Traceback" not in done.stderr
        validated = _cli("validate", str(train_file))
        assert validated.returncode == 0, validated.stderr


# -- fuzz: whatever the file or a row holds, a StoreError or a listing, never another error -------

_FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@_FUZZ
@given(head=st.sampled_from([b"", b"SQLite format 3\x00", b"\x00" * 100]), body=st.binary())
def test_arbitrary_bytes_as_the_store(ftbridge_home: Path, head: bytes, body: bytes) -> None:
    store = ftbridge_home / "jobs.db"
    for side in ("", "-wal", "-shm"):
        Path(f"{store}{side}").unlink(missing_ok=True)
    store.write_bytes(head + body)
    try:
        jobs = ftbridge.list_jobs()
    except ftbridge.StoreError as exc:
        assert str(store) in str(exc)
    else:
        assert isinstance(jobs, list)


_text = st.text(max_size=30) | st.sampled_from(["", "{}", "null", "[]", '{"native_id": 1}'])


@_FUZZ
@given(
    column=st.sampled_from(["status", "snapshot", "spec", "created_at", "updated_at"]),
    value=_text,
)
def test_any_damaged_field_skips_that_job_only(
    ftbridge_home: Path, train_file: Path, column: str, value: str
) -> None:
    store = ftbridge_home / "jobs.db"
    if not store.exists():  # the first example: two jobs, one of which each example damages
        _submit(train_file, 1)
        _submit(train_file, 2)
    with contextlib.closing(sqlite3.connect(store)) as db:
        good, bad = (r[0] for r in db.execute("SELECT id FROM jobs ORDER BY created_at"))
    with contextlib.closing(sqlite3.connect(ftbridge_home / "jobs.db")) as db, db:
        saved = db.execute(f"SELECT {column} FROM jobs WHERE id = ?", (bad,)).fetchone()[0]
        db.execute(f"UPDATE jobs SET {column} = ? WHERE id = ?", (value, bad))
    try:
        ids = [j.id for j in ftbridge.list_jobs()]
        assert good in ids
        try:
            ftbridge.get_job(bad)
        except ftbridge.StoreError as exc:
            assert bad in str(exc)
    finally:
        with contextlib.closing(sqlite3.connect(ftbridge_home / "jobs.db")) as db, db:
            db.execute(f"UPDATE jobs SET {column} = ? WHERE id = ?", (saved, bad))

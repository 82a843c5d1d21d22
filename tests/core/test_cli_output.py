"""What the CLI writes: JSON Lines events, estimates in ``submit --json``, closed or full stdout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ftbridge.cli import main

FAST_SCRIPT = '[["queued", 0.05], ["running", 0.2], ["succeeded", 0]]'


def _submit_json(capsys: pytest.CaptureFixture[str], train_file: Path, *extra: str) -> dict:
    code = main(
        [
            "submit",
            str(train_file),
            "--provider",
            "fake",
            "--model",
            "base",
            "--json",
            "-o",
            f"script={FAST_SCRIPT}",
            *extra,
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    return json.loads(out)


def test_events_json_is_one_compact_object_per_line(
    capsys: pytest.CaptureFixture[str], train_file: Path
) -> None:
    job = _submit_json(capsys, train_file)
    assert main(["wait", job["id"]]) == 0
    capsys.readouterr()
    assert main(["events", job["id"], "--json"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) > 2
    events = [json.loads(line) for line in lines]  # every line is a whole JSON object
    assert all(isinstance(e, dict) and e["message"] for e in events)
    assert len({e["id"] for e in events}) == len(events)


def test_events_follow_json_is_json_lines(
    capsys: pytest.CaptureFixture[str], train_file: Path
) -> None:
    job = _submit_json(capsys, train_file)
    assert main(["events", job["id"], "--follow", "--interval", "0.05", "--json"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines and all(isinstance(json.loads(line), dict) for line in lines)


def test_submit_json_includes_the_preflight_estimates(
    capsys: pytest.CaptureFixture[str], train_file: Path
) -> None:
    job = _submit_json(capsys, train_file)
    assert job["estimates"]["examples"] > 0
    assert "cost_usd" in job["estimates"]
    waited = _submit_json(capsys, train_file, "--wait", "--seed", "3")
    assert waited["status"] == "succeeded" and waited["estimates"]["examples"] > 0


def _many_errors(tmp_path: Path) -> Path:
    path = tmp_path / "broken.jsonl"
    path.write_text("{not json\n" * 3000)
    return path


def _cli(args: list[str], **kw: object) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "ftbridge", *args],
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "0"},
        **kw,  # type: ignore[call-overload]
    )


def test_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    # as `ftbridge validate broken.jsonl | head -1`
    proc = _cli(["validate", str(_many_errors(tmp_path))], stdout=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 141
    assert err == ""


def test_a_full_disk_is_one_sentence_and_exit_2(tmp_path: Path) -> None:
    if not Path("/dev/full").exists():
        pytest.fail("this test needs /dev/full (Linux)")
    with open("/dev/full", "wb") as full:
        proc = _cli(["validate", str(_many_errors(tmp_path)), "--json"], stdout=full)
        assert proc.stderr is not None
        err = proc.stderr.read().decode()
        code = proc.wait(timeout=60)
    assert code == 2
    assert err.strip() == "ftbridge: error: cannot write output: No space left on device"

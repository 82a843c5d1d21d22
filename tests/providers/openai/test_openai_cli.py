"""``ftbridge submit ... --wait`` then ``ftbridge chat JOB "hi"`` against the emulator, with only
``OPENAI_BASE_URL`` and ``OPENAI_API_KEY`` set."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from ftbridge_openai.emulator import OpenAIEmulator
from openai_data import API_KEY

from ftbridge.cli import main


def test_submit_wait_chat_from_the_command_line(
    openai_env: OpenAIEmulator, train_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["submit", str(train_file), "--provider", "openai", "--model", "gpt-4o-mini"]
    assert main([*argv, "--wait", "--json"]) == 0
    job = json.loads(capsys.readouterr().out)
    assert job["id"].startswith("openai:ftjob-") and job["status"] == "succeeded"
    assert main(["chat", job["id"], "hi"]) == 0
    assert "to: hi" in capsys.readouterr().out
    assert main(["events", job["id"]]) == 0
    assert "successfully completed" in capsys.readouterr().out
    assert len(openai_env.jobs) == 1
    assert API_KEY not in json.dumps(job)


@pytest.mark.slow
def test_a_fresh_shell_with_only_the_two_variables(train_file: Path, tmp_path: Path) -> None:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "FTBRIDGE_HOME": str(tmp_path / "state"),
        "OPENAI_API_KEY": API_KEY,
    }
    if "PYTHONPATH" in os.environ:  # where the packages come from, in setups that use it
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    server = subprocess.Popen(
        [sys.executable, "-m", "ftbridge_openai.emulator", "--port", "0", "--pace", "0.05"],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert server.stdout is not None
        env["OPENAI_BASE_URL"] = server.stdout.readline().strip()
        ftbridge = [sys.executable, "-m", "ftbridge"]
        submitted = subprocess.run(
            [*ftbridge, "submit", str(train_file), "--provider", "openai",
             "--model", "gpt-4o-mini", "--wait", "--json"],
            capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path,
        )  # fmt: skip
        assert submitted.returncode == 0, submitted.stderr
        job = json.loads(submitted.stdout)
        assert job["status"] == "succeeded"
        chat = subprocess.run(
            [*ftbridge, "chat", job["id"], "hi"],
            capture_output=True, text=True, env=env, timeout=60, cwd=tmp_path,
        )  # fmt: skip
        assert chat.returncode == 0, chat.stderr
        assert "to: hi" in chat.stdout
        for output in (submitted, chat):
            assert API_KEY not in output.stdout + output.stderr
    finally:
        server.terminate()
        server.wait(timeout=10)

"""``.ci/run``: the default Python's full run, then the oldest and newest supported Pythons
without torch; a supported Python that is not installed fails the run before anything starts.

The script runs here against stand-in ``scripts/test`` and ``scripts/quickstart`` that only
record how they were called, and a stand-in pyenv tree."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]
RECORDER = """#!/usr/bin/env bash
echo "$(basename "$0") args=[$*] PYTHON=${PYTHON:-} VENV=${VENV:-} WITH_TORCH=${WITH_TORCH:-} \
LINT=${LINT:-} CI=${CI:-}" >> "$(dirname "$0")/../calls.log"
"""


def checkout(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / ".ci").mkdir(parents=True)
    (repo / "scripts").mkdir()
    shutil.copy(REPOSITORY / ".ci" / "run", repo / ".ci" / "run")
    for name in ("test", "quickstart"):
        (repo / "scripts" / name).write_text(RECORDER)
    return repo


def pyenv(tmp_path: Path, *versions: str) -> Path:
    root = tmp_path / "pyenv"
    for version in versions:
        python = root / "versions" / version / "bin" / "python"
        python.parent.mkdir(parents=True)
        python.write_text("#!/bin/sh\n")
        python.chmod(0o755)
    (root / "versions").mkdir(parents=True, exist_ok=True)
    return root


def run_ci(repo: Path, root: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "PYENV_ROOT": str(root), "HOME": str(repo)}
    return subprocess.run(
        ["bash", str(repo / ".ci" / "run")], capture_output=True, text=True, env=env, timeout=60
    )


def test_a_missing_python_fails_before_anything_runs(tmp_path: Path) -> None:
    repo = checkout(tmp_path)
    result = run_ci(repo, pyenv(tmp_path, "3.10.13"))  # no 3.13
    assert result.returncode != 0
    assert "Python 3.13 is not installed" in result.stderr and "pyenv install 3.13" in result.stderr
    assert not (repo / "calls.log").exists()


def test_the_default_run_then_oldest_and_newest_without_torch(tmp_path: Path) -> None:
    repo = checkout(tmp_path)
    root = pyenv(tmp_path, "3.10.9", "3.10.13", "3.13.0")
    result = run_ci(repo, root)
    assert result.returncode == 0, result.stderr
    py310 = root / "versions" / "3.10.13" / "bin" / "python"  # the newest patch release
    py313 = root / "versions" / "3.13.0" / "bin" / "python"
    calls = (repo / "calls.log").read_text().splitlines()
    assert calls == [
        "test args=[] PYTHON= VENV= WITH_TORCH= LINT= CI=true",
        f"quickstart args=[{py310} .venv-py3.10-quickstart] PYTHON= VENV= WITH_TORCH= LINT= CI=true",
        f"test args=[] PYTHON={py310} VENV=.venv-py3.10 WITH_TORCH=0 LINT=0 CI=true",
        f"quickstart args=[{py313} .venv-py3.13-quickstart] PYTHON= VENV= WITH_TORCH= LINT= CI=true",
        f"test args=[] PYTHON={py313} VENV=.venv-py3.13 WITH_TORCH=0 LINT=0 CI=true",
    ]
    assert "==== times" in result.stdout and "Python 3.13: tests without torch" in result.stdout

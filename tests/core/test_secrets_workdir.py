"""The shell's working-directory variables are paths, not secrets: paths under them survive."""

from __future__ import annotations

from pathlib import Path

import pytest

from ftbridge import _secrets


def test_pwd_is_not_scrubbed_from_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    workdir = str(tmp_path / "my-project")
    monkeypatch.setenv("PWD", workdir)
    monkeypatch.setenv("OLDPWD", workdir)
    monkeypatch.setenv("MY_SERVICE_PWD", "hunter2-password")
    path = f"{workdir}/data/train.jsonl"
    assert _secrets.scrub(path) == path
    assert "hunter2-password" not in _secrets.scrub("login with hunter2-password")

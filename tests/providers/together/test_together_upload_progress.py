"""Together's upload reports its bytes: a bar on a terminal, nothing when piped."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from ftbridge_together.emulator import TogetherEmulator
from together_data import API_KEY, BASE

from ftbridge.cli import main


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def together_env(emulator: TogetherEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOGETHER_API_KEY", API_KEY)
    monkeypatch.setenv("TOGETHER_BASE_URL", emulator.base_url)


def test_the_upload_shows_its_bytes_on_a_terminal(
    together_env: None, train_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    screen = Terminal()
    monkeypatch.setattr(sys, "stderr", screen)
    assert main(["submit", str(train_file), "--provider", "together", "--model", BASE]) == 0
    assert "uploading train.jsonl" in screen.getvalue() and "100%" in screen.getvalue()


def test_no_bar_when_piped(
    together_env: None, train_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["submit", str(train_file), "--provider", "together", "--model", BASE]) == 0
    assert "uploading" not in capsys.readouterr().err

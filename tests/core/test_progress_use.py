"""Every long step shows the same tqdm bar on a terminal and nothing when piped."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

import ftbridge.cli._validate as validate_command
from ftbridge.cli import main

SCRIPT = '[["queued", 0.05], ["running", 0.3], ["succeeded", 0]]'


class Terminal(io.StringIO):
    """What tqdm writes to a terminal, kept."""

    def isatty(self) -> bool:
        return True


def _on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> Terminal:
    screen = Terminal()
    monkeypatch.setattr(sys, "stderr", screen)
    return screen


def _submit_and_wait(train_file: Path) -> int:
    return main(
        [
            "submit",
            str(train_file),
            "--provider",
            "fake",
            "--model",
            "base",
            "--wait",
            "-o",
            f"script={SCRIPT}",
        ]
    )


def test_wait_shows_a_bar_of_steps_on_a_terminal(
    train_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    screen = _on_a_terminal(monkeypatch)
    assert _submit_and_wait(train_file) == 0
    shown = screen.getvalue()
    assert "\r" in shown and "10/10" in shown and "step" in shown
    assert "succeeded" in shown and "loss" in shown
    assert "|" in shown  # a tqdm bar, not a hand-written line


def test_wait_is_quiet_when_piped(train_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _submit_and_wait(train_file) == 0
    err = capsys.readouterr().err
    assert "\r" not in err and "10/10" not in err


def test_validating_a_big_file_shows_a_bar_of_bytes(
    train_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(validate_command, "PROGRESS_FROM_BYTES", 0)  # this file counts as big
    screen = _on_a_terminal(monkeypatch)
    assert main(["validate", str(train_file)]) == 0
    assert "validating" in screen.getvalue() and "B" in screen.getvalue()
    assert "\r" in screen.getvalue()
    monkeypatch.setattr(sys, "stderr", sys.__stderr__)
    capsys.readouterr()
    assert main(["validate", str(train_file), "--json"]) == 0  # --json: never a bar
    assert json.loads(capsys.readouterr().out)["valid"]


def test_no_second_terminal_check_in_the_cli() -> None:
    import ftbridge.cli._output as output

    assert not hasattr(output, "is_terminal")  # one is_terminal: ftbridge._progress

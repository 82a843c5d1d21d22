"""The upload of a training file shows a bar of bytes on a terminal (and nothing piped)."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from ftbridge_openai.emulator import OpenAIEmulator
from openai_data import chat_records, write_jsonl

from ftbridge.cli import main


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_upload_shows_its_bytes_on_a_terminal(
    openai_env: OpenAIEmulator, train_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    screen = Terminal()
    monkeypatch.setattr(sys, "stderr", screen)
    argv = ["submit", str(train_file), "--provider", "openai", "--model", "gpt-4o-mini"]
    assert main(argv) == 0
    shown = screen.getvalue()
    size = train_file.stat().st_size
    assert "uploading train.jsonl" in shown and "100%" in shown
    assert f"{size}/{size}" in shown or "k/" in shown  # bytes, scaled by tqdm


def test_parts_of_a_large_upload_move_the_bar(
    openai_env: OpenAIEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = write_jsonl(tmp_path / "big.jsonl", chat_records() * 40)
    screen = Terminal()
    monkeypatch.setattr(sys, "stderr", screen)
    argv = ["submit", str(data), "--provider", "openai", "--model", "gpt-4o-mini"]
    options = ["-o", "upload_threshold=1024", "-o", "upload_part_size=4096"]
    assert main([*argv, *options]) == 0
    assert "uploading big.jsonl" in screen.getvalue() and "100%" in screen.getvalue()
    assert any(u.parts for u in openai_env.uploads.values())


def test_no_bar_when_piped(
    openai_env: OpenAIEmulator, train_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["submit", str(train_file), "--provider", "openai", "--model", "gpt-4o-mini"]
    assert main(argv) == 0
    assert "uploading" not in capsys.readouterr().err

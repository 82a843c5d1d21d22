"""Scripted model handles with known outputs, small datasets, and a real headless browser for
the evaluation tests."""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest

from ftbridge import ChatResult, Generation, ModelHandle


def last_user(messages: Sequence[Mapping[str, Any]]) -> str:
    return str(next(m["content"] for m in reversed(messages) if m["role"] == "user"))


class ScriptedHandle(ModelHandle):
    """Replies ``reply(question)``; a reply that is an exception is raised instead.

    Records every call (thread-safe) and how many ran at once.
    """

    def __init__(
        self,
        name: str,
        reply: Callable[[str], str | BaseException] | Mapping[str, str | BaseException],
        *,
        latency: float = 0.0,
    ) -> None:
        self.name = name
        self._reply = reply
        self.latency = latency
        self.calls: list[str] = []
        self.params: list[Generation] = []
        self.active = 0
        self.peak = 0
        self._lock = threading.Lock()

    def _chat(self, messages: Sequence[Mapping[str, Any]], params: Generation) -> ChatResult:
        question = last_user(messages)
        with self._lock:
            self.calls.append(question)
            self.params.append(params)
            self.active += 1
            self.peak = max(self.peak, self.active)
        try:
            if self.latency:
                time.sleep(self.latency)
            reply = self._reply(question) if callable(self._reply) else self._reply[question]
        finally:
            with self._lock:
                self.active -= 1
        if isinstance(reply, BaseException):
            raise reply
        return ChatResult(text=reply, finish_reason="stop")


def record(question: str, answer: str) -> dict[str, Any]:
    return {
        "messages": [
            {"role": "user", "content": question},
            {"role": "assistant", "content": answer},
        ]
    }


def write_jsonl(path: Path, records: Sequence[Mapping[str, Any]]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    return path


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--enable-logging=stderr",
    "--v=0",
]


@dataclass
class Rendered:
    dom: str  # the document after its scripts ran
    console: list[str]  # what the page logged (errors included)
    screenshot: Path


def open_in_chromium(page: Path, tmp: Path) -> Rendered:
    """Open ``page`` in headless Chromium: its DOM after scripts, its console, a screenshot."""
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is needed to check report.html: apt-get install -y chromium")
    url = page.resolve().as_uri()
    profile = tmp / "chromium-profile"
    dom = subprocess.run(
        [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", url],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert dom.returncode == 0, dom.stderr[-2000:]
    shot = tmp / "report.png"
    run = subprocess.run(
        [
            CHROMIUM,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            "--window-size=1200,2400",
            f"--screenshot={shot}",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0 and shot.is_file(), run.stderr[-2000:]
    console = [line for line in (dom.stderr + run.stderr).splitlines() if ":CONSOLE" in line]
    return Rendered(dom.stdout, console, shot)


def colour_pixels(png: Path, rgb: tuple[int, int, int]) -> int:
    """How many pixels of ``png`` have the colour ``rgb``."""
    from PIL import Image

    with Image.open(png) as image:
        rgb_image = image.convert("RGB")
        width, height = rgb_image.size
        pixels = rgb_image.load()
        return sum(1 for x in range(width) for y in range(height) if pixels[x, y] == rgb)

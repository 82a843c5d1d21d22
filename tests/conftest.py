"""Shared fixtures: every test gets its own empty ``FTBRIDGE_HOME`` and no stray config.

Tests that need torch (everything under ``tests/providers/local`` and any test file importing
torch, transformers, peft, trl, bitsandbytes or ``ftbridge_local``) are marked ``needs_torch``.
With ``-m "not needs_torch"`` (what CI runs on the oldest and newest Python, where no torch
wheel is installed) those files are not even imported, and the run's summary counts them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
LOCAL_TESTS = TESTS / "providers" / "local"
_TORCH_MODULES = "torch|transformers|peft|trl|bitsandbytes|accelerate|ftbridge_local"
_NEEDS_TORCH = re.compile(
    rf"^\s*(?:import|from)\s+(?:{_TORCH_MODULES})\b|importorskip\(\s*[\"'](?:{_TORCH_MODULES})\b",
    re.MULTILINE,
)
_not_collected: set[Path] = set()


def needs_torch(path: Path) -> bool:
    """Whether the test file (or directory) at ``path`` needs torch."""
    path = path.resolve()
    if path == LOCAL_TESTS or LOCAL_TESTS in path.parents:
        return True
    return path.suffix == ".py" and bool(_NEEDS_TORCH.search(path.read_text("utf-8")))


def _torch_deselected(config: pytest.Config) -> bool:
    return "not needs_torch" in (config.getoption("markexpr", "") or "")


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    if _torch_deselected(config) and needs_torch(collection_path):
        _not_collected.add(collection_path)
        return True  # not imported at all: torch may not be installed
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if needs_torch(Path(str(item.path))):
            item.add_marker(pytest.mark.needs_torch)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _not_collected:
        shown = ", ".join(sorted(str(p.relative_to(TESTS.parent)) for p in _not_collected))
        terminalreporter.write_line(
            f"needs_torch: {len(_not_collected)} test paths not collected (-m 'not needs_torch'): "
            f"{shown}"
        )


@pytest.fixture(autouse=True)
def ftbridge_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("ftbridge-home")
    monkeypatch.setenv("FTBRIDGE_HOME", str(home))
    monkeypatch.delenv("FTBRIDGE_CONFIG", raising=False)
    monkeypatch.delenv("FTBRIDGE_PROVIDER", raising=False)
    monkeypatch.delenv("FTBRIDGE_MODEL", raising=False)
    yield home

"""``examples/together_emulator.py`` runs as documented: validate -> submit -> wait -> chat."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).parents[3] / "examples" / "together_emulator.py"


@pytest.mark.slow
def test_the_example_runs() -> None:
    done = subprocess.run(
        [sys.executable, str(EXAMPLE)], capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "valid for together: True" in out
    assert "estimated price: $" in out
    assert ": succeeded, model emulator-user/" in out
    assert "you said 'Is a lemon sweet or sour?'" in out

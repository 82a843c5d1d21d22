"""``examples/fireworks_emulator.py`` runs offline as documented: validate -> submit -> wait -> chat."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).parents[3] / "examples" / "fireworks_emulator.py"


@pytest.mark.slow
def test_the_example_runs(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(EXAMPLE)], capture_output=True, text=True, timeout=180, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "valid for fireworks: True" in out
    assert "estimated price: $" in out and "an estimate" in out
    assert ": succeeded, model fireworks:accounts/demo-account/models/format-demo-ftb-" in out
    assert "you said 'Is a lemon sweet or sour?'" in out

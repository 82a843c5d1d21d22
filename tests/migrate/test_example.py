"""``examples/migrate_openai.py`` runs offline: inventory, record, retrain locally, parity."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).parents[2] / "examples" / "migrate_openai.py"


@pytest.mark.slow
@pytest.mark.needs_torch  # the example retrains on the local provider
def test_the_migration_example_runs() -> None:
    done = subprocess.run(
        [sys.executable, str(EXAMPLE)], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "no new fine-tuning jobs after 2027-01-06" in out
    assert "shuts down 2027-01-14" in out
    assert "answers of ft:gpt-4o-mini" in out
    assert "(retrained from openai:ftjob-" in out
    assert ": succeeded" in out
    assert "Parity of new with old" in out

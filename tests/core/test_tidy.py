"""What the submit hands back, and what was removed because nothing used it."""

from __future__ import annotations

from pathlib import Path

import ftbridge
from ftbridge import _provider, _store
from ftbridge.testing import FakeProvider


def test_a_submitted_job_carries_its_preflight_and_a_stored_one_has_none(
    fake: FakeProvider, train_file: Path
) -> None:
    job = ftbridge.submit(train_file, provider=fake, model="base")
    assert job.preflight is not None and job.preflight.estimates["cost_usd"] == 0.0
    assert ftbridge.get_job(job.id).preflight is None


def test_unused_names_are_gone() -> None:
    import ftbridge_local
    from ftbridge_local import _launch

    assert not hasattr(_provider, "PausableProvider")
    assert not hasattr(_provider, "ResumableProvider")
    assert not hasattr(_store.JobStore, "open_intents_all")
    assert not hasattr(ftbridge_local.LocalProvider, "wait")
    assert not hasattr(_launch, "wait_exit")


def test_the_exceptions_module_imports_nothing_from_validation() -> None:
    import ast

    from ftbridge import _exceptions
    from ftbridge.validation._errors import DatasetValidationError

    tree = ast.parse(Path(_exceptions.__file__).read_text())
    imported = [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    assert not [m for m in imported if m.startswith("validation") or ".validation" in m]
    assert ftbridge.DatasetValidationError is DatasetValidationError
    assert issubclass(DatasetValidationError, ftbridge.DatasetError)

"""Where the providers' published API documents are: ``shared/specs`` beside the repository.

The documents are too big to vendor whole; a checkout keeps them in ``../shared/specs`` (CI
copies ``shared/`` beside the clone), or wherever ``$FTBRIDGE_SPECS`` points. A test that needs
one skips, saying where it looked, on a developer's machine without it, and fails in CI
(``CI=true``), where a missing document would otherwise let the test pass having checked nothing.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[1]


def specs_dir() -> Path:
    configured = os.environ.get("FTBRIDGE_SPECS")
    return Path(configured) if configured else REPOSITORY.parent / "shared" / "specs"


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def find_spec(name: str) -> Path | None:
    """The document ``name`` (``openai-openapi.yaml``), or None where it is not available."""
    path = specs_dir() / name
    return path if path.is_file() else None


def require_spec(name: str) -> Path:
    """The document ``name``; skips without it, except in CI, where it fails."""
    path = find_spec(name)
    if path is not None:
        return path
    message = (
        f"{name} is not in {specs_dir()} (shared/specs beside the repository, or set "
        "FTBRIDGE_SPECS)"
    )
    if in_ci():
        pytest.fail(f"{message}; CI must provide it", pytrace=False)
    pytest.skip(message)

"""The spec tests find the providers' API documents beside the repository, and in CI a missing
document fails them instead of letting them pass having checked nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from spec_documents import REPOSITORY, find_spec, require_spec, specs_dir


def test_documents_are_looked_for_beside_the_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FTBRIDGE_SPECS", raising=False)
    assert (REPOSITORY / "pyproject.toml").is_file()
    assert specs_dir() == REPOSITORY.parent / "shared" / "specs"


def test_a_missing_document_skips_locally_and_fails_in_ci(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FTBRIDGE_SPECS", str(tmp_path))
    monkeypatch.delenv("CI", raising=False)
    assert find_spec("openai-openapi.yaml") is None
    with pytest.raises(pytest.skip.Exception, match="not in"):
        require_spec("openai-openapi.yaml")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must provide it"):
        require_spec("openai-openapi.yaml")
    (tmp_path / "openai-openapi.yaml").write_text("openapi: 3.1.0\n")
    assert require_spec("openai-openapi.yaml") == tmp_path / "openai-openapi.yaml"

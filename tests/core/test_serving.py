"""``ftbridge.serve`` in the core: what it refuses before any engine starts (no torch needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

import ftbridge
from ftbridge._serving import build_spec


def test_nothing_to_serve_says_what_to_pass() -> None:
    with pytest.raises(ftbridge.ConfigError, match="nothing to serve"):
        ftbridge.serve()


@pytest.mark.parametrize(("field", "value"), [("max_batch", 0), ("max_loaded", 0), ("port", 70000)])
def test_bad_limits_are_refused(field: str, value: int) -> None:
    with pytest.raises(ftbridge.ConfigError, match=field):
        build_spec(base="b", **{field: value})  # type: ignore[arg-type]


def test_the_key_comes_from_the_environment_and_never_shows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FTBRIDGE_SERVE_API_KEY", "sk-from-env")
    spec = build_spec(base="b")
    assert spec.api_key == "sk-from-env"
    assert "sk-from-env" not in repr(spec)
    assert build_spec(base="b", api_key="sk-arg").api_key == "sk-arg"


def test_a_job_whose_provider_cannot_serve_it_says_so(train_file: Path) -> None:
    job = ftbridge.submit(train_file, provider="fake", model="base")
    job.wait(timeout=30)
    with pytest.raises(ftbridge.NotSupportedError, match="fake jobs cannot be served"):
        ftbridge.serve(job.id)


def test_an_unknown_engine_lists_the_installed_ones() -> None:
    from importlib.metadata import entry_points

    if not list(entry_points(group="ftbridge.servers")):
        with pytest.raises(ftbridge.NotSupportedError, match=r"ftbridge-local\[serve\]"):
            ftbridge.serve(base="b", engine="transformers")
        return
    with pytest.raises(ftbridge.ConfigError, match="unknown serving engine 'nope'"):
        ftbridge.serve(base="b", engine="nope")

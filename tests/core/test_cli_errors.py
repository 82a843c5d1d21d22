"""Wrong or misleading answers, made right: each bad input gets the sentence it deserves."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import ftbridge
from ftbridge.cli import main

SCRIPT = '[["queued", 0.05], ["running", 0.1], ["succeeded", 0]]'


def _submit(capsys: pytest.CaptureFixture[str], train_file: Path, seed: int) -> str:
    code = main(
        [
            "submit",
            str(train_file),
            "--provider",
            "fake",
            "--model",
            "base",
            "--json",
            "--seed",
            str(seed),
            "-o",
            f"script={SCRIPT}",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    return str(json.loads(out)["id"])


def test_an_ambiguous_prefix_lists_the_jobs_it_matches(
    capsys: pytest.CaptureFixture[str], train_file: Path
) -> None:
    first = _submit(capsys, train_file, 1)
    second = _submit(capsys, train_file, 2)
    assert main(["status", "fake:", "--cached"]) == 2
    err = capsys.readouterr().err
    assert "matches 2 jobs" in err and first in err and second in err
    assert "no job" not in err
    with pytest.raises(ftbridge.JobNotFoundError, match="give more of the id"):
        ftbridge.get_job("fake:")
    # an unambiguous prefix, of the id or of the provider's own id, still finds the one job
    assert ftbridge.get_job(first[:-2] if first[:-2] != second[:-2] else first).id == first
    assert ftbridge.get_job(first.split(":", 1)[1]).id == first
    assert main(["status", "fake:nothing-like-it", "--cached"]) == 2
    assert "no job 'fake:nothing-like-it'" in capsys.readouterr().err


def test_submitting_an_invalid_dataset_exits_1_as_documented(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"messages": [{"role": "robot", "content": "hi"}]}\n')
    assert main(["submit", str(bad), "--provider", "fake", "--model", "base"]) == 1
    assert "is not valid" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_a_non_finite_learning_rate_is_refused_as_such(
    capsys: pytest.CaptureFixture[str], train_file: Path, value: str
) -> None:
    code = main(
        [
            "submit",
            str(train_file),
            "--provider",
            "fake",
            "--model",
            "base",
            f"--learning-rate={value}",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "learning_rate: Input should be a finite number" in err
    assert "less than" not in err and "greater than" not in err


def test_the_hyperparameters_model_refuses_non_finite_numbers() -> None:
    for name in ("learning_rate", "learning_rate_multiplier", "warmup_ratio"):
        with pytest.raises(ValueError, match="finite number"):
            ftbridge.Hyperparameters(**{name: float("nan")})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"model": 123}, "model must be a string"),
        ({"options": "x"}, "options must be a mapping"),
        ({"hyperparameters": ["epochs", 3]}, "hyperparameters must be a mapping"),
        ({"suffix": 7}, "suffix must be a string"),
        ({"provider": 5}, "provider must be a provider name"),
    ],
)
def test_wrong_argument_types_are_config_errors(
    train_file: Path, kwargs: dict, message: str
) -> None:
    args = {"provider": "fake", "model": "base", **kwargs}
    with pytest.raises(ftbridge.ConfigError, match=message):
        ftbridge.submit(train_file, **args)


@pytest.mark.parametrize("ref", [None, 42, "", "   "])
def test_get_job_of_a_non_id_is_a_config_error(ref: object) -> None:
    with pytest.raises(ftbridge.ConfigError, match="a job is named by its id"):
        ftbridge.get_job(ref)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["-1", "nan", "inf", "soon"])
def test_wait_refuses_a_negative_or_non_finite_timeout(
    capsys: pytest.CaptureFixture[str], value: str
) -> None:
    assert main(["wait", "fake:x", "--timeout", value]) == 2
    assert "expected a number of seconds" in capsys.readouterr().err


def _broken_plugin(root: Path) -> Path:
    """A distribution whose provider entry point cannot be imported."""
    dist = root / "ftbridge_broken-0.1.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: ftbridge-broken\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        "[ftbridge.providers]\nbroken = ftbridge_broken_mod:Provider\n"
    )
    (root / "ftbridge_broken_mod.py").write_text("import ftbridge_dependency_not_installed\n")
    return root


def test_a_provider_that_cannot_be_imported_is_shown_broken(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(_broken_plugin(tmp_path / "site")))
    assert main(["providers"]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}
    assert "broken: ModuleNotFoundError" in lines["broken"]
    assert "ftbridge_dependency_not_installed" in lines["broken"]
    assert " installed " not in lines["broken"]
    assert "installed" in lines["fake"]
    assert main(["providers", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert "ModuleNotFoundError" in rows["broken"]["error"]
    assert rows["fake"]["error"] is None


def test_a_provider_name_that_is_not_a_string_is_a_config_error(train_file: Path) -> None:
    for call in (
        lambda: ftbridge.get_provider(123),  # type: ignore[arg-type]
        lambda: ftbridge.validate(train_file, provider=5),  # type: ignore[arg-type]
        lambda: ftbridge.list_jobs(provider=5),  # type: ignore[arg-type]
    ):
        with pytest.raises(ftbridge.ConfigError, match="provider must be a string"):
            call()

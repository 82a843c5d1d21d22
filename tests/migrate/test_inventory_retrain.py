"""Leaving a closing provider: what is at risk, plain-words refusals, and retraining elsewhere."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path

import pytest
from ftbridge_openai.emulator import OpenAIEmulator
from ftbridge_together.emulator import TogetherEmulator
from migrate_data import OPENAI_KEY, chat_records, write_jsonl

import ftbridge
from ftbridge.cli import main


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _tuned_openai_job(train: Path, **hp: object) -> ftbridge.Job:
    job = ftbridge.submit(
        train,
        provider="openai",
        model="gpt-4o-mini",
        hyperparameters={"epochs": 2, "learning_rate_multiplier": 2.0, **hp},
        suffix="support",
    )
    job.wait(timeout=60)
    return job


def test_inventory_lists_the_accounts_models_with_the_providers_shutdown_dates(
    openai_emulator: OpenAIEmulator, train_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    job = _tuned_openai_job(train_file)
    items = ftbridge.inventory(today=date(2026, 12, 1))
    mine = [i for i in items if i.model == job.fine_tuned_model]
    assert len(mine) == 1
    item = mine[0]
    assert item.provider == "openai"
    assert item.job == job.id
    assert item.base_model == "gpt-4o-mini-2024-07-18"
    assert item.shutdown_date == date(2027, 1, 14)
    assert item.days_left == 44
    assert item.training_data == "stored"

    assert main(["inventory", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed[0]["model"] == job.fine_tuned_model
    assert listed[0]["shutdown_date"] == "2027-01-14"
    assert set(listed[0]) == {
        "provider",
        "model",
        "job",
        "base_model",
        "created_at",
        "shutdown_date",
        "days_left",
        "training_data",
    }
    assert main(["inventory"]) == 0
    text = capsys.readouterr().out
    assert "stops accepting new fine-tuning jobs on 2027-01-06" in text
    assert OPENAI_KEY not in text


def test_inventory_sees_models_made_outside_ftbridge_and_says_when_data_is_missing(
    openai_emulator: OpenAIEmulator, train_file: Path, ftbridge_home: Path
) -> None:
    job = _tuned_openai_job(train_file)
    (ftbridge_home / "jobs.db").unlink()  # as if it had been made with OpenAI's SDK directly
    for extra in ftbridge_home.glob("jobs.db-*"):
        extra.unlink()
    train_file.write_text("changed\n")
    (item,) = [i for i in ftbridge.inventory("openai") if i.model == job.fine_tuned_model]
    assert item.job is None
    assert item.training_data == "missing"
    assert item.shutdown_date == date(2027, 1, 14)


def test_unknown_shutdown_dates_are_unknown_not_guessed(
    monkeypatch: pytest.MonkeyPatch, train_file: Path
) -> None:
    with OpenAIEmulator(pace=0.02, shutdowns={}) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
        job = _tuned_openai_job(train_file)
        (item,) = [i for i in ftbridge.inventory("openai") if i.model == job.fine_tuned_model]
    assert item.shutdown_date is None
    assert item.days_left is None


def test_a_closed_account_is_told_in_plain_words_what_to_do(
    openai_emulator: OpenAIEmulator, train_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    openai_emulator.closed = True
    with pytest.raises(ftbridge.ProviderClosedError) as caught:
        ftbridge.submit(train_file, provider="openai", model="gpt-4o-mini")
    message = str(caught.value)
    assert "2027-01-06" in message
    assert "ftbridge retrain" in message
    assert ftbridge.list_jobs() == []  # nothing exists remotely: no job is kept
    code = main(["submit", str(train_file), "--provider", "openai", "--model", "gpt-4o-mini"])
    assert code == 3
    assert "ftbridge retrain" in capsys.readouterr().err


def test_a_model_past_its_shutdown_date_says_so(
    openai_emulator: OpenAIEmulator, train_file: Path
) -> None:
    job = _tuned_openai_job(train_file)
    prompt = [{"role": "user", "content": "hello"}]
    assert job.model().chat(prompt).text
    openai_emulator.shutdowns = {"gpt-4o-mini": date(2026, 11, 30)}  # a date already past
    with pytest.raises(ftbridge.ModelShutDownError) as caught:
        job.model().chat(prompt)
    assert "shut down" in str(caught.value)
    assert "2026-11-30" in str(caught.value)
    assert "ftbridge retrain" in str(caught.value)


def test_retrain_to_together_keeps_the_bytes_translates_and_records_lineage(
    openai_emulator: OpenAIEmulator,
    together_emulator: TogetherEmulator,
    train_file: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    old = _tuned_openai_job(train_file, batch_size=8, seed=3)
    model = "meta-llama/Meta-Llama-3.1-8B-Instruct-Reference"
    code = main(["retrain", old.id, "--provider", "together", "--model", model, "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert out["retrained_from"] == old.id
    assert out["dataset_sha256"] == _sha(train_file) == old.spec.training.sha256
    assert out["hyperparameters"]["epochs"] == 2
    assert out["hyperparameters"]["batch_size"] == 8
    assert out["hyperparameters"]["learning_rate"] == pytest.approx(2.0 * 1e-5)
    steps = {s["name"]: s for s in out["translated"]}
    assert steps["learning_rate_multiplier"]["to"] == pytest.approx(2e-5)
    assert "default" in steps["learning_rate_multiplier"]["why"]
    new = ftbridge.get_job(out["job"])
    assert new.provider == "together"
    assert new.retrained_from == old.id
    assert new.spec.training.sha256 == old.spec.training.sha256
    assert main(["status", new.id, "--cached", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["retrained_from"] == old.id
    assert main(["jobs", "--json"]) == 0
    listed = {j["id"]: j for j in json.loads(capsys.readouterr().out)}
    assert listed[new.id]["retrained_from"] == old.id


def test_retrain_uses_the_copy_the_old_provider_holds_when_the_local_file_is_gone(
    openai_emulator: OpenAIEmulator, together_emulator: TogetherEmulator, train_file: Path
) -> None:
    old = _tuned_openai_job(train_file)
    sha = _sha(train_file)
    train_file.unlink()
    plan = ftbridge.migrate._retrain.plan_retrain(
        old.id, provider="together", model="meta-llama/Meta-Llama-3.1-8B-Instruct-Reference"
    )
    assert plan.dataset_sha256 == sha
    assert _sha(plan.training) == sha


@pytest.mark.needs_torch  # retrains into the local provider, which must be installed
def test_retrain_refuses_other_bytes_and_says_which_file_to_pass(
    openai_emulator: OpenAIEmulator, train_file: Path, tmp_path: Path
) -> None:
    old = _tuned_openai_job(train_file)
    other = write_jsonl(tmp_path / "other.jsonl", chat_records(11))
    with pytest.raises(ftbridge.ConfigError, match="not the data"):
        ftbridge.retrain(old.id, provider="local", model="x", data=other)


def test_retrain_of_an_unknown_job_is_a_clear_error(no_remote_env: None) -> None:
    with pytest.raises(ftbridge.JobNotFoundError, match="PROVIDER:JOB_ID"):
        ftbridge.retrain("nonsense", provider="local", model="x")
    assert main(["retrain", "nonsense", "--provider", "local"]) == 2


def test_inventory_covers_every_configured_provider(
    openai_emulator: OpenAIEmulator,
    together_emulator: TogetherEmulator,
    train_file: Path,
) -> None:
    openai_job = _tuned_openai_job(train_file)
    together_job = ftbridge.submit(
        train_file,
        provider="together",
        model="meta-llama/Meta-Llama-3.1-8B-Instruct-Reference",
        hyperparameters={"epochs": 1},
    )
    together_job.wait(timeout=60)
    items = ftbridge.inventory(today=date(2026, 12, 1))
    by_model = {i.model: i for i in items}
    assert by_model[openai_job.fine_tuned_model].days_left == 44
    tg = by_model[together_job.fine_tuned_model]
    assert (tg.provider, tg.job, tg.shutdown_date, tg.days_left) == (
        "together",
        together_job.id,
        None,
        None,
    )
    assert items[-1].provider == "together"  # unknown dates sort after known ones


def test_a_fine_tune_made_outside_ftbridge_is_recorded_and_retrained_by_its_openai_names(
    openai_emulator: OpenAIEmulator,
    together_emulator: TogetherEmulator,
    train_file: Path,
    tmp_path: Path,
    ftbridge_home: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    old = _tuned_openai_job(train_file, batch_size=8)
    sha = _sha(train_file)
    for path in ftbridge_home.glob("jobs.db*"):  # the store never knew it
        path.unlink()
    train_file.unlink()
    prompts = write_jsonl(tmp_path / "prompts.jsonl", chat_records(3))
    golden = tmp_path / "golden.jsonl"
    ref = f"openai:{old.fine_tuned_model}"
    assert main(["record", ref, "--data", str(prompts), "--out", str(golden)]) == 0
    assert len(golden.read_text().splitlines()) == 3
    model = "meta-llama/Meta-Llama-3.1-8B-Instruct-Reference"
    capsys.readouterr()
    code = main(["retrain", old.id, "--provider", "together", "--model", model, "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    out = json.loads(captured.out)
    assert out["dataset_sha256"] == sha  # the copy OpenAI still holds
    assert out["hyperparameters"]["epochs"] == 2  # what OpenAI reports it trained with
    assert out["hyperparameters"]["batch_size"] == 8
    assert ftbridge.get_job(out["job"]).retrained_from == old.id


def test_retrain_to_a_provider_that_cannot_take_the_data_says_why_before_submitting(
    openai_emulator: OpenAIEmulator, together_emulator: TogetherEmulator, tmp_path: Path
) -> None:
    records = [
        {
            "messages": [
                {"role": "user", "content": f"q{i}"},
                {"role": "user", "content": "again"},
                {"role": "assistant", "content": f"a{i}"},
            ]
        }
        for i in range(12)
    ]  # consecutive user turns: fine for OpenAI, not for Together
    train = write_jsonl(tmp_path / "t.jsonl", records)
    old = _tuned_openai_job(train)
    with pytest.raises(ftbridge.DatasetValidationError, match="together"):
        ftbridge.migrate.plan_retrain(
            old.id, provider="together", model="meta-llama/Meta-Llama-3.1-8B-Instruct-Reference"
        )
    assert together_emulator.count("POST", r".*") == 0


def test_the_emulator_command_line_plays_a_closed_account(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    server = subprocess.Popen(
        [sys.executable, "-m", "ftbridge_openai.emulator", "--closed", "--today", "2027-02-01"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        url = server.stdout.readline().strip()  # type: ignore[union-attr]
        env = {**os.environ, "OPENAI_BASE_URL": url, "OPENAI_API_KEY": "sk-x"}
        train = write_jsonl(tmp_path / "t.jsonl", chat_records())
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "ftbridge",
                "submit",
                str(train),
                "--provider",
                "openai",
                "--model",
                "gpt-4o-mini",
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert done.returncode == 3
    assert "stops accepting new fine-tuning jobs on 2027-01-06" in done.stderr
    assert "ftbridge retrain" in done.stderr


def test_inventory_ends_against_a_server_that_repeats_its_job_listing(
    openai_emulator: OpenAIEmulator, train_file: Path
) -> None:
    job = _tuned_openai_job(train_file)
    page = {
        "object": "list",
        "data": [_job_json(openai_emulator, job)],
        "has_more": True,
    }
    openai_emulator.faults.inject("GET", r"/v1/fine_tuning/jobs$", status=200, body=page)
    items = ftbridge.inventory("openai")
    assert [i.model for i in items] == [job.fine_tuned_model]
    assert openai_emulator.count("GET", r"/v1/fine_tuning/jobs$") <= 3


def _job_json(server: OpenAIEmulator, job: ftbridge.Job) -> dict:
    from ftbridge_openai.emulator._jobs import job_object

    return job_object(server.jobs[job.native_id])

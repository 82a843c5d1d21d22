"""Uploads: record then bytes then READY, reuse of the same bytes, the signed-URL path, refusals."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from fireworks_data import ACCOUNT, API_KEY, chat_records, spec_for, write_jsonl
from ftbridge_fireworks import DatasetRejectedError, FireworksProvider
from ftbridge_fireworks.emulator import FireworksEmulator

from ftbridge import JobStatus, TransientProviderError

DATASETS = f"/v1/accounts/{ACCOUNT}/datasets"


def dataset_id(path: Path) -> str:
    return "ftb-" + hashlib.sha256(path.read_bytes()).hexdigest()[:56]


def test_the_dataset_is_created_uploaded_and_waited_for(
    emulator: FireworksEmulator, provider: FireworksProvider, train_file: Path
) -> None:
    snapshot = provider.submit(None, spec_for(train_file))  # type: ignore[arg-type]
    ident = dataset_id(train_file)
    log = [(r.method, r.path.replace(ident, "{id}"), r.status) for r in emulator.request_log]
    assert log[:4] == [
        ("GET", f"{DATASETS}/{{id}}", 404),
        ("POST", DATASETS, 200),
        ("POST", f"{DATASETS}/{{id}}:upload", 200),
        ("GET", f"{DATASETS}/{{id}}", 200),
    ]
    created = emulator.bodies("POST", DATASETS)[0]
    assert created == {
        "datasetId": ident,
        "dataset": {
            "userUploaded": {},
            "exampleCount": "12",
            "displayName": "train.jsonl",
            "format": "CHAT",
        },
    }
    stored = emulator.datasets[(ACCOUNT, ident)]
    assert stored.data() == train_file.read_bytes()
    # The job was created only once the dataset was READY, naming it.
    job_body = emulator.bodies("POST", f"/v1/accounts/{ACCOUNT}/supervisedFineTuningJobs")[0]
    assert job_body["dataset"] == f"accounts/{ACCOUNT}/datasets/{ident}"
    assert snapshot.details["dataset"] == job_body["dataset"]


def test_the_same_bytes_are_not_sent_twice(
    emulator: FireworksEmulator, train_file: Path, tmp_path: Path
) -> None:
    first = FireworksProvider(api_key=API_KEY, account_id=ACCOUNT, base_url=emulator.base_url)
    first.submit(None, spec_for(train_file, key="k1"))  # type: ignore[arg-type]
    # Another process, the same bytes under another name: the dataset is found by its id.
    copy = tmp_path / "copy.jsonl"
    copy.write_bytes(train_file.read_bytes())
    second = FireworksProvider(api_key=API_KEY, account_id=ACCOUNT, base_url=emulator.base_url)
    second.submit(None, spec_for(copy, key="k2"))  # type: ignore[arg-type]
    assert len(emulator.datasets) == 1 and len(emulator.jobs) == 2
    assert emulator.count("POST", rf"{DATASETS}/[^/]+:upload") == 1
    assert emulator.count("POST", DATASETS) == 1


def test_large_files_go_through_a_signed_url(emulator: FireworksEmulator, train_file: Path) -> None:
    provider = FireworksProvider(
        api_key=API_KEY, account_id=ACCOUNT, base_url=emulator.base_url, direct_upload_limit=100
    )
    snapshot = provider.submit(None, spec_for(train_file))  # type: ignore[arg-type]
    ident = dataset_id(train_file)
    log = [(r.method, r.path.replace(ident, "{id}"), r.status) for r in emulator.request_log]
    assert log[2:5] == [
        ("POST", f"{DATASETS}/{{id}}:getUploadEndpoint", 200),
        ("PUT", f"/_signed/{ACCOUNT}/{{id}}/train.jsonl", 200),
        ("POST", f"{DATASETS}/{{id}}:validateUpload", 200),
    ]
    size = str(train_file.stat().st_size)
    assert emulator.bodies("POST", f"{DATASETS}/{ident}:getUploadEndpoint") == [
        {"filenameToSize": {"train.jsonl": size}}
    ]
    # The emulator's signed URL refuses a request that carries the API key or lacks the
    # signed headers, so this PUT carried neither the key nor wrong headers.
    assert emulator.datasets[(ACCOUNT, ident)].data() == train_file.read_bytes()
    assert snapshot.status is not JobStatus.FAILED


def test_a_dataset_fireworks_refuses_is_reported_and_not_sent_again(
    emulator: FireworksEmulator, provider: FireworksProvider, train_file: Path
) -> None:
    emulator.reject_next_dataset("Line 7: messages[1].content must be a string.")
    with pytest.raises(DatasetRejectedError) as caught:
        provider.submit(None, spec_for(train_file))  # type: ignore[arg-type]
    error = caught.value
    assert "INVALID_ARGUMENT" in str(error) and "Line 7" in str(error)
    assert error.server_status["code"] == "INVALID_ARGUMENT"
    assert emulator.jobs == {}
    again = FireworksProvider(api_key=API_KEY, account_id=ACCOUNT, base_url=emulator.base_url)
    with pytest.raises(DatasetRejectedError, match="Line 7"):
        again.submit(None, spec_for(train_file))  # type: ignore[arg-type]
    assert emulator.count("POST", rf"{DATASETS}/[^/]+:upload") == 1


def test_the_emulator_applies_fireworks_rules(
    emulator: FireworksEmulator, provider: FireworksProvider, tmp_path: Path
) -> None:
    records = chat_records(4)
    records[2]["messages"][2]["weight"] = 0.5
    path = write_jsonl(tmp_path / "weights.jsonl", records)
    with pytest.raises(DatasetRejectedError, match=r"Line 3: messages\[2\].weight must be 0 or 1"):
        provider.submit(None, spec_for(path))  # type: ignore[arg-type]


def test_an_interrupted_upload_gets_its_bytes_again(
    emulator: FireworksEmulator, provider: FireworksProvider, train_file: Path
) -> None:
    # The record was created, then the process died before the bytes were sent.
    emulator.faults.inject("POST", rf"{DATASETS}/[^/]+:upload", drop=True, times=1)
    with pytest.raises(TransientProviderError, match="Fireworks"):
        provider.submit(None, spec_for(train_file))  # type: ignore[arg-type]
    fresh = FireworksProvider(api_key=API_KEY, account_id=ACCOUNT, base_url=emulator.base_url)
    snapshot = fresh.submit(None, spec_for(train_file))  # type: ignore[arg-type]
    assert emulator.count("POST", DATASETS) == 1  # the record was reused
    assert emulator.count("POST", rf"{DATASETS}/[^/]+:upload", handled=True) == 1
    assert snapshot.native_id.startswith("sft/")

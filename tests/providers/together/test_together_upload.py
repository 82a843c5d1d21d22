"""Uploads: the SDK's presigned-URL flow, reuse of the same bytes, Together's own validation."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import together
from ftbridge_together import FileRejectedError, TogetherProvider
from ftbridge_together.emulator import TogetherEmulator
from together.lib.resources.files import MultipartUploadManager
from together_data import API_KEY, chat_records, spec_for, write_jsonl

UPLOAD = [
    ("POST", "/v1/files", 302),
    ("PUT", "/_upload/{id}", 200),
    ("POST", "/v1/files/{id}/preprocess", 200),
]


def test_upload_follows_the_sdk_flow_and_waits_for_validation(
    emulator: TogetherEmulator, provider: TogetherProvider, train_file: Path
) -> None:
    check = provider.preflight(None, spec_for(train_file))  # type: ignore[arg-type]
    file_id = check.estimates["training_file"]
    log = [(r.method, r.path.replace(file_id, "{id}"), r.status) for r in emulator.request_log]
    start = log.index(UPLOAD[0])
    assert log[start : start + 3] == UPLOAD
    # Together validates asynchronously: the file was polled until it was COMPLETED...
    polls = [entry for entry in log if entry[:2] == ("GET", "/v1/files/{id}")]
    assert polls
    assert emulator._file_status(emulator.files[file_id]) == "COMPLETED"
    # ...before the price was asked for (which needs a validated file).
    assert log.index(polls[-1]) < log.index(("POST", "/v1/fine-tunes/estimate-price", 200))
    assert check.estimates["price_usd"] > 0
    assert emulator.files[file_id].data == train_file.read_bytes()


def test_the_same_bytes_are_not_sent_twice(
    emulator: TogetherEmulator, train_file: Path, tmp_path: Path
) -> None:
    first = TogetherProvider(api_key=API_KEY, base_url=emulator.base_url)
    file_id = first.preflight(None, spec_for(train_file)).estimates["training_file"]  # type: ignore[arg-type]
    # Another process, the same bytes under another name: Together answers 409 with the id.
    copy = tmp_path / "copy.jsonl"
    copy.write_bytes(train_file.read_bytes())
    second = TogetherProvider(api_key=API_KEY, base_url=emulator.base_url)
    again = second.preflight(None, spec_for(copy)).estimates["training_file"]  # type: ignore[arg-type]
    assert again == file_id
    assert emulator.count("PUT", r"/_upload/.*") == 1
    assert [r.status for r in emulator.request_log if r.path == "/v1/files"] == [302, 409]
    assert len(emulator.files) == 1


def test_a_file_with_another_extension_is_uploaded_as_jsonl(
    emulator: TogetherEmulator, provider: TogetherProvider, tmp_path: Path
) -> None:
    path = write_jsonl(tmp_path / "train.data", chat_records())
    file_id = provider.preflight(None, spec_for(path)).estimates["training_file"]  # type: ignore[arg-type]
    assert emulator.files[file_id].file_type == "jsonl"


def test_a_file_together_refuses_is_reported_with_its_report(
    emulator: TogetherEmulator, provider: TogetherProvider, train_file: Path
) -> None:
    emulator.reject_next_file("Invalid role turns on line 7 of the input file.")
    with pytest.raises(FileRejectedError) as caught:
        provider.preflight(None, spec_for(train_file))  # type: ignore[arg-type]
    error = caught.value
    assert "INVALID_FORMAT" in str(error)
    assert "Invalid role turns on line 7" in str(error)
    assert error.server_report["valid"] is False
    assert emulator.count("POST", r"/v1/fine-tunes.*") == 0
    # Submitting the same bytes again finds the refused file and says so again, without upload.
    with pytest.raises(FileRejectedError, match="line 7"):
        TogetherProvider(api_key=API_KEY, base_url=emulator.base_url).submit(
            None,  # type: ignore[arg-type]
            spec_for(train_file),
        )
    assert emulator.count("PUT", r"/_upload/.*") == 1
    assert emulator.count("POST", r"/v1/fine-tunes") == 0


def test_the_emulator_applies_togethers_rules(
    emulator: TogetherEmulator, provider: TogetherProvider, tmp_path: Path
) -> None:
    bad = [
        {"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]},
        {
            "messages": [
                {"role": "user", "content": "a"},
                {"role": "user", "content": "again"},
                {"role": "assistant", "content": "b"},
            ]
        },
    ]
    path = write_jsonl(tmp_path / "turns.jsonl", bad)
    with pytest.raises(FileRejectedError, match="line 2") as caught:
        provider.preflight(None, spec_for(path))  # type: ignore[arg-type]
    assert caught.value.server_report["error_type"] == "INVALID_FORMAT"
    assert "alternate" in caught.value.server_report["error"]


def test_the_multipart_flow_for_large_files(
    emulator: TogetherEmulator, provider: TogetherProvider, train_file: Path
) -> None:
    # The SDK switches to this flow by itself past 5 GiB; here its manager is driven directly.
    client = together.Together(api_key=API_KEY, base_url=emulator.base_url, max_retries=0)
    checksum = hashlib.sha256(train_file.read_bytes()).hexdigest()
    uploaded = MultipartUploadManager(client).upload("/v1/files", train_file, checksum, "fine-tune")
    assert emulator.files[uploaded.id].data == train_file.read_bytes()
    assert [r.path for r in emulator.request_log][:3] == [
        "/v1/files/multipart/initiate",
        f"/_upload/{uploaded.id}/parts/1",
        "/v1/files/multipart/complete",
    ]
    # The file is validated like any other, and the same bytes are not sent again.
    check = provider.preflight(None, spec_for(train_file))  # type: ignore[arg-type]
    assert check.estimates["training_file"] == uploaded.id
    assert emulator.count("PUT", r"/_upload/.*") == 1

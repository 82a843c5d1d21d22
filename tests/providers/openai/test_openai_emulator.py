"""The emulator speaks OpenAI's API as documented: responses fit the published schemas, bad
requests get OpenAI's error envelope, bad training data fails the job naming the example."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from ftbridge_openai.emulator import OpenAIEmulator
from ftbridge_openai.emulator._data import check_file
from ftbridge_openai.emulator._schemas import schema_document
from openai_data import API_KEY, chat_records
from spec_documents import find_spec, require_spec

SPEC_NAME = "openai-openapi.yaml"
Check = Callable[[str, Any], list[str]]


def _vendor_tool() -> Any:
    path = Path(__file__).parents[3] / "providers/openai/tools/vendor_openapi_schemas.py"
    spec = importlib.util.spec_from_file_location("vendor_openapi_schemas", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def full_spec() -> dict[str, Any] | None:
    """OpenAI's OpenAPI document, loaded once (it is 3 MB), or None where it is not available
    (the schemas vendored in the emulator are checked instead)."""
    path = find_spec(SPEC_NAME)
    return dict(_vendor_tool().load(path)) if path is not None else None


@pytest.fixture(scope="session")
def conforms(full_spec: dict[str, Any] | None) -> Check:
    """``conforms(schema_name, body)`` → the schema violations (none is good).

    Checks against the schemas of OpenAI's full OpenAPI document when it is available, else
    against those vendored with the emulator. The document mixes OpenAPI 3.0 idioms
    (``nullable``, boolean ``exclusiveMinimum``) into 3.1; they are read as 3.0 meant them.
    """
    from jsonschema import Draft202012Validator

    if full_spec is not None:
        tool = _vendor_tool()
        schemas = {
            "components": {
                "schemas": {
                    k: tool.normalise(v) for k, v in full_spec["components"]["schemas"].items()
                }
            }
        }
    else:
        schemas = schema_document()
    cache: dict[str, Any] = {}

    def check(name: str, body: Any) -> list[str]:
        if name not in cache:
            cache[name] = Draft202012Validator({**schemas, "$ref": f"#/components/schemas/{name}"})
        return [f"{list(e.absolute_path)}: {e.message}" for e in cache[name].iter_errors(body)]

    return check


def test_vendored_schemas_match_the_published_document(full_spec: dict[str, Any] | None) -> None:
    if full_spec is None:
        require_spec(SPEC_NAME)  # skips, or fails in CI
    assert full_spec is not None
    assert _vendor_tool().extract(full_spec) == schema_document(), (
        "regenerate with providers/openai/tools/vendor_openapi_schemas.py"
    )


@pytest.fixture
def api(emulator: OpenAIEmulator) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {API_KEY}"}
    with httpx.Client(base_url=emulator.base_url, headers=headers, timeout=10) as client:
        yield client


def _jsonl(records: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in records).encode()


def _wait(api: httpx.Client, job_id: str, status: str) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while True:
        job = api.get(f"/fine_tuning/jobs/{job_id}").json()
        if job["status"] == status or time.monotonic() > deadline:
            assert job["status"] == status
            return dict(job)
        time.sleep(0.02)


def test_responses_fit_the_published_schemas(api: httpx.Client, conforms: Check) -> None:
    content = _jsonl(chat_records())
    upload = api.post("/files", data={"purpose": "fine-tune"}, files={"file": ("t.jsonl", content)})
    file = upload.json()
    assert conforms("OpenAIFile", file) == []
    assert conforms("ListFilesResponse", api.get("/files").json()) == []
    created = api.post(
        "/fine_tuning/jobs",
        json={"model": "gpt-4o-mini", "training_file": file["id"], "validation_file": file["id"]},
    ).json()
    assert created["status"] == "validating_files"
    assert conforms("FineTuningJob", created) == []
    job = _wait(api, created["id"], "succeeded")
    assert conforms("FineTuningJob", job) == []
    listed = api.get("/fine_tuning/jobs", params={"limit": 1}).json()
    assert conforms("ListPaginatedFineTuningJobsResponse", listed) == []
    events = api.get(f"/fine_tuning/jobs/{job['id']}/events", params={"limit": 100}).json()
    assert conforms("ListFineTuningJobEventsResponse", events) == []
    assert {e["type"] for e in events["data"]} == {"message", "metrics"}
    checkpoints = api.get(f"/fine_tuning/jobs/{job['id']}/checkpoints").json()
    assert (
        checkpoints["data"] and conforms("ListFineTuningJobCheckpointsResponse", checkpoints) == []
    )
    csv = api.get(f"/files/{job['result_files'][0]}/content").text
    assert (
        csv.splitlines()[0] == "step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy"
    )
    assert conforms("OpenAIFile", api.get(f"/files/{job['result_files'][0]}").json()) == []

    chat = {"model": job["fine_tuned_model"], "messages": [{"role": "user", "content": "hi"}]}
    assert (
        conforms("CreateChatCompletionResponse", api.post("/chat/completions", json=chat).json())
        == []
    )
    with api.stream("POST", "/chat/completions", json={**chat, "stream": True}) as reply:
        chunks = [
            json.loads(line[6:])
            for line in reply.iter_lines()
            if line.startswith("data: ") and line != "data: [DONE]"
        ]
    assert chunks and all(conforms("CreateChatCompletionStreamResponse", c) == [] for c in chunks)

    started = api.post(
        "/uploads",
        json={
            "bytes": len(content),
            "filename": "big.jsonl",
            "mime_type": "text/jsonl",
            "purpose": "fine-tune",
        },
    ).json()
    assert conforms("Upload", started) == []
    part = api.post(f"/uploads/{started['id']}/parts", files={"data": ("blob", content)}).json()
    assert conforms("UploadPart", part) == []
    done = api.post(
        f"/uploads/{started['id']}/complete",
        json={"part_ids": [part["id"]], "md5": hashlib.md5(content).hexdigest()},
    ).json()
    assert done["status"] == "completed" and conforms("Upload", done) == []
    deleted = api.delete(f"/files/{file['id']}").json()
    assert conforms("DeleteFileResponse", deleted) == []
    missing = api.get(f"/files/{file['id']}")
    assert missing.status_code == 404 and conforms("ErrorResponse", missing.json()) == []


def test_a_paused_job_reports_the_status_the_enum_lacks(api: httpx.Client, conforms: Check) -> None:
    emulator_slow = OpenAIEmulator(pace=0.5).start()
    try:
        headers = {"Authorization": f"Bearer {API_KEY}"}
        with httpx.Client(base_url=emulator_slow.base_url, headers=headers) as slow:
            file = slow.post(
                "/files",
                data={"purpose": "fine-tune"},
                files={"file": ("t.jsonl", _jsonl(chat_records()))},
            ).json()
            job = slow.post(
                "/fine_tuning/jobs", json={"model": "gpt-4o-mini", "training_file": file["id"]}
            ).json()
            _wait(slow, job["id"], "running")
            paused = slow.post(f"/fine_tuning/jobs/{job['id']}/pause").json()
    finally:
        emulator_slow.stop()
    # OpenAI returns "paused" (its own pause example does) though the schema's enum omits it.
    assert paused["status"] == "paused"
    problems = conforms("FineTuningJob", paused)
    assert len(problems) == 1 and "'paused'" in problems[0]


@pytest.mark.parametrize(
    ("body", "param", "message"),
    [
        ({"model": "gpt-4o-mini"}, "training_file", "Missing required parameter"),
        (
            {"model": "gpt-4o-mini", "training_file": "FILE", "suffix": "x" * 65},
            "suffix",
            "Invalid value",
        ),
        (
            {
                "model": "gpt-4o-mini",
                "training_file": "FILE",
                "method": {
                    "type": "supervised",
                    "supervised": {"hyperparameters": {"n_epochs": 0}},
                },
            },
            "method.supervised.hyperparameters.n_epochs",
            "less than the minimum",
        ),
        (
            {"model": "gpt-4o-mini", "training_file": "FILE", "epochs": 3},
            "epochs",
            "Unrecognized request argument",
        ),
        ({"model": "gpt-4o-mini", "training_file": "file-nope"}, "training_file", "No such File"),
        ({"model": "gpt-99", "training_file": "FILE"}, "model", "not available for fine-tuning"),
    ],
)
def test_bad_create_requests_get_openais_error_envelope(
    api: httpx.Client,
    emulator: OpenAIEmulator,
    conforms: Check,
    body: dict[str, Any],
    param: str,
    message: str,
) -> None:
    file = api.post(
        "/files", data={"purpose": "fine-tune"}, files={"file": ("t.jsonl", _jsonl(chat_records()))}
    ).json()
    if body.get("training_file") == "FILE":
        body = {**body, "training_file": file["id"]}
    reply = api.post("/fine_tuning/jobs", json=body)
    assert reply.status_code == 400
    assert conforms("ErrorResponse", reply.json()) == []
    error = reply.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param
    assert message in error["message"]
    assert emulator.jobs == {}


def test_other_refusals(api: httpx.Client) -> None:
    not_json = api.post(
        "/fine_tuning/jobs", content=b"{", headers={"Content-Type": "application/json"}
    )
    assert not_json.status_code == 400 and "JSON" in not_json.json()["error"]["message"]
    not_jsonl = api.post(
        "/files", data={"purpose": "fine-tune"}, files={"file": ("t.jsonl", b'{"a": 1}\n[1, 2]\n')}
    )
    assert not_jsonl.status_code == 400 and "Line 2" in not_jsonl.json()["error"]["message"]
    bad_purpose = api.post("/files", data={"purpose": "fun"}, files={"file": ("t.jsonl", b"{}")})
    assert bad_purpose.json()["error"]["param"] == "purpose"
    no_key = httpx.post(str(api.base_url) + "/fine_tuning/jobs", json={})
    assert no_key.status_code == 401
    started = api.post(
        "/uploads",
        json={
            "bytes": 10,
            "filename": "x.jsonl",
            "mime_type": "text/jsonl",
            "purpose": "fine-tune",
        },
    ).json()
    part = api.post(f"/uploads/{started['id']}/parts", files={"data": ("blob", b"{}\n")}).json()
    short = api.post(f"/uploads/{started['id']}/complete", json={"part_ids": [part["id"]]})
    assert short.status_code == 400 and "expected 10 bytes" in short.json()["error"]["message"]
    unknown_model = api.post(
        "/chat/completions",
        json={"model": "ft:nope", "messages": [{"role": "user", "content": "x"}]},
    )
    assert unknown_model.status_code == 404
    assert unknown_model.json()["error"]["code"] == "model_not_found"


def test_list_jobs_pages_and_filters_by_metadata(api: httpx.Client) -> None:
    file = api.post(
        "/files", data={"purpose": "fine-tune"}, files={"file": ("t.jsonl", _jsonl(chat_records()))}
    ).json()
    ids = [
        api.post(
            "/fine_tuning/jobs",
            json={"model": "gpt-4o-mini", "training_file": file["id"], "metadata": {"n": str(i)}},
        ).json()["id"]
        for i in range(5)
    ]
    first = api.get("/fine_tuning/jobs", params={"limit": 2}).json()
    assert [j["id"] for j in first["data"]] == ids[::-1][:2] and first["has_more"]
    rest = api.get("/fine_tuning/jobs", params={"limit": 10, "after": ids[3]}).json()
    assert [j["id"] for j in rest["data"]] == ids[::-1][2:] and not rest["has_more"]
    only = api.get("/fine_tuning/jobs", params={"metadata[n]": "3"}).json()
    assert [j["id"] for j in only["data"]] == [ids[3]]


def test_server_side_data_checks_name_the_example() -> None:
    good = _jsonl(chat_records())
    assert check_file(good, "supervised").error is None
    lines = good.splitlines()
    lines[4] = b'{"messages": [{"role": "user", "content": "only a question"}]}'
    error = check_file(b"\n".join(lines), "supervised").error
    assert error is not None and "Example 5" in error and "assistant" in error
    lines[4] = b"{not json"
    error = check_file(b"\n".join(lines), "supervised").error
    assert error is not None and "Example 5" in error and "not valid JSON" in error
    error = check_file(b"\n".join(lines[:3]), "supervised").error
    assert error is not None and "at least 10" in error
    assert check_file(good, "dpo").error is not None  # chat records are not preference pairs


def test_the_command_line_serves_with_faults() -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ftbridge_openai.emulator",
            "--port",
            "0",
            "--pace",
            "0.05",
            "--fault",
            "GET /v1/files=429,retry_after=2,times=1",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        base_url = proc.stdout.readline().strip()
        headers = {"Authorization": f"Bearer {API_KEY}"}
        with httpx.Client(base_url=base_url, headers=headers) as client:
            limited = client.get("/files")
            assert limited.status_code == 429 and limited.headers["retry-after"] == "2"
            assert client.get("/files").json()["object"] == "list"
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0

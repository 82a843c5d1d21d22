"""The emulator's responses follow Fireworks' reference pages and the SDK's own types.

The pages in ``../shared/specs/fireworks/`` (resolved from the repository: its parent holds
``shared/``) embed an OpenAPI block: older pages in Mintlify's form (``schemaArray`` of
``allOf`` properties), newer ones as OpenAPI 3.1. Both are turned into a JSON Schema here and
each response the real SDK drove the emulator to is validated against the page of its route,
refusing top-level fields the page does not have (except the few only the SDK has, listed).
Then the same bodies are parsed by the SDK's types with strict validation.
"""

from __future__ import annotations

import functools
import json
import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from fireworks import types as fwtypes
from fireworks.types.chat.chat_completion_chunk import ChatCompletionChunk
from fireworks.types.chat.completion_create_response import CompletionCreateResponse
from fireworks_data import ACCOUNT, API_KEY, spec_for
from ftbridge_fireworks import FireworksProvider
from ftbridge_fireworks.emulator import FireworksEmulator
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from ftbridge import Hyperparameters

SPECS = Path(__file__).resolve().parents[3].parent / "shared" / "specs" / "fireworks"
# Fields the SDK's types have and the pages do not (README.md there lists the disagreements).
SDK_ONLY = {
    "jobProgress",
    "estimatedCost",
    "trainerLogsSignedUrl",
    "batchSizeSamples",
    "supportsServerless",
    "lossConfig",
}


@functools.cache
def page_schema(page: str, status: str = "200") -> tuple[dict[str, Any], Registry[Any]]:
    """The response schema of a reference page, and a registry resolving its ``$ref``s."""
    text = (SPECS / page).read_text(encoding="utf-8")
    block = re.search(r"````yaml[^\n]*\n(.*?)\n````", text, re.S)
    assert block, f"{page} has no OpenAPI block"
    doc: dict[str, Any] = yaml.safe_load(block.group(1))
    if "openapi" in doc:  # OpenAPI 3.1
        ((_, ops),) = doc["paths"].items()
        ((_, op),) = ops.items()
        schema = op["responses"][status]["content"]["application/json"]["schema"]
    else:  # Mintlify: properties wrapped in allOf
        body = doc["paths"]["response"][status]["application/json"]["schemaArray"][0]
        schema = {"type": "object", "properties": body.get("properties", {})}
    root = f"urn:fireworks:{page}"
    registry: Registry[Any] = Registry().with_resource(
        root, Resource.from_contents(doc, default_specification=DRAFT202012)
    )
    schema = json.loads(json.dumps(schema).replace('"#/components', f'"{root}#/components'))
    return schema, registry


def check(page: str, body: Any, *, strict: bool = True, status: str = "200") -> None:
    schema, registry = page_schema(page, status)
    if strict and schema.get("type") == "object" and "properties" in schema:
        extra = set(body) - set(schema["properties"]) - SDK_ONLY
        assert not extra, f"{page}: fields the page does not have: {sorted(extra)}"
    errors = list(Draft202012Validator(schema, registry=registry).iter_errors(body))
    assert not errors, f"{page}: " + "; ".join(
        f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors[:5]
    )


def list_check(page: str, body: dict[str, Any], key: str, item_page: str) -> None:
    check(page, body)
    assert isinstance(body[key], list) and body[key], f"{page}: empty {key}"
    for item in body[key]:
        check(item_page, item)


@pytest.fixture(scope="module")
def specs() -> Path:
    # Not a skip: without the pages this test would check nothing.
    assert SPECS.is_dir(), f"the Fireworks reference pages are missing: {SPECS}"
    return SPECS


def test_responses_follow_the_reference_pages_and_the_sdk_types(
    specs: Path,
    emulator: FireworksEmulator,
    provider: FireworksProvider,
    train_file: Path,
    dpo_file: Path,
) -> None:
    emulator.pace = 0.1  # slow enough to see a job before it completes
    spec = spec_for(train_file, hyperparameters=Hyperparameters(epochs=2, lora_rank=16))
    native = provider.submit(None, spec).native_id  # type: ignore[arg-type]
    http = httpx.Client(base_url=emulator.url, headers={"Authorization": f"Bearer {API_KEY}"})
    acct = f"/v1/accounts/{ACCOUNT}"

    def get(path: str, **kw: Any) -> Any:
        response = http.get(path, **kw)
        assert response.status_code == 200, response.text
        return response.json()

    job_id = native.split("/")[1]
    states = set()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        job = get(f"{acct}/supervisedFineTuningJobs/{job_id}")
        check("get-supervised-fine-tuning-job.md", job)
        fwtypes.SupervisedFineTuningJob.model_validate(job, strict=False)
        states.add(job["state"])
        if job["state"] == "JOB_STATE_COMPLETED":
            break
        time.sleep(0.01)
    assert "JOB_STATE_COMPLETED" in states and len(states) >= 2
    list_check(
        "list-supervised-fine-tuning-jobs.md",
        get(f"{acct}/supervisedFineTuningJobs", params={"pageSize": 1}),
        "supervisedFineTuningJobs",
        "get-supervised-fine-tuning-job.md",
    )

    dataset_name = job["dataset"]
    dataset = get(f"/v1/{dataset_name}")
    check("get-dataset.md", dataset)
    assert fwtypes.Dataset.model_validate(dataset).state == "READY"
    list_check("list-datasets.md", get(f"{acct}/datasets"), "datasets", "get-dataset.md")

    created = http.post(
        f"{acct}/datasets",
        json={"datasetId": "spec-check", "dataset": {"userUploaded": {}, "exampleCount": "3"}},
    )
    check("create-dataset.md", created.json())
    endpoint = http.post(
        f"{acct}/datasets/spec-check:getUploadEndpoint",
        json={"filenameToSize": {"a.jsonl": "10"}},
    )
    check("get-dataset-upload-endpoint.md", endpoint.json())
    fwtypes.DatasetGetUploadEndpointResponse.model_validate(endpoint.json())
    upload = http.post(
        f"{acct}/datasets/spec-check:upload",
        files={"file": ("a.jsonl", train_file.read_bytes(), "application/jsonl")},
    )
    check("upload-dataset-files.md", upload.json())
    fwtypes.DatasetUploadResponse.model_validate(upload.json())

    model = get(f"/v1/accounts/{ACCOUNT}/models/{job_id}")
    check("get-model.md", model)
    assert fwtypes.Model.model_validate(model).kind == "HF_PEFT_ADDON"
    check("get-model.md", get("/v1/accounts/fireworks/models/llama-v3p1-8b-instruct"))
    list_check("list-models.md", get(f"{acct}/models"), "models", "get-model.md")

    dpo_spec = spec_for(dpo_file, method="dpo", key="dpo-key")
    dpo_id = provider.submit(None, dpo_spec).native_id.split("/")[1]  # type: ignore[arg-type]
    while get(f"{acct}/dpoJobs/{dpo_id}")["state"] != "JOB_STATE_COMPLETED":
        time.sleep(0.01)
    dpo = get(f"{acct}/dpoJobs/{dpo_id}")
    check("get-dpo-job.md", dpo)
    fwtypes.DpoJob.model_validate(dpo)
    list_check("list-dpo-jobs.md", get(f"{acct}/dpoJobs"), "dpoJobs", "get-dpo-job.md")
    metrics = get(f"{acct}/dpoJobs/{dpo_id}:getMetricsFileEndpoint")
    check("get-dpo-job-metrics-file-endpoint.md", metrics)

    sft_body = {
        "dataset": dataset_name,
        "baseModel": "accounts/fireworks/models/llama-v3p1-8b-instruct",
    }
    fresh = http.post(f"{acct}/supervisedFineTuningJobs", json=sft_body)
    check("create-supervised-fine-tuning-job.md", fresh.json())
    fresh_id = fresh.json()["name"].rsplit("/", 1)[1]
    assert (
        http.post(f"{acct}/supervisedFineTuningJobs/{fresh_id}:cancel", json={}).status_code == 200
    )
    deleted = http.delete(f"{acct}/supervisedFineTuningJobs/{fresh_id}")
    check("delete-supervised-fine-tuning-job.md", deleted.json(), strict=False)
    dpo_body = {"dataset": dataset_name, "trainingConfig": {"baseModel": sft_body["baseModel"]}}
    created_dpo = http.post(f"{acct}/dpoJobs", json=dpo_body)
    check("create-dpo-job.md", created_dpo.json())
    dpo_fresh = created_dpo.json()["name"].rsplit("/", 1)[1]
    http.post(f"{acct}/dpoJobs/{dpo_fresh}:cancel", json={})
    while get(f"{acct}/dpoJobs/{dpo_fresh}")["state"] != "JOB_STATE_CANCELLED":
        time.sleep(0.01)
    resumed = http.post(f"{acct}/dpoJobs/{dpo_fresh}:resume", json={})
    check("resume-dpo-job.md", resumed.json())

    messages = [{"role": "user", "content": "hi"}]
    name = model["name"]
    reply = http.post("/v1/chat/completions", json={"model": name, "messages": messages})
    check("post-chatcompletions.md", reply.json())
    CompletionCreateResponse.model_validate(reply.json())
    with http.stream(
        "POST", "/v1/chat/completions", json={"model": name, "messages": messages, "stream": True}
    ) as stream:
        lines = [line for line in stream.iter_lines() if line.startswith("data: ")]
    assert lines[-1] == "data: [DONE]"
    for line in lines[:-1]:
        ChatCompletionChunk.model_validate(json.loads(line.removeprefix("data: ")))


def test_pages_and_errors_follow_the_gateway(
    specs: Path, emulator: FireworksEmulator, provider: FireworksProvider, train_file: Path
) -> None:
    http = httpx.Client(base_url=emulator.url, headers={"Authorization": f"Bearer {API_KEY}"})
    acct = f"/v1/accounts/{ACCOUNT}"
    for i in range(5):
        body = {"datasetId": f"page-{i}", "dataset": {"userUploaded": {}, "exampleCount": "3"}}
        assert http.post(f"{acct}/datasets", json=body).status_code == 200
    seen: list[str] = []
    token = None
    for _ in range(10):
        params: dict[str, Any] = {"pageSize": 2, **({"pageToken": token} if token else {})}
        page = http.get(f"{acct}/datasets", params=params).json()
        assert page["totalSize"] == 5
        seen += [d["name"] for d in page["datasets"]]
        token = page.get("nextPageToken")
        if not token:
            break
    assert len(seen) == len(set(seen)) == 5
    assert http.get(f"{acct}/datasets", params={"pageSize": 1000}).json()["datasets"][4]

    missing = http.get(f"{acct}/supervisedFineTuningJobs/nope")
    assert missing.status_code == 404
    assert missing.json() == {"code": 5, "message": "job 'nope' not found", "details": []}
    taken = http.post(
        f"{acct}/datasets", json={"datasetId": "page-0", "dataset": {"userUploaded": {}}}
    )
    assert taken.status_code == 409 and taken.json()["code"] == 6
    unknown = http.post(f"{acct}/supervisedFineTuningJobs", json={"dataset": "x", "lr": 1})
    assert unknown.status_code == 400 and "unknown field 'lr'" in unknown.json()["message"]
    assert httpx.get(f"{emulator.url}{acct}/datasets").status_code == 401
    not_served = http.post(
        "/v1/chat/completions", json={"model": "accounts/x/models/none", "messages": []}
    )
    assert not_served.status_code == 404 and not_served.json()["error"]["object"] == "error"


def test_deployments_follow_the_reference_pages(
    specs: Path, emulator: FireworksEmulator, provider: FireworksProvider, train_file: Path
) -> None:
    emulator.pace = 0.02
    snapshot = provider.submit(None, spec_for(train_file))  # type: ignore[arg-type]
    while not snapshot.status.is_terminal:
        time.sleep(0.01)
        snapshot = provider.refresh(snapshot.native_id)
    http = httpx.Client(base_url=emulator.url, headers={"Authorization": f"Bearer {API_KEY}"})
    acct = f"/v1/accounts/{ACCOUNT}"
    base = "accounts/fireworks/models/llama-v3p1-8b-instruct"
    created = http.post(
        f"{acct}/deployments",
        params={"deploymentId": "d1"},
        json={"baseModel": base, "enableAddons": True},
    )
    assert created.status_code == 200, created.text
    check("create-deployment.md", created.json())
    while http.get(f"{acct}/deployments/d1").json()["state"] != "READY":
        time.sleep(0.01)
    check("get-deployment.md", http.get(f"{acct}/deployments/d1").json())
    fwtypes.Deployment.model_validate(http.get(f"{acct}/deployments/d1").json())
    loaded = http.post(
        f"{acct}/deployedModels",
        json={"model": snapshot.model, "deployment": created.json()["name"]},
    )
    assert loaded.status_code == 200, loaded.text
    check("get-deployed-model.md", loaded.json())
    ident = loaded.json()["name"].rsplit("/", 1)[1]
    check("get-deployed-model.md", http.get(f"{acct}/deployedModels/{ident}").json())

"""The emulator's responses conform to Together's OpenAPI document where it covers them.

Responses are fetched with plain HTTP after the real SDK has driven the emulator through a
whole job, then validated against the response schema of their path in the document
(``$ref``s resolved). The document mixes OpenAPI 3.0 ``nullable`` into a 3.1 file, so the 3.0
validator (which honours ``nullable``) is used.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from ftbridge_together import TogetherProvider
from ftbridge_together.emulator import TogetherEmulator
from openapi_schema_validator import OAS30Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4
from spec_documents import require_spec
from together_data import API_KEY, spec_for

from ftbridge import Hyperparameters

ROOT = "urn:together-openapi"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    path = require_spec("together-openapi.yaml")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with path.open(encoding="utf-8") as handle:
        doc: dict[str, Any] = yaml.load(handle, Loader=loader)
    # The document's own defect: cosine scheduler arguments also satisfy the linear schema (it
    # allows extra keys), so its ``oneOf`` refuses every cosine scheduler the SDK sends.
    args = doc["components"]["schemas"]["LRScheduler"]["properties"]["lr_scheduler_args"]
    args["anyOf"] = args.pop("oneOf")
    _nullable_refs(doc)
    return doc


def _nullable_refs(node: Any) -> None:
    """``{$ref: X, nullable: true}`` means "X or null" (a streamed chunk's ``finish_reason``),
    but validators ignore keywords next to a ``$ref`` in OpenAPI 3.0: spell it out."""
    if isinstance(node, dict):
        for key, value in list(node.items()):
            if isinstance(value, dict) and "$ref" in value and value.get("nullable") is True:
                node[key] = {"anyOf": [{"$ref": value["$ref"]}, {"enum": [None]}]}
            else:
                _nullable_refs(value)
    elif isinstance(node, list):
        for item in node:
            _nullable_refs(item)


def check(document: dict[str, Any], path: str, method: str, status: str, body: Any) -> None:
    """Validate ``body`` against the response schema of ``method path`` for ``status``."""
    assert path in document["paths"], path
    response = document["paths"][path][method]["responses"][status]
    content = response["content"]
    media = "application/json" if "application/json" in content else next(iter(content))
    pointer = "/".join(
        part.replace("~", "~0").replace("/", "~1")
        for part in ("paths", path, method, "responses", status, "content", media, "schema")
    )
    registry: Registry[Any] = Registry().with_resource(
        ROOT, Resource.from_contents(document, default_specification=DRAFT4)
    )
    validator = OAS30Validator({"$ref": f"{ROOT}#/{pointer}"}, registry=registry)
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.path))
    assert not errors, f"{method.upper()} {path}: " + "; ".join(
        f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors[:5]
    )


def component(document: dict[str, Any], name: str, body: Any) -> None:
    registry: Registry[Any] = Registry().with_resource(
        ROOT, Resource.from_contents(document, default_specification=DRAFT4)
    )
    validator = OAS30Validator({"$ref": f"{ROOT}#/components/schemas/{name}"}, registry=registry)
    errors = list(validator.iter_errors(body))
    assert not errors, f"{name}: " + "; ".join(e.message for e in errors[:5])


def test_responses_follow_the_document(
    document: dict[str, Any],
    emulator: TogetherEmulator,
    provider: TogetherProvider,
    train_file: Path,
    tmp_path: Path,
) -> None:
    spec = spec_for(
        train_file,
        hyperparameters=Hyperparameters(epochs=2, batch_size=8),
        options={"n_checkpoints": 2},
    )
    provider.preflight(None, spec)  # type: ignore[arg-type]
    job_id = provider.submit(None, spec).native_id  # type: ignore[arg-type]
    http = httpx.Client(base_url=emulator.url, headers={"Authorization": f"Bearer {API_KEY}"})

    def get(path: str, **kw: Any) -> Any:
        response = http.get(path, **kw)
        assert response.status_code == 200, response.text
        return response.json()

    # Mid-run and finished snapshots both conform.
    seen_statuses = set()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        job = get(f"/v1/fine-tunes/{job_id}")
        check(document, "/fine-tunes/{id}", "get", "200", job)
        seen_statuses.add(job["status"])
        if job["status"] == "completed":
            break
        time.sleep(0.01)
    assert "completed" in seen_statuses and len(seen_statuses) >= 2

    file_id = job["training_file"]
    check(document, "/files/{id}", "get", "200", get(f"/v1/files/{file_id}"))
    check(document, "/files", "get", "200", get("/v1/files"))
    limits = get("/v1/fine-tunes/models/limits", params={"model_name": spec.model})
    check(document, "/fine-tunes/models/limits", "get", "200", limits)
    check(
        document,
        "/fine-tunes/models/supported",
        "get",
        "200",
        get("/v1/fine-tunes/models/supported"),
    )
    check(document, "/fine-tunes", "get", "200", get("/v1/fine-tunes"))
    check(document, "/fine-tunes/{id}/events", "get", "200", get(f"/v1/fine-tunes/{job_id}/events"))
    checkpoints = get(f"/v1/fine-tunes/{job_id}/checkpoints")
    assert [c["checkpoint_type"] for c in checkpoints["data"]] == ["Intermediate", "Final"]
    check(document, "/fine-tunes/{id}/checkpoints", "get", "200", checkpoints)
    metrics = get(f"/v1/fine-tunes/{job_id}/metrics")
    assert metrics["metrics"]
    check(document, "/fine-tunes/{id}/metrics", "get", "200", metrics)

    price = http.post(
        "/v1/fine-tunes/estimate-price", json={"training_file": file_id, "model": spec.model}
    )
    check(document, "/fine-tunes/estimate-price", "post", "200", price.json())

    created = http.post(
        "/v1/fine-tunes",
        json={
            "training_file": file_id,
            "model": spec.model,
            "training_method": {"method": "sft", "train_on_inputs": "auto"},
        },
    )
    assert created.status_code == 200, created.text
    check(document, "/fine-tunes", "post", "200", created.json())
    cancelled = http.post(f"/v1/fine-tunes/{created.json()['id']}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    check(document, "/fine-tunes/{id}/cancel", "post", "200", cancelled.json())
    deleted = http.delete(f"/v1/fine-tunes/{created.json()['id']}")
    check(document, "/fine-tunes/{id}", "delete", "200", deleted.json())

    name = job["model_output_name"]
    messages = [{"role": "user", "content": "hi"}]
    reply = http.post("/v1/chat/completions", json={"model": name, "messages": messages})
    check(document, "/chat/completions", "post", "200", reply.json())
    with http.stream(
        "POST", "/v1/chat/completions", json={"model": name, "messages": messages, "stream": True}
    ) as stream:
        lines = [line for line in stream.iter_lines() if line.startswith("data: ")]
    assert lines[-1] == "data: [DONE]"
    for line in lines[:-1]:
        component(document, "ChatCompletionChunk", json.loads(line.removeprefix("data: ")))

    missing = http.get("/v1/fine-tunes/ft-missing")
    assert missing.status_code == 404
    component(document, "ErrorData", missing.json())
    not_served = http.post(
        "/v1/chat/completions", json={"model": "no/such-model", "messages": messages}
    )
    assert not_served.status_code == 404
    check(document, "/chat/completions", "post", "404", not_served.json())

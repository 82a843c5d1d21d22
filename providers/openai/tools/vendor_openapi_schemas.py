"""Extract the schemas the OpenAI emulator checks from OpenAI's OpenAPI document.

    python providers/openai/tools/vendor_openapi_schemas.py path/to/openai-openapi.yaml

writes ``ftbridge_openai/emulator/openapi_schemas.json``: the request and response schemas of
the endpoints the emulator serves, with everything they reference, as plain JSON Schema
(draft 2020-12). The document mixes OpenAPI 3.0 idioms into 3.1 (``nullable: true``, boolean
``exclusiveMinimum``); they are rewritten here so a standard validator reads them right.
Descriptions and examples are dropped to keep the file small.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml

ROOTS = [
    # requests
    "CreateFineTuningJobRequest",
    "CreateUploadRequest",
    "CompleteUploadRequest",
    "CreateFileRequest",
    "CreateChatCompletionRequest",
    # responses
    "FineTuningJob",
    "ListPaginatedFineTuningJobsResponse",
    "ListFineTuningJobEventsResponse",
    "ListFineTuningJobCheckpointsResponse",
    "OpenAIFile",
    "ListFilesResponse",
    "DeleteFileResponse",
    "Upload",
    "UploadPart",
    "CreateChatCompletionResponse",
    "CreateChatCompletionStreamResponse",
    "ErrorResponse",
]
DROP = {"description", "example", "examples", "title", "x-oaiMeta", "x-oaiTypeLabel", "deprecated"}
OUT = Path(__file__).resolve().parents[1] / "ftbridge_openai" / "emulator" / "openapi_schemas.json"


def normalise(node: Any) -> Any:
    if isinstance(node, list):
        return [normalise(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {k: normalise(v) for k, v in node.items() if k not in DROP and not k.startswith("x-")}
    if out.get("exclusiveMinimum") is True:
        out["exclusiveMinimum"] = out.pop("minimum", 0)
    elif out.get("exclusiveMinimum") is False:
        del out["exclusiveMinimum"]
    if out.get("exclusiveMaximum") is True:
        out["exclusiveMaximum"] = out.pop("maximum")
    elif out.get("exclusiveMaximum") is False:
        del out["exclusiveMaximum"]
    if out.pop("nullable", False):
        if "allOf" in out:
            rest = [part for part in out["allOf"] if part != {}]
            out = {"anyOf": [{"allOf": rest}, {"type": "null"}]}
        elif isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
            if "enum" in out:
                out["enum"] = [*out["enum"], None]
        else:
            out = {"anyOf": [out, {"type": "null"}]}
    if "allOf" in out:
        out["allOf"] = [part for part in out["allOf"] if part != {}]
    return out


def load(path: Path) -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return dict(yaml.load(path.read_text(), Loader=loader))


def extract(spec: dict[str, Any], roots: list[str] = ROOTS) -> dict[str, Any]:
    """The schemas ``roots`` need, with all they reference, normalised, as one document."""
    schemas = spec["components"]["schemas"]
    wanted: set[str] = set()
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in wanted:
            continue
        wanted.add(name)
        todo.extend(re.findall(r"#/components/schemas/([\w.-]+)", json.dumps(schemas[name])))
    subset = {name: normalise(schemas[name]) for name in sorted(wanted)}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "x-source": f"OpenAI OpenAPI {spec['info'].get('version', '?')}",
        "components": {"schemas": subset},
    }


def main(argv: list[str]) -> int:
    document = extract(load(Path(argv[1])))
    OUT.write_text(json.dumps(document, separators=(",", ":"), sort_keys=True) + "\n")
    print(f"wrote {len(document['components']['schemas'])} schemas to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

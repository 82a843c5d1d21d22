"""Request bodies checked against OpenAI's published schemas (vendored in openapi_schemas.json).

The JSON file holds the schemas of the endpoints the emulator serves, extracted from OpenAI's
OpenAPI document by ``providers/openai/tools/vendor_openapi_schemas.py``.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

from ftbridge.testing.emulator import ApiError


@functools.cache
def schema_document() -> dict[str, Any]:
    """The vendored schemas: ``{"components": {"schemas": {...}}}``."""
    text = resources.files(__package__).joinpath("openapi_schemas.json").read_text("utf-8")
    return dict(json.loads(text))


@functools.cache
def _validator(name: str) -> Any:
    import jsonschema  # a dependency of ftbridge-openai, imported only by the emulator

    document = schema_document()
    schema = {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
    return jsonschema.Draft202012Validator(schema)


def check(name: str, body: Any) -> None:
    """Raise ``ApiError(400)`` in OpenAI's words when ``body`` does not fit schema ``name``."""
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be a JSON object.", code="invalid_request_error")
    import jsonschema.exceptions

    known = schema_document()["components"]["schemas"][name].get("properties", {})
    unknown = sorted(set(body) - set(known))
    if known and unknown:  # OpenAI refuses arguments it does not know
        raise ApiError(
            400,
            f"Unrecognized request argument supplied: {unknown[0]}",
            code="unknown_parameter",
            param=unknown[0],
        )
    error = jsonschema.exceptions.best_match(_validator(name).iter_errors(body))
    if error is None:
        return
    # best_match prefers the shallowest error; inside oneOf/anyOf the useful one is deeper.
    while error.context:
        error = jsonschema.exceptions.best_match(error.context) or error
        if not error.context:
            break
    path = _dotted(error.absolute_path)
    if error.validator == "required":
        missing = str(error.message).split("'")[1] if "'" in error.message else error.message
        param = f"{path}.{missing}" if path else missing
        raise ApiError(
            400,
            f"Missing required parameter: '{param}'.",
            code="missing_required_parameter",
            param=param,
        )
    if error.validator == "additionalProperties":
        raise ApiError(
            400,
            f"Unrecognized request argument supplied: {error.message}",
            code="unknown_parameter",
            param=path or None,
        )
    raise ApiError(
        400,
        f"Invalid value for '{path}': {error.message}.",
        code="invalid_value",
        param=path or None,
    )


def _dotted(path: Any) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out

"""Together's server-side dataset validation, as the emulator applies it after an upload.

The rules follow Together's published data requirements
(https://docs.together.ai/docs/fine-tuning-data-preparation): one JSON object per line, one
format for the whole file (``messages``, ``prompt``/``completion``, ``text`` or the preference
format), roles ``system``/``user``/``assistant``/``tool``, a conversation that starts with
``system`` or ``user`` and alternates afterwards, at least one ``assistant`` message. Like the
real service, the report names the first problem only.
"""

from __future__ import annotations

import json
from typing import Any

FORMATS: dict[str, tuple[str, ...]] = {
    "CONVERSATION": ("messages",),
    "INSTRUCTION": ("prompt", "completion"),
    "GENERAL": ("text",),
    "PREFERENCE_OPENAI": ("input", "preferred_output", "non_preferred_output"),
}
_EXTRA = {
    "CONVERSATION": {"tools"},
    "PREFERENCE_OPENAI": set(),
    "INSTRUCTION": set(),
    "GENERAL": set(),
}
_ROLES = ("system", "user", "assistant", "tool")


class Invalid(Exception):
    pass


def _detect(record: dict[str, Any], line: int) -> str:
    for name, keys in FORMATS.items():
        if all(k in record for k in keys):
            extra = set(record) - set(keys) - _EXTRA[name]
            if extra:
                raise Invalid(f'Found extra column "{sorted(extra)[0]}" in the line {line}.')
            return name
    raise Invalid(
        f"Could not detect a format for the line {line} with the columns: {sorted(record)}"
    )


def _messages(messages: Any, line: int, *, need_assistant: bool) -> None:
    if not isinstance(messages, list) or not messages:
        raise Invalid(f"The `messages` column must be a non-empty list on line {line}.")
    previous = None
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or "role" not in message:
            raise Invalid(f"Missing required column `role` in message on line {line}.")
        role = message["role"]
        if role not in _ROLES:
            raise Invalid(
                f"Invalid role `{role}` in conversation on line {line}. "
                f"Possible roles: {', '.join(_ROLES)}"
            )
        if "content" not in message and not message.get("tool_calls"):
            raise Invalid(f"Missing required column `content` in message on line {line}.")
        content = message.get("content")
        if content is not None and not isinstance(content, (str, list)):
            raise Invalid(
                f"Invalid content type on line {line}. Expected string or multimodal list "
                f"of dicts, found {type(content).__name__}"
            )
        if index == 0 and role not in ("system", "user"):
            raise Invalid(
                f"Invalid role turns on line {line} of the input file. A conversation must "
                "start with a system or user message."
            )
        if role == previous and role != "tool":
            raise Invalid(
                f"Invalid role turns on line {line} of the input file. After the optional "
                "system message, conversation roles must alternate between "
                "user/assistant/user/assistant."
            )
        previous = role
    if need_assistant and not any(m.get("role") == "assistant" for m in messages):
        raise Invalid(
            f"Invalid format on line {line} of the input file. At least one message with the "
            "assistant role must be present in the example."
        )


def _check(record: dict[str, Any], fmt: str, line: int) -> None:
    if fmt == "CONVERSATION":
        _messages(record["messages"], line, need_assistant=True)
    elif fmt == "INSTRUCTION":
        for key in ("prompt", "completion"):
            if not isinstance(record[key], str):
                raise Invalid(f"The `{key}` column must be a string on line {line}.")
    elif fmt == "GENERAL":
        if not isinstance(record["text"], str):
            raise Invalid(f"The `text` column must be a string on line {line}.")
    else:
        source = record["input"]
        if not isinstance(source, dict) or "messages" not in source:
            raise Invalid(f"The `input` column must hold `messages` on line {line}.")
        _messages(source["messages"], line, need_assistant=False)
        for key in ("preferred_output", "non_preferred_output"):
            value = record[key]
            if not (
                isinstance(value, list)
                and len(value) == 1
                and isinstance(value[0], dict)
                and value[0].get("role") == "assistant"
            ):
                raise Invalid(
                    f"`{key}` must be a list of exactly one assistant message on line {line}."
                )


def validate(data: bytes, file_id: str) -> dict[str, Any]:
    """The ``validation_report`` of a JSONL file."""
    fmt: str | None = None
    nlines = 0
    try:
        for line, raw in enumerate(data.decode("utf-8").splitlines(), start=1):
            if not raw.strip():
                continue
            try:
                record = json.loads(raw)
            except ValueError:
                raise Invalid(
                    f"Error parsing json payload. Unexpected format on line {line}."
                ) from None
            if not isinstance(record, dict):
                raise Invalid(f"Invalid format on line {line}. Each line must be a JSON object.")
            found = _detect(record, line)
            if fmt is not None and found != fmt:
                raise Invalid(
                    "All samples in the dataset must have the same dataset format. Got "
                    f"{fmt} for the first line and {found} for the line {line}."
                )
            fmt = found
            _check(record, found, line)
            nlines += 1
        if nlines == 0:
            raise Invalid("The file holds no examples; the minimum is 1.")
    except UnicodeDecodeError as exc:
        return _invalid(file_id, f"File is not UTF-8 encoded: {exc}.", fmt, nlines)
    except Invalid as exc:
        return _invalid(file_id, str(exc), fmt, nlines)
    return {
        "valid": True,
        "file_id": file_id,
        "dataset_format": fmt,
        "nlines": nlines,
        "dataset_has_tools": b'"tools"' in data,
        "dataset_is_multimodal": False,
    }


def _invalid(file_id: str, message: str, fmt: str | None, nlines: int) -> dict[str, Any]:
    return {
        "valid": False,
        "file_id": file_id,
        "error": message,
        "error_type": "INVALID_FORMAT",
        "dataset_format": fmt,
        "nlines": nlines,
    }

"""Server-side checks of a training file, the way OpenAI runs them while a job is in
``validating_files``: a bad file fails the job with an error naming the example.

The messages follow the ones OpenAI returns ("The job failed due to a file format error in the
training file. Invalid file format. Example 3: ..."). Token counts are approximate (words).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

MIN_EXAMPLES = 10
RESERVED_TOKENS = ("<|endoftext|>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>")
_ROLES = {"system", "developer", "user", "assistant", "tool", "function"}


@dataclass(frozen=True)
class FileCheck:
    """The verdict on one training or validation file."""

    examples: int = 0
    tokens: int = 0
    error: str | None = None


class _Bad(Exception):
    pass


def check_file(content: bytes, method: str, *, which: str = "training") -> FileCheck:
    """Check a JSONL file for ``method`` ("supervised" or "dpo")."""
    prefix = f"The job failed due to a file format error in the {which} file. Invalid file format."
    examples = tokens = 0
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return FileCheck(error=f"{prefix} The file is not UTF-8 encoded.")
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if not isinstance(record, dict):
                raise _Bad("is not a JSON object")
            tokens += _check_dpo(record) if method == "dpo" else _check_chat(record)
        except json.JSONDecodeError:
            return FileCheck(error=f"{prefix} Example {number}: the line is not valid JSON.")
        except _Bad as exc:
            return FileCheck(error=f"{prefix} Example {number} {exc}.")
        examples += 1
    if examples < MIN_EXAMPLES:
        return FileCheck(
            examples,
            tokens,
            f"{prefix} The {which} file has {examples} example(s), but it must have at least "
            f"{MIN_EXAMPLES}.",
        )
    return FileCheck(examples, tokens)


def _check_messages(messages: object, *, need_assistant: bool) -> int:
    if not isinstance(messages, list) or not messages:
        raise _Bad("is missing a non-empty 'messages' list")
    tokens = 0
    assistant = False
    for index, message in enumerate(messages):
        if not isinstance(message, dict):
            raise _Bad(f"messages[{index}] is not an object")
        role = message.get("role")
        if role not in _ROLES:
            raise _Bad(f"messages[{index}] has an unrecognized role: {role!r}")
        content = message.get("content")
        if content is None and not message.get("tool_calls") and not message.get("function_call"):
            raise _Bad(f"messages[{index}] is missing 'content'")
        if "weight" in message and (role != "assistant" or message["weight"] not in (0, 1)):
            raise _Bad(f"messages[{index}] has an invalid 'weight' (only 0 or 1 on assistant)")
        text = content if isinstance(content, str) else json.dumps(content)
        for token in RESERVED_TOKENS:
            if token in text:
                raise _Bad(f"message contains an invalid token: {token}")
        tokens += len(text.split()) + 4
        assistant = assistant or role == "assistant"
    if need_assistant and not assistant:
        raise _Bad("has no assistant message to train on")
    return tokens


def _check_chat(record: dict[str, object]) -> int:
    return _check_messages(record.get("messages"), need_assistant=True)


def _check_dpo(record: dict[str, object]) -> int:
    source = record.get("input")
    if not isinstance(source, dict):
        raise _Bad("is missing an 'input' object")
    tokens = _check_messages(source.get("messages"), need_assistant=False)
    for key in ("preferred_output", "non_preferred_output"):
        output = record.get(key)
        if not isinstance(output, list) or len(output) != 1:
            raise _Bad(f"'{key}' must be a list of exactly one assistant message")
        tokens += _check_messages(output, need_assistant=True)
    return tokens

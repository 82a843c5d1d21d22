"""Every generic finding code, its severity and the message that says how to fix it.

Codes are stable: tools and tests match on them, so a code is never renamed or reused for a
different problem. Messages are ``str.format`` templates filled with the arguments the check
recorded. Provider-specific codes live with their profile (``_profiles.py``).
"""

from __future__ import annotations

from typing import Literal

Severity = Literal["error", "warning"]

#: Bump when a rule changes what it reports, so cached reports are not reused.
RULES_VERSION = "2"

ERROR: Severity = "error"
WARNING: Severity = "warning"

# code -> (severity, message template)
CODES: dict[str, tuple[Severity, str]] = {
    # -- the bytes of a line --------------------------------------------------------------------
    "line.invalid_json": (
        ERROR,
        "not valid JSON ({detail}); each line must be one complete JSON object",
    ),
    "line.invalid_utf8": (
        ERROR,
        "not valid UTF-8 (bad byte at column {column}); re-save the file as UTF-8",
    ),
    "line.bom": (
        ERROR,
        "the file starts with a UTF-8 byte-order mark; save it as UTF-8 without BOM",
    ),
    "line.blank": (
        WARNING,
        "blank line (skipped); remove it, some providers reject blank lines",
    ),
    "line.truncated": (
        ERROR,
        "the last line is incomplete JSON and has no newline: the file looks cut off; "
        "write it again completely",
    ),
    "line.too_long": (
        ERROR,
        "line is {size} bytes, over the {limit}-byte limit; split or shorten this example",
    ),
    # -- the record -----------------------------------------------------------------------------
    "record.not_object": (
        ERROR,
        'each line must be a JSON object like {{"messages": [...]}}, found {found}',
    ),
    "record.unknown_format": (
        ERROR,
        'cannot tell the format from keys {keys}; use "messages" (chat), "input" + '
        '"preferred_output" + "non_preferred_output" (preference), "prompt" + '
        '"completion" (instruction) or "text"',
    ),
    "record.ambiguous_format": (
        ERROR,
        "keys {keys} match more than one format; keep the keys of one format only",
    ),
    "record.mixed_format": (
        ERROR,
        "this example is in {found} format but the dataset is {expected} (from line "
        "{first_line}); every example must use the same format",
    ),
    "record.unknown_key": (
        WARNING,
        "unknown top-level key {key!r}; providers may reject it, remove it",
    ),
    "record.duplicate": (
        WARNING,
        "exact duplicate of line {first}; duplicates skew training towards one example",
    ),
    # -- the dataset ----------------------------------------------------------------------------
    "dataset.empty": (ERROR, "the dataset has no examples"),
    "dataset.not_utf8": (
        ERROR,
        "the file is {encoding}; save it as UTF-8 ({hint}); its lines were not checked",
    ),
    "dataset.json_array": (
        ERROR,
        "this is a JSON array; write one JSON object per line (JSONL), for example with: "
        "{hint}; its lines were not checked",
    ),
    # -- chat -----------------------------------------------------------------------------------
    "chat.messages_type": (ERROR, '"messages" must be a list of message objects, found {found}'),
    "chat.messages_empty": (ERROR, '"messages" is empty; add the conversation\'s messages'),
    "chat.message_type": (
        ERROR,
        'a message must be an object with "role" and "content", found {found}',
    ),
    "chat.role_missing": (ERROR, 'message has no "role"; add one of {roles}'),
    "chat.role_unknown": (ERROR, "role {role!r} is not one of {roles}"),
    "chat.role_function": (
        WARNING,
        'the "function" role is deprecated; use an assistant message with "tool_calls" '
        'and a "tool" message instead',
    ),
    "chat.content_missing": (ERROR, '{role} message has no "content"; add the text'),
    "chat.content_type": (
        ERROR,
        '"content" must be a string or a list of content parts, found {found}',
    ),
    "chat.content_empty": (
        ERROR,
        "{role} message has empty content; write the text or remove the message",
    ),
    "chat.content_part_type": (
        ERROR,
        'a content part must be {{"type": "text", "text": ...}} or {{"type": "image_url", '
        '"image_url": {{"url": ...}}}}, found {found}',
    ),
    "chat.content_part_text": (ERROR, 'a text part needs a non-empty string "text"'),
    "chat.content_part_image": (
        ERROR,
        'an image_url part needs "image_url": {{"url": "https://... or data:image/..."}}',
    ),
    "chat.image_role": (ERROR, "images are only allowed in user messages, not {role}"),
    "chat.key_unknown": (
        ERROR,
        "key {key!r} is not allowed on a {role} message (allowed: {allowed}); remove it",
    ),
    "chat.name_type": (ERROR, '"name" must be a non-empty string'),
    "chat.weight_value": (ERROR, '"weight" must be 0 or 1, found {found}'),
    "chat.weight_role": (ERROR, '"weight" is only allowed on assistant messages, not {role}'),
    "chat.tool_calls_type": (
        ERROR,
        '"tool_calls" must be a non-empty list of tool calls, found {found}',
    ),
    "chat.tool_call_type": (
        ERROR,
        "a tool call must be an object with id, type and function, found {found}",
    ),
    "chat.tool_call_id": (ERROR, 'a tool call needs a non-empty string "id" (e.g. "call_1")'),
    "chat.tool_call_id_duplicate": (
        ERROR,
        "tool call id {id!r} is used twice in this example; make ids unique",
    ),
    "chat.tool_call_kind": (ERROR, 'a tool call\'s "type" must be "function", found {found}'),
    "chat.tool_call_function": (
        ERROR,
        'a tool call needs "function": {{"name": ..., "arguments": ...}}',
    ),
    "chat.tool_call_name": (ERROR, '"function.name" must be a non-empty string'),
    "chat.tool_call_arguments": (
        ERROR,
        '"function.arguments" must be a JSON string (e.g. json.dumps({{...}})), found {found}',
    ),
    "chat.tool_call_arguments_json": (
        ERROR,
        '"function.arguments" is not valid JSON text ({detail}); the model would learn broken calls',
    ),
    "chat.assistant_empty": (
        ERROR,
        'assistant message needs "content" or "tool_calls"',
    ),
    "chat.function_call_type": (
        ERROR,
        '"function_call" must be an object with "name" and "arguments"',
    ),
    "chat.tool_call_id_missing": (
        ERROR,
        'tool message needs "tool_call_id" naming the call it answers',
    ),
    "chat.tool_call_id_unknown": (
        ERROR,
        "tool_call_id {id!r} answers no earlier tool call in this example; use the id of an "
        "assistant tool call above it",
    ),
    "chat.no_assistant": (
        ERROR,
        "no assistant message to learn from; add the assistant's reply",
    ),
    "chat.nothing_trainable": (
        WARNING,
        "every assistant message has weight 0, so this example trains nothing",
    ),
    "chat.tools_type": (
        ERROR,
        '"tools" must be a list of {{"type": "function", "function": {{...}}}}, found {found}',
    ),
    "chat.tool_definition": (
        ERROR,
        'a tool must be {{"type": "function", "function": {{"name": ..., "parameters": {{...}}}}}}',
    ),
    "chat.parallel_tool_calls_type": (
        ERROR,
        '"parallel_tool_calls" must be true or false, found {found}',
    ),
    "chat.functions_deprecated": (
        WARNING,
        'top-level "functions" is deprecated; use "tools" with {{"type": "function"}}',
    ),
    # -- preference -----------------------------------------------------------------------------
    "preference.input_type": (ERROR, '"input" must be an object with "messages", found {found}'),
    "preference.input_ends_assistant": (
        ERROR,
        "the last input message is from the assistant; the input must end with the user turn "
        "that the outputs answer",
    ),
    "preference.output_type": (
        ERROR,
        "{key!r} must be a list holding exactly one assistant message, found {found}",
    ),
    "preference.output_role": (
        ERROR,
        "{key!r} must hold an assistant message, found role {role!r}",
    ),
    "preference.outputs_identical": (
        WARNING,
        "preferred and non-preferred outputs are identical; the pair teaches nothing",
    ),
    # -- instruction and text -------------------------------------------------------------------
    "instruction.field_type": (ERROR, "{key!r} must be a string, found {found}"),
    "instruction.field_empty": (ERROR, "{key!r} is empty; write the text"),
    "text.field_type": (ERROR, '"text" must be a string, found {found}'),
    "text.field_empty": (ERROR, '"text" is empty; write the text or remove the line'),
    # -- tokenizer checks (local preflight) -----------------------------------------------------
    "tokenizer.template_failed": (
        ERROR,
        "the model's chat template cannot render this example ({detail})",
    ),
    "tokenizer.too_long": (
        WARNING,
        "example is {tokens} tokens with the model's chat template, over max_length "
        "{max_length}; it will be truncated",
    ),
    "tokenizer.no_template": (
        ERROR,
        "the tokenizer has no chat template; pass a chat model's tokenizer or set one",
    ),
}


def render(code: str, args: dict[str, object] | None) -> str:
    """The message for ``code`` filled with ``args`` (never raises: a bad template shows raw)."""
    template = CODES[code][1]
    try:
        return template.format(**(args or {}))
    except (KeyError, IndexError, ValueError):
        return f"{template} {args}"


def type_name(value: object) -> str:
    """The JSON name of a Python value's type, for messages ("a number", "null")."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__

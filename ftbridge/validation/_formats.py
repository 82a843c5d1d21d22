"""Format detection and the rules of the non-chat formats (preference, instruction, text).

A record's format follows from its keys: ``messages`` is chat; ``input`` +
``preferred_output`` + ``non_preferred_output`` is preference (OpenAI's DPO shape);
``prompt`` + ``completion`` is instruction; ``text`` is plain text. The dataset's format is
the first record's; a record in another format is an error.
"""

from __future__ import annotations

from typing import Any

from ._chat import ChatContext, check_messages
from ._codes import type_name
from ._estimate import units

FORMATS = ("chat", "preference", "instruction", "text")

_PREFERENCE_KEYS = ("input", "preferred_output", "non_preferred_output")
_PREFERENCE_TOP = frozenset(_PREFERENCE_KEYS)
_INPUT_KEYS = frozenset(("messages", "tools", "parallel_tool_calls"))


def detect(rec: dict[str, Any]) -> str | tuple[str, ...] | None:
    """The record's format, ``None`` when no format matches, a tuple when several do."""
    found: list[str] = []
    if "messages" in rec:
        found.append("chat")
    if "input" in rec and "preferred_output" in rec and "non_preferred_output" in rec:
        found.append("preference")
    if "prompt" in rec and "completion" in rec:
        found.append("instruction")
    if "text" in rec:
        found.append("text")
    if not found:
        return None
    if len(found) == 1:
        return found[0]
    return tuple(found)


def check_preference(rec: dict[str, Any], ctx: ChatContext) -> tuple[int, int, int, int, bool]:
    """Check an OpenAI DPO record; returns the same tuple as the chat check."""
    out = ctx.out
    for key in rec:
        if key not in _PREFERENCE_TOP:
            out.append((key, "record.unknown_key", {"key": key}))
            ctx.feat(key, "top_key.unknown", {"key": key})
    inp = rec["input"]
    n = chars = users = 0
    has_system = False
    if type(inp) is not dict or "messages" not in inp:
        out.append(("input", "preference.input_type", {"found": type_name(inp)}))
    else:
        for key in inp:
            if key not in _INPUT_KEYS:
                out.append((f"input.{key}", "record.unknown_key", {"key": f"input.{key}"}))
        n, chars, _, users, has_system = check_messages(
            inp["messages"], ctx, "input.messages", False
        )
        msgs = inp["messages"]
        if (
            type(msgs) is list
            and msgs
            and type(msgs[-1]) is dict
            and msgs[-1].get("role") == "assistant"
        ):
            out.append(
                (f"input.messages[{len(msgs) - 1}].role", "preference.input_ends_assistant", None)
            )
    trainable = 0
    outputs: list[dict[str, Any] | None] = []
    for key in _PREFERENCE_KEYS[1:]:
        value = rec[key]
        if type(value) is not list or len(value) != 1 or type(value[0]) is not dict:
            found = f"a list of {len(value)}" if type(value) is list else type_name(value)
            out.append((key, "preference.output_type", {"key": key, "found": found}))
            outputs.append(None)
            continue
        msg = value[0]
        if msg.get("role") != "assistant":
            out.append(
                (f"{key}[0].role", "preference.output_role", {"key": key, "role": msg.get("role")})
            )
        _, m_chars, _, _, _ = check_messages(value, ctx, key, False, False)
        chars += m_chars
        if key == "preferred_output":
            trainable = m_chars
        outputs.append(msg)
    if outputs[0] is not None and outputs[0] == outputs[1]:
        out.append((None, "preference.outputs_identical", None))
    return n + 1, chars, trainable, users, has_system


def check_instruction(rec: dict[str, Any], ctx: ChatContext) -> tuple[int, int, int, int, bool]:
    """Check a ``{"prompt", "completion"}`` record."""
    out = ctx.out
    chars = trainable = 0
    for key in rec:
        if key not in ("prompt", "completion"):
            out.append((key, "record.unknown_key", {"key": key}))
            ctx.feat(key, "top_key.unknown", {"key": key})
    for key in ("prompt", "completion"):
        value = rec[key]
        if type(value) is not str:
            out.append((key, "instruction.field_type", {"key": key, "found": type_name(value)}))
        elif not value.strip():
            out.append((key, "instruction.field_empty", {"key": key}))
        else:
            chars += units(value)
            if key == "completion":
                trainable = units(value)
    return 2, chars, trainable, 1, False


def check_text(rec: dict[str, Any], ctx: ChatContext) -> tuple[int, int, int, int, bool]:
    """Check a ``{"text"}`` record (every token trains)."""
    out = ctx.out
    for key in rec:
        if key != "text":
            out.append((key, "record.unknown_key", {"key": key}))
            ctx.feat(key, "top_key.unknown", {"key": key})
    value = rec["text"]
    if type(value) is not str:
        out.append(("text", "text.field_type", {"found": type_name(value)}))
        return 1, 0, 0, 0, False
    if not value.strip():
        out.append(("text", "text.field_empty", None))
    n = units(value)
    return 1, n, n, 0, False

"""The chat rules: ``{"messages": [...], "tools"?: [...], "parallel_tool_calls"?: bool}``.

This is the hot path of validation, so the common message (a role and a non-empty string
content) takes one branch and every unusual shape goes to ``_slow_message``.

Besides generic findings, the checks note *features* (a tool role, consecutive turns by the
same role...) that provider profiles may turn into errors or warnings; see ``_profiles.py``.
"""

from __future__ import annotations

from typing import Any

import orjson

from ._codes import type_name
from ._estimate import units

Out = list[tuple[str | None, str, dict[str, Any] | None]]

ROLES = ("system", "developer", "user", "assistant", "tool", "function")
_ROLES_TEXT = ", ".join(ROLES)
_BASE = frozenset(("role", "content", "name"))
MESSAGE_KEYS: dict[str, frozenset[str]] = {
    "system": _BASE,
    "developer": _BASE,
    "user": _BASE,
    "assistant": _BASE
    | {"tool_calls", "function_call", "weight", "refusal", "reasoning", "reasoning_content"},
    "tool": frozenset(("role", "content", "tool_call_id")),
    "function": _BASE,
}
_ALLOWED_TEXT = {role: ", ".join(sorted(keys)) for role, keys in MESSAGE_KEYS.items()}
# Keys beyond role/content whose presence a provider profile may care about.
_NOTABLE_KEYS = frozenset(
    ("name", "weight", "tool_calls", "function_call", "refusal", "reasoning", "reasoning_content")
)
TOP_KEYS = frozenset(("messages", "tools", "parallel_tool_calls", "functions"))
# a tuple, not a set: membership must not hash the value (a list role would raise)
_SIMPLE_ROLES = ("user", "assistant", "system", "developer")


class ChatContext:
    """Where checks put findings for the current record (the engine adds the line)."""

    __slots__ = ("feats", "out", "wanted")

    def __init__(self, wanted: frozenset[str]) -> None:
        self.out: Out = []
        self.feats: Out = []
        self.wanted = wanted

    def feat(self, loc: str | None, name: str, args: dict[str, Any] | None = None) -> None:
        if name in self.wanted:
            self.feats.append((loc, name, args))


def check_chat_record(rec: dict[str, Any], ctx: ChatContext) -> tuple[int, int, int, int, bool]:
    """Check a chat record; returns (messages, units, trainable units, user turns, has system).

    Units measure text for the token estimate (see ``_estimate``).
    """
    if len(rec) > 1:
        _check_top_level(rec, ctx)
    return check_messages(rec["messages"], ctx, "messages", need_assistant=True)


def check_messages(
    msgs: Any, ctx: ChatContext, base: str, need_assistant: bool, turns: bool = True
) -> tuple[int, int, int, int, bool]:
    """Check a list of messages; ``turns=False`` skips turn-order features (a DPO output)."""
    out = ctx.out
    if type(msgs) is not list:
        out.append((base, "chat.messages_type", {"found": type_name(msgs)}))
        return 0, 0, 0, 0, False
    if not msgs:
        out.append((base, "chat.messages_empty", None))
        return 0, 0, 0, 0, False
    chars = trainable = users = assistants = weighted_out = 0
    has_system = False
    prev = None
    calls: set[str] | None = None
    wanted = ctx.wanted
    consecutive = turns and "turns.consecutive" in wanted
    for i, m in enumerate(msgs):
        if type(m) is not dict:
            out.append((f"{base}[{i}]", "chat.message_type", {"found": type_name(m)}))
            prev = None
            continue
        role = m.get("role")
        content = m.get("content")
        k = len(m)
        if k == 2 and type(content) is str and content and role in _SIMPLE_ROLES:
            n = units(content)
            chars += n
            if role == "assistant":
                assistants += 1
                trainable += n
            elif role == "user":
                users += 1
            elif role == "system":
                has_system = True
                if i:
                    ctx.feat(f"{base}[{i}].role", "turns.system_not_first")
            else:
                ctx.feat(f"{base}[{i}].role", "role.developer")
        elif (
            k == 3
            and role == "assistant"
            and type(content) is str
            and content
            and type(w := m.get("weight")) is int
            and (w == 1 or w == 0)
        ):
            # an assistant message with a valid weight: common enough to stay on the fast path
            n = units(content)
            chars += n
            assistants += 1
            if w:
                trainable += n
            else:
                weighted_out += 1
            if "message_key.weight" in wanted:
                ctx.feats.append((f"{base}[{i}].weight", "message_key.weight", None))
        else:
            n, t, calls = _slow_message(m, role, content, i, base, ctx, calls)
            chars += n
            if role == "assistant":
                assistants += 1
                if t:
                    trainable += n
                else:
                    weighted_out += 1
            elif role == "user":
                users += 1
            elif role == "system":
                has_system = True
                if i:
                    ctx.feat(f"{base}[{i}].role", "turns.system_not_first")
        if (
            role == prev
            and consecutive
            and type(role) is str
            and role != "tool"
            and role in MESSAGE_KEYS
        ):
            ctx.feats.append((f"{base}[{i}].role", "turns.consecutive", {"role": role}))
        prev = role
    if turns and "turns.first_not_user" in wanted:
        m = msgs[0]
        r0 = m.get("role") if type(m) is dict else None
        if r0 == "system" and len(msgs) > 1:
            m = msgs[1]
            if type(m) is not dict or m.get("role") != "user":
                _first_turn(msgs, base, ctx)
        elif r0 != "user" and r0 != "system":
            _first_turn(msgs, base, ctx)
    if need_assistant:
        if not assistants:
            out.append((base, "chat.no_assistant", None))
        elif weighted_out == assistants:
            out.append((base, "chat.nothing_trainable", None))
    return len(msgs), chars, trainable, users, has_system


def _first_turn(msgs: list[Any], base: str, ctx: ChatContext) -> None:
    for i, m in enumerate(msgs):
        role = m.get("role") if type(m) is dict else None
        if role != "system":
            if type(role) is str and role != "user" and role in MESSAGE_KEYS:
                ctx.feats.append((f"{base}[{i}].role", "turns.first_not_user", {"role": role}))
            return


def _slow_message(
    m: dict[str, Any],
    role: Any,
    content: Any,
    i: int,
    base: str,
    ctx: ChatContext,
    calls: set[str] | None,
) -> tuple[int, bool, set[str] | None]:
    """Every check for a message off the fast path; returns (chars, trainable, call ids)."""
    out = ctx.out
    here = f"{base}[{i}]"
    if role is None:
        out.append((f"{here}.role", "chat.role_missing", {"roles": _ROLES_TEXT}))
        return 0, True, calls
    if type(role) is not str or role not in MESSAGE_KEYS:
        out.append((f"{here}.role", "chat.role_unknown", {"role": role, "roles": _ROLES_TEXT}))
        return 0, True, calls
    if role == "function":
        out.append((f"{here}.role", "chat.role_function", None))
    if role != "user" and role != "assistant" and role != "system" and "role." + role in ctx.wanted:
        ctx.feats.append((f"{here}.role", "role." + role, None))
    allowed = MESSAGE_KEYS[role]
    for key in m:
        if key not in allowed:
            if key == "weight":
                out.append((f"{here}.weight", "chat.weight_role", {"role": role}))
            else:
                out.append(
                    (
                        f"{here}.{key}",
                        "chat.key_unknown",
                        {"key": key, "role": role, "allowed": _ALLOWED_TEXT[role]},
                    )
                )
        elif key in _NOTABLE_KEYS and "message_key." + key in ctx.wanted:
            ctx.feats.append((f"{here}.{key}", "message_key." + key, None))
    if "name" in m:
        name = m["name"]
        if type(name) is not str or not name:
            out.append((f"{here}.name", "chat.name_type", None))
    trainable = True
    if role == "assistant":
        if "weight" in m:
            w = m["weight"]
            if type(w) is not int or w not in (0, 1):
                out.append(
                    (f"{here}.weight", "chat.weight_value", {"found": orjson.dumps(w).decode()})
                )
            elif w == 0:
                trainable = False
        has_calls = "tool_calls" in m
        if has_calls:
            calls = _check_tool_calls(m["tool_calls"], f"{here}.tool_calls", ctx, calls)
        if "function_call" in m:
            fc = m["function_call"]
            if type(fc) is not dict or type(fc.get("name")) is not str:
                out.append((f"{here}.function_call", "chat.function_call_type", None))
            has_calls = True
        if content is None:
            if not has_calls:
                out.append((here, "chat.assistant_empty", None))
            elif "assistant.tool_calls_without_content" in ctx.wanted:
                ctx.feats.append((f"{here}.content", "assistant.tool_calls_without_content", None))
            return 0, trainable, calls
    elif role == "tool":
        tcid = m.get("tool_call_id")
        if tcid is None:
            out.append((here, "chat.tool_call_id_missing", None))
        elif type(tcid) is not str or calls is None or tcid not in calls:
            out.append((f"{here}.tool_call_id", "chat.tool_call_id_unknown", {"id": tcid}))
    if "content" not in m or (content is None and role != "assistant"):
        out.append((here, "chat.content_missing", {"role": role}))
        return 0, trainable, calls
    return _check_content(content, role, f"{here}.content", ctx), trainable, calls


def _check_content(content: Any, role: str, loc: str, ctx: ChatContext) -> int:
    out = ctx.out
    if type(content) is str:
        if not content:
            out.append((loc, "chat.content_empty", {"role": role}))
        return units(content)
    if type(content) is not list:
        out.append((loc, "chat.content_type", {"found": type_name(content)}))
        return 0
    if not content:
        out.append((loc, "chat.content_empty", {"role": role}))
        return 0
    ctx.feat(loc, "content.parts")
    chars = 0
    for j, part in enumerate(content):
        ploc = f"{loc}[{j}]"
        kind = part.get("type") if type(part) is dict else None
        if kind == "text":
            text = part.get("text")
            if type(text) is not str or not text:
                out.append((f"{ploc}.text", "chat.content_part_text", None))
            else:
                chars += units(text)
        elif kind == "image_url":
            image = part.get("image_url")
            url = image.get("url") if type(image) is dict else None
            if type(url) is not str or not url:
                out.append((f"{ploc}.image_url", "chat.content_part_image", None))
            if role != "user":
                out.append((ploc, "chat.image_role", {"role": role}))
            else:
                ctx.feat(ploc, "content.image")
                if type(url) is str and not url.startswith("data:image/"):
                    ctx.feat(f"{ploc}.image_url.url", "content.image_remote")
            # a 512px image costs a few hundred tokens; count it like ~1000 characters
            chars += 1000
        else:
            found = f"type {kind!r}" if type(part) is dict else type_name(part)
            out.append((ploc, "chat.content_part_type", {"found": found}))
    return chars


def _check_tool_calls(
    tc: Any, loc: str, ctx: ChatContext, calls: set[str] | None
) -> set[str] | None:
    out = ctx.out
    if type(tc) is not list or not tc:
        out.append((loc, "chat.tool_calls_type", {"found": type_name(tc)}))
        return calls
    if len(tc) > 1:
        ctx.feat(loc, "assistant.parallel_tool_calls")
    if calls is None:
        calls = set()
    for k, call in enumerate(tc):
        cloc = f"{loc}[{k}]"
        if type(call) is not dict:
            out.append((cloc, "chat.tool_call_type", {"found": type_name(call)}))
            continue
        cid = call.get("id")
        if type(cid) is not str or not cid:
            out.append((f"{cloc}.id", "chat.tool_call_id", None))
        elif cid in calls:
            out.append((f"{cloc}.id", "chat.tool_call_id_duplicate", {"id": cid}))
        else:
            calls.add(cid)
        if call.get("type") != "function":
            out.append((f"{cloc}.type", "chat.tool_call_kind", {"found": call.get("type")}))
        fn = call.get("function")
        if type(fn) is not dict:
            out.append((f"{cloc}.function", "chat.tool_call_function", None))
            continue
        name = fn.get("name")
        if type(name) is not str or not name:
            out.append((f"{cloc}.function.name", "chat.tool_call_name", None))
        args = fn.get("arguments")
        if type(args) is not str:
            out.append(
                (
                    f"{cloc}.function.arguments",
                    "chat.tool_call_arguments",
                    {"found": type_name(args)},
                )
            )
        else:
            try:
                orjson.loads(args)
            except orjson.JSONDecodeError as exc:
                out.append(
                    (
                        f"{cloc}.function.arguments",
                        "chat.tool_call_arguments_json",
                        {"detail": str(exc)},
                    )
                )
    return calls


def _check_top_level(rec: dict[str, Any], ctx: ChatContext) -> None:
    out = ctx.out
    for key, value in rec.items():
        if key == "messages":
            continue
        if key not in TOP_KEYS:
            out.append((key, "record.unknown_key", {"key": key}))
            ctx.feat(key, "top_key.unknown", {"key": key})
            continue
        ctx.feat(key, f"top_key.{key}", {"key": key})
        if key == "tools":
            _check_tools(value, ctx)
        elif key == "parallel_tool_calls":
            if type(value) is not bool:
                out.append((key, "chat.parallel_tool_calls_type", {"found": type_name(value)}))
        else:  # functions
            out.append((key, "chat.functions_deprecated", None))


def _check_tools(tools: Any, ctx: ChatContext) -> None:
    if type(tools) is not list:
        ctx.out.append(("tools", "chat.tools_type", {"found": type_name(tools)}))
        return
    for k, tool in enumerate(tools):
        fn = tool.get("function") if type(tool) is dict else None
        if (
            type(tool) is not dict
            or tool.get("type") != "function"
            or type(fn) is not dict
            or type(fn.get("name")) is not str
        ):
            ctx.out.append((f"tools[{k}]", "chat.tool_definition", None))

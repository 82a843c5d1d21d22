"""The fast path for the common chat record: a typed decode in C, then a few Python rules.

``msgspec`` decodes a line straight into the structs below, which only admit a record that
the generic chat rules accept as it is: known roles with their allowed keys, non-empty
string content, ``weight`` 0 or 1, well-formed tool calls. Whatever the structs refuse (an
unusual or broken record) goes through the detailed checks in ``_chat``, which produce the
findings. :func:`check_fast` then applies the rules types cannot express and notes the same
features, in the same order, as ``_chat.check_messages``; when a record would get a finding,
it gives up (returns ``None``) and the detailed checks take over, so reports are identical
whichever path a record took.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
import orjson
from msgspec import UNSET, Meta, Struct, UnsetType

from ._chat import ChatContext
from ._estimate import units

_Text = Annotated[str, Meta(min_length=1)]


# Every struct forbids unknown keys, so the decoder never skips a value unchecked (orjson
# refuses some strings, e.g. lone surrogates, that a skipping decoder could let through).
class _Function(Struct, forbid_unknown_fields=True, gc=False):
    name: _Text
    arguments: str


class _Call(Struct, forbid_unknown_fields=True, gc=False):
    id: _Text
    type: Literal["function"]
    function: _Function


class _System(Struct, tag_field="role", tag="system", forbid_unknown_fields=True, gc=False):
    content: _Text


class _User(Struct, tag_field="role", tag="user", forbid_unknown_fields=True, gc=False):
    content: _Text


class _Assistant(Struct, tag_field="role", tag="assistant", forbid_unknown_fields=True, gc=False):
    content: _Text | None = None
    weight: Literal[0, 1] | UnsetType = UNSET
    tool_calls: Annotated[list[_Call], Meta(min_length=1)] | UnsetType = UNSET


class _Tool(Struct, tag_field="role", tag="tool", forbid_unknown_fields=True, gc=False):
    content: _Text
    tool_call_id: str


class _Chat(Struct, forbid_unknown_fields=True, gc=False):
    messages: Annotated[list[_System | _User | _Assistant | _Tool], Meta(min_length=1)]


#: Decodes a line into a ``_Chat``; raises ``DecodeError`` for anything off the common shape.
decode_chat = msgspec.json.Decoder(_Chat).decode
#: What the decoder raises for a record off the common shape (invalid UTF-8 included).
DecodeError = (msgspec.DecodeError, UnicodeDecodeError)

#: Off only to compare the two paths in tests.
ENABLED = True

_ROLE: dict[type, str] = {_System: "system", _User: "user", _Assistant: "assistant", _Tool: "tool"}


class FastFeatures:
    """Which optional features the fast path must note, fixed for a scan."""

    __slots__ = (
        "calls_key",
        "consecutive",
        "first_not_user",
        "parallel",
        "system_not_first",
        "tool_role",
        "weight_key",
        "without_content",
    )

    def __init__(self, wanted: frozenset[str]) -> None:
        self.consecutive = "turns.consecutive" in wanted
        self.first_not_user = "turns.first_not_user" in wanted
        self.system_not_first = "turns.system_not_first" in wanted
        self.tool_role = "role.tool" in wanted
        self.weight_key = "message_key.weight" in wanted
        self.calls_key = "message_key.tool_calls" in wanted
        self.parallel = "assistant.parallel_tool_calls" in wanted
        self.without_content = "assistant.tool_calls_without_content" in wanted


def check_fast(
    rec: _Chat, ctx: ChatContext, ff: FastFeatures
) -> tuple[int, int, int, int, bool] | None:
    """(messages, units, trainable units, user turns, has system), or None for the slow path.

    Units are the token estimate's (see ``_estimate``): a text's length, measured further
    only when it has a line break or a non-ASCII character.

    Mirrors ``check_messages(msgs, ctx, "messages", need_assistant=True)`` on records the
    structs admitted; any finding it would make sends the record back to the detailed checks.
    """
    msgs: list[Any] = rec.messages  # dispatched on type() below, which mypy cannot follow
    feats = ctx.feats
    chars = trainable = users = assistants = weighted_out = 0
    has_system = False
    prev: type | None = None
    calls: set[str] | None = None
    i = -1
    for m in msgs:
        i += 1
        cls = type(m)
        if cls is _User:
            c = m.content
            chars += len(c) if c.isascii() and "\n" not in c else units(c)
            users += 1
        elif cls is _Assistant:
            assistants += 1
            tc = m.tool_calls
            w = m.weight
            if tc is UNSET:
                content = m.content
                if content is None:
                    feats.clear()
                    return None  # chat.assistant_empty
                n = len(content) if content.isascii() and "\n" not in content else units(content)
                chars += n
                if w is UNSET:
                    trainable += n
                else:
                    if w:
                        trainable += n
                    else:
                        weighted_out += 1
                    if ff.weight_key:
                        feats.append((f"messages[{i}].weight", "message_key.weight", None))
            else:
                if w is not UNSET and ff.weight_key:
                    if ff.calls_key:
                        feats.clear()
                        return None  # the two features' order follows the keys' order
                    feats.append((f"messages[{i}].weight", "message_key.weight", None))
                elif ff.calls_key:
                    feats.append((f"messages[{i}].tool_calls", "message_key.tool_calls", None))
                if len(tc) > 1 and ff.parallel:
                    feats.append(
                        (f"messages[{i}].tool_calls", "assistant.parallel_tool_calls", None)
                    )
                if calls is None:
                    calls = set()
                for call in tc:
                    cid = call.id
                    if cid in calls:
                        feats.clear()
                        return None  # chat.tool_call_id_duplicate
                    calls.add(cid)
                    try:
                        orjson.loads(call.function.arguments)
                    except orjson.JSONDecodeError:
                        feats.clear()
                        return None  # chat.tool_call_arguments_json
                content = m.content
                if content is None:
                    if ff.without_content:
                        feats.append(
                            (
                                f"messages[{i}].content",
                                "assistant.tool_calls_without_content",
                                None,
                            )
                        )
                    n = 0
                else:
                    n = units(content)
                    chars += n
                if w is UNSET or w:
                    trainable += n
                else:
                    weighted_out += 1
        elif cls is _System:
            c = m.content
            chars += len(c) if c.isascii() and "\n" not in c else units(c)
            has_system = True
            if i and ff.system_not_first:
                feats.append((f"messages[{i}].role", "turns.system_not_first", None))
        else:  # _Tool
            if ff.tool_role:
                feats.append((f"messages[{i}].role", "role.tool", None))
            if calls is None or m.tool_call_id not in calls:
                feats.clear()
                return None  # chat.tool_call_id_unknown
            chars += units(m.content)
        if cls is prev and ff.consecutive and cls is not _Tool:
            feats.append((f"messages[{i}].role", "turns.consecutive", {"role": _ROLE[cls]}))
        prev = cls
    if not assistants or weighted_out == assistants:
        feats.clear()
        return None  # chat.no_assistant, chat.nothing_trainable
    if ff.first_not_user:
        first = type(msgs[0])
        if first is _System:
            if len(msgs) > 1 and type(msgs[1]) is not _User:
                _first_turn(msgs, feats)
        elif first is not _User:
            _first_turn(msgs, feats)
    return len(msgs), chars, trainable, users, has_system


def _first_turn(msgs: list[Any], feats: list[Any]) -> None:
    for i, m in enumerate(msgs):
        cls = type(m)
        if cls is not _System:
            if cls is not _User:
                feats.append((f"messages[{i}].role", "turns.first_not_user", {"role": _ROLE[cls]}))
            return

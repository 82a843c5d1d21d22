"""Fireworks' dataset rules as a validation profile (data; the validation engine reads it).

Registered through the entry-point group ``ftbridge.profiles`` (see this distribution's
``pyproject.toml``), so ``ftbridge validate`` gives a Fireworks verdict in the same pass as the
others without importing the SDK.

Sources (``../shared/specs/fireworks/fine-tuning-models.md``, the SFT guide): JSONL with a
``messages`` array; roles ``system``, ``user``, ``assistant``, a system message only first;
an optional per-message ``weight`` of 0 or 1 (0 skips the message); an optional sample
``weight`` at the top level (then on every sample); ``tools`` for function calling;
``reasoning_content`` on assistant turns of thinking models; at least 3 and at most 3 million
examples (the maximum, and examples x epochs <= 3 million, are checked by the provider's
preflight); examples cut off at the training context length (32768 tokens by default).
DPO data are preference pairs (``input.messages``, ``preferred_output``,
``non_preferred_output``): the reference pages do not show Fireworks' DPO data format, so this
is ftbridge's preference format (OpenAI's), which the emulator accepts.
"""

from __future__ import annotations

from ftbridge.validation import ProfileRule, ProviderProfile

MIN_EXAMPLES = 3
MAX_EXAMPLES = 3_000_000
DEFAULT_CONTEXT = 32_768
DOCS = "https://docs.fireworks.ai/fine-tuning/fine-tuning-models"

_ROLE = "Fireworks takes the roles system, user and assistant; {role} is not one of them"

PROFILE = ProviderProfile(
    name="fireworks",
    min_examples=MIN_EXAMPLES,
    token_limits={"Fireworks' default training context (max_context_length)": DEFAULT_CONTEXT},
    rules={
        "format.instruction": ProfileRule(
            "fireworks.format_unsupported",
            "error",
            "Fireworks fine-tunes on chat messages; convert prompt/completion rows with "
            "ftbridge.validation.to_chat()",
        ),
        "format.text": ProfileRule(
            "fireworks.format_unsupported",
            "error",
            "Fireworks does not fine-tune on plain text; write chat examples instead",
        ),
        "role.developer": ProfileRule(
            "fireworks.role_unsupported", "error", _ROLE.format(role="developer") + "; use system"
        ),
        "role.function": ProfileRule(
            "fireworks.role_unsupported",
            "error",
            _ROLE.format(role="function") + "; use tool_calls on the assistant message",
        ),
        "role.tool": ProfileRule(
            "fireworks.role_tool",
            "warning",
            "Fireworks' data format lists system, user and assistant; tool messages may be refused",
            once=True,
        ),
        "turns.system_not_first": ProfileRule(
            "fireworks.system_position",
            "error",
            "a system message must be the first message of the conversation; move it to the "
            "start or make it a user turn",
        ),
        "message_key.function_call": ProfileRule(
            "fireworks.key_unsupported", "error", "Fireworks has no function_call; use tool_calls"
        ),
        "top_key.functions": ProfileRule(
            "fireworks.extra_key", "error", 'Fireworks takes "tools", not "functions"'
        ),
        "top_key.unknown": ProfileRule(
            "fireworks.extra_key",
            "warning",
            'Fireworks reads "messages", "tools" and a sample "weight" at the top level; '
            "{key!r} may be refused",
            once=True,
        ),
        "content.image": ProfileRule(
            "fireworks.images",
            "warning",
            "Fireworks' text fine-tuning trains on text; image parts need a vision model",
        ),
    },
    docs=DOCS,
)

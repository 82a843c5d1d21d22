"""Provider profiles: what each provider accepts beyond the generic rules, as data.

The generic checks note *features* of a dataset (a ``tool`` role, two user turns in a row, a
top-level ``parallel_tool_calls``...). A profile maps the features it cares about to a rule:
a stable code, a severity and a message. It also states file-level limits: minimum number of
examples, maximum file size, per-model token limits (over-long examples are truncated, so they
warn) and an optional cost estimate. The engine reads profiles; it never tests a provider's
name. A third-party provider adds its own with :func:`register_profile`::

    from ftbridge.validation import ProviderProfile, ProfileRule, register_profile

    register_profile(ProviderProfile(
        name="fireworks",
        min_examples=3,
        rules={"role.tool": ProfileRule("fireworks.role", "error", "tool messages are not supported")},
    ))

or, so that validation finds it without importing the provider, names it in its distribution's
entry-point group ``ftbridge.profiles`` (``myprovider = "myprovider._profile:PROFILE"``).

Features the engine reports (``{...}`` are message arguments):

- ``format.chat|preference|instruction|text`` (once per file, line null)
- ``role.developer|tool|function``; ``message_key.<key>`` for name, weight, tool_calls,
  function_call, refusal, reasoning, reasoning_content
- ``top_key.tools|parallel_tool_calls|functions|unknown`` (``{key}``)
- ``turns.consecutive`` (``{role}``), ``turns.first_not_user`` (``{role}``),
  ``turns.system_not_first``
- ``assistant.tool_calls_without_content``, ``assistant.parallel_tool_calls``
- ``content.parts``, ``content.image``, ``content.image_remote``
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ._codes import Severity

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProfileRule:
    """What a profile makes of one feature: ``code`` (stable), ``severity``, ``message``.

    ``once``: report only the first occurrence (with the count), for advice that would
    otherwise repeat on every example.
    """

    code: str
    severity: Severity
    message: str
    once: bool = False


Estimator = Callable[[int, int, bool], dict[str, Any]]


@dataclass(frozen=True)
class ProviderProfile:
    """One provider's acceptance rules, on top of the generic ones.

    ``token_limits`` maps a model to its per-example training token limit (longer examples are
    truncated: a warning); ``uses_max_length`` adds ``validate(max_length=...)`` as a limit;
    ``template_check`` runs :func:`check_with_tokenizer` when a tokenizer is passed.
    ``billing_cap`` caps each example's tokens in ``estimate(examples, billing_tokens, exact)``.
    ``tokenizer`` names the encoding the provider counts with (``"o200k_base"``): validating
    for this provider counts with it when it is installed (``ftbridge[tokens]``).
    """

    name: str
    rules: Mapping[str, ProfileRule] = field(default_factory=dict)
    min_examples: int = 1
    max_file_bytes: int | None = None
    token_limits: Mapping[str, int] = field(default_factory=dict)
    uses_max_length: bool = False
    template_check: bool = False
    billing_cap: int | None = None
    estimate: Estimator | None = None
    tokenizer: str | None = None
    docs: str = ""

    def fingerprint(self) -> str:
        """A digest of the profile's data, so cached reports follow a changed profile."""
        parts = [
            self.name,
            repr(
                sorted((k, (r.code, r.severity, r.message, r.once)) for k, r in self.rules.items())
            ),
            repr((self.min_examples, self.max_file_bytes, sorted(self.token_limits.items()))),
            repr(
                (
                    self.uses_max_length,
                    self.template_check,
                    self.billing_cap,
                    getattr(self.estimate, "__qualname__", None),
                    self.tokenizer,
                )
            ),
        ]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


_PROFILES: dict[str, ProviderProfile] = {}


def register_profile(profile: ProviderProfile, *, replace: bool = False) -> None:
    """Add a provider's profile, so every validation also gives a verdict for it."""
    if profile.name in _PROFILES and not replace:
        raise ValueError(
            f"a profile named {profile.name!r} is already registered (pass replace=True)"
        )
    _PROFILES[profile.name] = profile


def unregister_profile(name: str) -> None:
    """Remove a profile (for tests and plugins that unload)."""
    _PROFILES.pop(name, None)


#: Entry-point group of the profiles that installed provider packages declare, each naming a
#: ``ProviderProfile`` (``fireworks = "ftbridge_fireworks._profile:PROFILE"``); they are
#: registered on first use, so validation gives their verdicts without importing a provider SDK.
PROFILE_GROUP = "ftbridge.profiles"
_plugins_loaded = False


def _load_plugin_profiles() -> None:
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    from importlib.metadata import entry_points

    for ep in entry_points(group=PROFILE_GROUP):
        if ep.name in _PROFILES:  # registered already (by the user or the package itself)
            continue
        try:
            profile = ep.load()
        except Exception as exc:  # a broken plugin must not break validation
            log.warning("profile %s (%s) could not be loaded: %s", ep.name, ep.value, exc)
            continue
        if isinstance(profile, ProviderProfile) and profile.name not in _PROFILES:
            register_profile(profile)


def profiles() -> dict[str, ProviderProfile]:
    """The registered profiles by name (a copy), with those of installed provider packages."""
    _load_plugin_profiles()
    return dict(_PROFILES)


def profiles_fingerprint(selected: Mapping[str, ProviderProfile]) -> str:
    return hashlib.sha256(
        "|".join(p.fingerprint() for p in selected.values()).encode()
    ).hexdigest()[:16]


# -- OpenAI -------------------------------------------------------------------------------------
# Sources: the fine-tuning guide (10 examples minimum; weight 0/1 on assistant messages only),
# the API reference (message schemas, Uploads API up to 8 GB), the cookbook's data-preparation
# notebook (16,385-token cap per example, default-epochs rule, billing estimate).

_OPENAI_TARGET_EPOCHS = 3
_OPENAI_MIN_TARGET_EXAMPLES = 100
_OPENAI_MAX_TARGET_EXAMPLES = 25_000
_OPENAI_MIN_DEFAULT_EPOCHS = 1
_OPENAI_MAX_DEFAULT_EPOCHS = 25


def openai_default_epochs(examples: int) -> int:
    """OpenAI's "auto" epochs: 3, raised to reach 100 examples seen or lowered to stay under 25,000."""
    epochs = _OPENAI_TARGET_EPOCHS
    if examples and examples * epochs < _OPENAI_MIN_TARGET_EXAMPLES:
        epochs = min(_OPENAI_MAX_DEFAULT_EPOCHS, _OPENAI_MIN_TARGET_EXAMPLES // examples)
    elif examples * epochs > _OPENAI_MAX_TARGET_EXAMPLES:
        epochs = max(_OPENAI_MIN_DEFAULT_EPOCHS, _OPENAI_MAX_TARGET_EXAMPLES // examples)
    return epochs


def openai_estimate(
    examples: int, billing_tokens: int, exact: bool, epochs: int | None = None
) -> dict[str, Any]:
    """The tokens an OpenAI job is charged for: ``billing_tokens`` a pass (each example counted
    up to the 16,385-token billing cap) times ``epochs`` (OpenAI's default when None).

    The one estimate: validation's verdict holds it with the default epochs, and the OpenAI
    provider's preflight calls it again with the job's epochs to price it.
    """
    chosen = epochs or openai_default_epochs(examples)
    return {
        "default_epochs": openai_default_epochs(examples),
        "epochs": chosen,
        "billing_tokens_per_epoch": billing_tokens,
        "charged_tokens": chosen * billing_tokens,
        "tokens_exact": exact,
        "rule": "cookbook: 3 epochs, raised to reach 100 examples or lowered to stay under "
        "25,000; each example billed up to 16,385 tokens",
    }


def _unsupported_format(provider: str, hint: str) -> ProfileRule:
    return ProfileRule(f"{provider}.format_unsupported", "error", hint)


OPENAI = ProviderProfile(
    name="openai",
    min_examples=10,
    max_file_bytes=8 * 1000**3,
    token_limits={
        "gpt-3.5-turbo-0125": 16_385,
        "gpt-3.5-turbo-1106": 16_385,
        "gpt-4o-mini-2024-07-18": 65_536,
        "gpt-4o-2024-08-06": 65_536,
    },
    billing_cap=16_385,
    estimate=openai_estimate,
    tokenizer="o200k_base",
    rules={
        "format.instruction": _unsupported_format(
            "openai",
            "OpenAI fine-tunes chat models on chat data; convert prompt/completion rows with "
            "ftbridge.validation.to_chat()",
        ),
        "format.text": _unsupported_format(
            "openai", "OpenAI does not fine-tune on plain text; write chat examples instead"
        ),
        "role.developer": ProfileRule(
            "openai.role_developer",
            "warning",
            "OpenAI's fine-tuning format lists system, user, assistant and tool roles; use "
            '"system" instead of "developer" to be safe',
        ),
        "message_key.reasoning": ProfileRule(
            "openai.key_unsupported",
            "warning",
            'OpenAI\'s fine-tuning format has no "reasoning" key; remove it',
        ),
        "message_key.reasoning_content": ProfileRule(
            "openai.key_unsupported",
            "warning",
            'OpenAI\'s fine-tuning format has no "reasoning_content" key; remove it',
        ),
        "content.image": ProfileRule(
            "openai.vision",
            "warning",
            "images train only on a vision-capable base model (gpt-4o-2024-08-06)",
        ),
    },
    docs="https://platform.openai.com/docs/guides/supervised-fine-tuning",
)

# -- Together AI --------------------------------------------------------------------------------
# Sources: the data-preparation docs (roles system/user/assistant/tool; after an optional
# system message roles alternate user/assistant; optional weight 0/1; tools; base64 data-URL
# images), the SDK's check_file and constants (50.1 GiB limit, the extra columns allowed per
# format: only "tools" for conversations), the legacy SDK's semantic checker.

_TOGETHER_ROLE = (
    "Together accepts the roles system, user, assistant and tool; {role} is not one of them"
)

TOGETHER = ProviderProfile(
    name="together",
    min_examples=1,
    max_file_bytes=int(50.1 * 2**30),
    rules={
        "role.developer": ProfileRule(
            "together.role_unsupported",
            "error",
            _TOGETHER_ROLE.format(role="developer") + "; use system",
        ),
        "role.function": ProfileRule(
            "together.role_unsupported",
            "error",
            _TOGETHER_ROLE.format(role="function") + "; use tool_calls and a tool message",
        ),
        "turns.consecutive": ProfileRule(
            "together.roles_alternate",
            "error",
            "two {role} messages in a row: after the optional system message, roles must "
            "alternate user/assistant; merge them into one message",
        ),
        "turns.first_not_user": ProfileRule(
            "together.first_turn",
            "error",
            "the conversation starts with {role}; after the optional system message the first "
            "turn must be the user's",
        ),
        "turns.system_not_first": ProfileRule(
            "together.system_position",
            "error",
            "a system message may only come first; move it to the start or make it a user turn",
        ),
        "top_key.parallel_tool_calls": ProfileRule(
            "together.extra_key",
            "warning",
            'Together documents only "messages" and "tools" at the top level; '
            '"parallel_tool_calls" may be rejected',
            once=True,
        ),
        "top_key.functions": ProfileRule(
            "together.extra_key",
            "error",
            'Together accepts only "messages" and "tools"; remove "functions"',
        ),
        "top_key.unknown": ProfileRule(
            "together.extra_key",
            "error",
            "Together rejects extra top-level keys; remove {key!r}",
        ),
        "message_key.function_call": ProfileRule(
            "together.key_unsupported", "error", "Together has no function_call; use tool_calls"
        ),
        "message_key.refusal": ProfileRule(
            "together.key_unsupported",
            "warning",
            'Together does not document "refusal"; it may be rejected',
        ),
        "assistant.tool_calls_without_content": ProfileRule(
            "together.tool_calls_content",
            "warning",
            'older Together checkers required "content" on every message; if the upload is '
            'refused, add "content": "" next to tool_calls',
            once=True,
        ),
        "content.image_remote": ProfileRule(
            "together.image_url",
            "error",
            "Together accepts images only as base64 data URLs (data:image/png;base64,...)",
        ),
    },
    docs="https://docs.together.ai/docs/fine-tuning-data-preparation",
)

# -- local (TRL SFTTrainer on a Hugging Face model) ----------------------------------------------
# The model's chat template decides what renders; check_with_tokenizer() runs it for real.

LOCAL = ProviderProfile(
    name="local",
    uses_max_length=True,
    template_check=True,
    rules={
        "role.developer": ProfileRule(
            "local.role_template",
            "warning",
            "most open models' chat templates do not know the developer role; use system",
        ),
        "role.function": ProfileRule(
            "local.role_template",
            "warning",
            "most open models' chat templates do not render the legacy function role",
        ),
        "content.image": ProfileRule(
            "local.images_unsupported",
            "warning",
            "the local trainer trains text models; image parts will not be seen",
        ),
    },
    docs="https://huggingface.co/docs/trl/sft_trainer",
)

for _p in (OPENAI, TOGETHER, LOCAL):
    register_profile(_p)

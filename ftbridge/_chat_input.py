"""What a model handle is asked with, checked once before any provider sees it.

Every handle (remote or local) takes the same generation settings and chat messages; a value no
provider could use (``max_tokens=-5``, ``temperature=nan``, text that is not valid Unicode, such as
a command-line argument holding bytes that are not UTF-8) is a :class:`ConfigError` naming the
setting or the message, instead of an SDK's encoding traceback or an empty reply.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from ._exceptions import ConfigError
from ._models import INT32_MAX


def check_settings(max_tokens: Any, temperature: Any, top_p: Any, stop: Any, seed: Any) -> None:
    """Raise :class:`ConfigError` for a generation setting no provider accepts."""
    if max_tokens is not None and (not _is_int(max_tokens) or not 1 <= max_tokens <= INT32_MAX):
        raise ConfigError(
            f"max_tokens must be a whole number from 1 to {INT32_MAX}, not {max_tokens!r}"
        )
    if temperature is not None and (not _is_number(temperature) or temperature < 0):
        raise ConfigError(f"temperature must be a number of 0 or more, not {temperature!r}")
    if top_p is not None and (not _is_number(top_p) or not 0 <= top_p <= 1):
        raise ConfigError(f"top_p must be a number from 0 to 1, not {top_p!r}")
    if seed is not None and (not _is_int(seed) or not 0 <= seed <= INT32_MAX):
        raise ConfigError(f"seed must be a whole number from 0 to {INT32_MAX}, not {seed!r}")
    stops = [stop] if isinstance(stop, str) else stop
    if stops is not None:
        if not isinstance(stops, Sequence) or not all(isinstance(s, str) for s in stops):
            raise ConfigError(f"stop must be a string or a list of strings, not {stop!r}")
        for s in stops:
            check_text(s, "a stop sequence")


def check_messages(messages: Any) -> None:
    """Raise :class:`ConfigError` unless ``messages`` is a list of role/content mappings whose
    text is valid Unicode."""
    if isinstance(messages, (str, bytes)) or not isinstance(messages, Sequence):
        raise ConfigError(
            "messages must be a list of {'role': ..., 'content': ...} mappings, "
            f"not {type(messages).__name__}"
        )
    for number, message in enumerate(messages, 1):
        if not isinstance(message, Mapping):
            raise ConfigError(
                f"message {number} must be a mapping with 'role' and 'content', "
                f"not {type(message).__name__}"
            )
        check_value(message, f"message {number}")


def check_value(value: Any, where: str) -> None:
    """Every string in ``value`` (nested mappings and lists too) must be valid Unicode."""
    if isinstance(value, str):
        check_text(value, where)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            check_value(key, where)
            check_value(item, where)
    elif isinstance(value, (list, tuple)):
        for item in value:
            check_value(item, where)


def check_text(text: str, where: str) -> None:
    """``text`` must encode as UTF-8: a lone surrogate (a byte of a command-line argument that
    was not UTF-8) is a :class:`ConfigError` saying where."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        bad = text[exc.start]
        shown = f"\\x{ord(bad) - 0xDC00:02x}" if 0xDC80 <= ord(bad) <= 0xDCFF else repr(bad)
        raise ConfigError(
            f"{where} is not valid text: character {exc.start + 1} is {shown}, "
            "a byte that is not UTF-8 (or half of a surrogate pair); "
            "pass the text as UTF-8"
        ) from None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)

"""Checks for the settings every remote provider shares: a timeout, a base URL, a name.

A provider reads them from ``[providers.<name>]`` or its SDK's environment variables, and calls
these before handing them to its SDK, so that a wrong value is one :class:`ConfigError` naming
the setting and where it came from, instead of an SDK traceback (``timeout = -5``), a value that
crashes later (``base_url = 5``), or a request that can never be sent and is retried for minutes
(``base_url = "api.example.com"``, without ``https://``)::

    self.timeout = seconds_setting("openai", "timeout", timeout, default=120.0)
    self.base_url = url_setting("openai", "base_url", url, source="OPENAI_BASE_URL")
"""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlsplit

from ._exceptions import ConfigError

#: The longest timeout a setting may ask for: a day (a larger one overflows the platform's timers).
MAX_SECONDS = 86_400.0


def _where(provider: str, name: str, source: str | None) -> str:
    return source or f"{name} in [providers.{provider}]"


def seconds_setting(
    provider: str, name: str, value: Any, *, default: float, source: str | None = None
) -> float:
    """``value`` (None: ``default``) as a number of seconds above 0 and at most a day."""
    if value is None:
        return default
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = math.nan
    if isinstance(value, bool) or not math.isfinite(seconds) or not 0 < seconds <= MAX_SECONDS:
        raise ConfigError(
            f"{_where(provider, name, source)} must be a number of seconds above 0 and at most "
            f"{MAX_SECONDS:g}, not {value!r}"
        )
    return seconds


def whole_setting(
    provider: str, name: str, value: Any, *, default: int, source: str | None = None
) -> int:
    """``value`` (None: ``default``) as a whole number of 1 or more (a size, a count)."""
    if value is None:
        return default
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    raise ConfigError(
        f"{_where(provider, name, source)} must be a whole number of 1 or more, not {value!r}"
    )


def url_setting(provider: str, name: str, value: Any, *, source: str | None = None) -> str:
    """``value`` as an ``http://`` or ``https://`` URL with a host (and a valid port)."""
    where = _where(provider, name, source)
    if not isinstance(value, str):
        raise ConfigError(f"{where} must be a URL such as 'https://host/v1', not {value!r}")
    try:
        parts = urlsplit(value.strip())
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as exc:
        raise ConfigError(f"{where} is not a valid URL ({exc}): {_shown(value)}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"{where} must be an http:// or https:// URL with a host, such as "
            f"'https://host/v1', not {_shown(value)}"
        )
    return value.strip()


def text_setting(provider: str, name: str, value: Any, *, source: str | None = None) -> str | None:
    """``value`` as a string (None stays None)."""
    if value is None or isinstance(value, str):
        return value
    raise ConfigError(
        f"{_where(provider, name, source)} must be a string, not {value!r}; "
        f'quote it: {name} = "..."'
    )


def _shown(value: str) -> str:
    from ._secrets import scrub

    return repr(scrub(value))  # a password inside the URL stays masked

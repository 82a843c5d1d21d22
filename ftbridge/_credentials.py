"""Where the API key a provider sent came from, for the hint of an authentication error.

A refused key is fixed where it was set: the environment variable, ``api_key`` in the
configuration file, or the ``api_key=`` argument. Naming the wrong one (``check OPENAI_API_KEY``
when the key came from ``ftbridge.toml``) sends the user to the wrong place. Keys are compared,
never shown.
"""

from __future__ import annotations

import hmac
import os
from typing import Any


def sent_key(response: Any) -> str | None:
    """The key a failed request carried (``Authorization: Bearer ...``), from its response."""
    request = getattr(response, "request", None)
    headers = getattr(request, "headers", None)
    if headers is None:
        return None
    value = headers.get("authorization") or ""
    scheme, _, token = str(value).partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _same(a: Any, b: str) -> bool:
    return isinstance(a, str) and hmac.compare_digest(a.encode(), b.encode())


def key_origin(response: Any, *, provider: str, env_var: str) -> str:
    """``"the key came from ...; fix it there"``: the variable, the file, or the argument."""
    key = sent_key(response)
    generic = f"check {env_var}, or api_key in [providers.{provider}] of ftbridge.toml"
    if key is None:
        return generic
    if _same(os.environ.get(env_var), key):
        return f"the key came from the {env_var} environment variable; check it there"
    try:
        from ._config import load_config

        config = load_config()
        in_file = config.provider_settings(provider).get("api_key")
    except Exception:  # a configuration problem must not hide the authentication error
        return generic
    if _same(in_file, key):
        return (
            f"the key came from api_key in [providers.{provider}] of {config.path}; check it there"
        )
    return "the key came from the api_key argument given to the provider; check it"

"""The Fireworks SDK's exceptions mapped onto ftbridge's, by type, chained.

=====================================  ============================================
SDK exception                          ftbridge exception
=====================================  ============================================
``RateLimitError`` (429)               ``RateLimitError`` (``retry_after`` from the header)
``InternalServerError`` (5xx, 520)     ``TransientProviderError``
``APIConnectionError`` / timeout       ``TransientProviderError``
``APIStatusError`` 408                 ``TransientProviderError``
``ConflictError`` (409)                ``TransientProviderError`` (ABORTED: retry); a create
                                       answered ALREADY_EXISTS is handled by the caller
``AuthenticationError`` (401)          ``AuthenticationError``
``PermissionDeniedError`` (403)        ``PermissionDeniedError``
``NotFoundError`` (404)                ``ProviderNotFoundError``
402 (payment), 412 (account state)     ``RequestRejectedError`` saying what to check
other ``APIStatusError`` (4xx)         ``RequestRejectedError`` with the server's message
=====================================  ============================================

Fireworks' control plane answers errors as ``{"code": <gRPC code>, "message": ...}``; its
inference routes as ``{"error": {"message", "type", "code"}}``. Both are read for the message;
the class decides the mapping, never the text.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import fireworks

from ftbridge import _network
from ftbridge._exceptions import (
    AuthenticationError,
    PermissionDeniedError,
    ProviderError,
    ProviderNotFoundError,
    RateLimitError,
    RequestRejectedError,
    TransientProviderError,
)
from ftbridge._polling import retry_after

PROVIDER = "fireworks"

_HINTS = {
    402: "the account is not on a paid plan or is over its usage limit: check billing at "
    "https://fireworks.ai/account/billing",
    412: "the account is suspended, or a LoRA model failed to load: check the account's status",
}


def server_message(exc: fireworks.APIError) -> tuple[str, str | None]:
    """The server's own ``(message, code)`` from either error envelope, else the SDK's."""
    body: Any = exc.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and isinstance(inner.get("message"), str):
            code = inner.get("code")
            return inner["message"], str(code) if code is not None else None
        if isinstance(inner, str):
            return inner, None
    if isinstance(body, str) and body.strip():
        return body.strip(), None
    return exc.message, None


def translate(exc: BaseException, action: str) -> ProviderError:
    """The ftbridge exception for an SDK exception raised while doing ``action``."""
    kw: dict[str, Any] = {"provider": PROVIDER}
    unreachable = _network.unreachable_error(exc, provider=PROVIDER)
    if unreachable is not None:  # never connected: retried briefly, the URL and reason named
        return unreachable
    if isinstance(exc, fireworks.APIConnectionError):  # includes APITimeoutError
        kind = "timed out" if isinstance(exc, fireworks.APITimeoutError) else "could not connect"
        return TransientProviderError(f"Fireworks: {action}: {kind} ({exc.message})", **kw)
    if isinstance(exc, fireworks.APIStatusError):
        status = exc.status_code
        message, code = server_message(exc)
        kw.update(status_code=status, code=code)
        text = f"Fireworks: {action}: {message} (HTTP {status})"
        wait = retry_after(exc.response.headers)
        if isinstance(exc, fireworks.RateLimitError):
            return RateLimitError(text, retry_after=wait, **kw)
        if isinstance(exc, (fireworks.InternalServerError, fireworks.ConflictError)):
            return TransientProviderError(text, retry_after=wait, **kw)
        if status == 408 or status >= 500:
            return TransientProviderError(text, retry_after=wait, **kw)
        if isinstance(exc, fireworks.AuthenticationError):
            return AuthenticationError(
                f"Fireworks refused the API key while trying to {action} (HTTP 401): {message}. "
                "Check FIREWORKS_API_KEY (or api_key in [providers.fireworks]).",
                **kw,
            )
        if isinstance(exc, fireworks.PermissionDeniedError):
            return PermissionDeniedError(
                text + ". Check that the API key belongs to the account (FIREWORKS_ACCOUNT_ID).",
                **kw,
            )
        if isinstance(exc, fireworks.NotFoundError):
            return ProviderNotFoundError(text, **kw)
        if status in _HINTS:
            return RequestRejectedError(f"{text}: {_HINTS[status]}", **kw)
        return RequestRejectedError(text, **kw)
    if isinstance(exc, fireworks.APIResponseValidationError):
        return ProviderError(f"Fireworks: {action}: unexpected response ({exc.message})", **kw)
    if isinstance(exc, fireworks.APIError):
        return ProviderError(f"Fireworks: {action}: {exc.message}", **kw)
    return ProviderError(f"Fireworks: {action}: {type(exc).__name__}: {exc}", **kw)


@contextlib.contextmanager
def sdk_errors(action: str) -> Iterator[None]:
    """Translate SDK exceptions raised inside the block (``with sdk_errors("create the job"):``)."""
    try:
        yield
    except fireworks.FireworksError as exc:
        raise translate(exc, action) from exc


def is_already_exists(exc: BaseException) -> bool:
    """A create refused because the resource id is taken (HTTP 409, gRPC ALREADY_EXISTS)."""
    return isinstance(exc, fireworks.ConflictError)

"""The Together SDK's exceptions mapped onto ftbridge's, by type, chained.

================================  =================================================
SDK exception                     ftbridge exception
================================  =================================================
``RateLimitError`` (429)          ``RateLimitError`` (``retry_after`` from the header)
``InternalServerError`` (5xx)     ``TransientProviderError``
connection refused, no such host  ``ProviderUnreachableError`` ("cannot connect to URL: ...")
``APIConnectionError``/timeout    ``TransientProviderError``
``ConflictError`` (409)           ``TransientProviderError`` (Together's lock timeouts)
``AuthenticationError`` (401)     ``AuthenticationError``
``PermissionDeniedError`` (403)   ``PermissionDeniedError``
``NotFoundError`` (404)           ``ProviderNotFoundError``
other ``APIStatusError`` (4xx)    ``RequestRejectedError`` with the server's message
``FileTypeError``                 ``RequestRejectedError``
================================  =================================================

The SDK's upload helper re-raises some failures as a bare ``APIStatusError`` (a 429 on
``POST /v1/files`` arrives that way), so a bare one is classified by its ``status_code``, an
attribute of the exception, never by its message text.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, NoReturn

import together

from ftbridge._credentials import key_origin
from ftbridge._exceptions import (
    AuthenticationError,
    PermissionDeniedError,
    ProviderError,
    ProviderNotFoundError,
    RateLimitError,
    RequestRejectedError,
    TransientProviderError,
)
from ftbridge._network import unreachable_error
from ftbridge._polling import retry_after

PROVIDER = "together"


def server_message(exc: together.APIError) -> tuple[str, str | None]:
    """The server's own ``(message, code)`` from an error body, else the SDK's message."""
    body: Any = exc.body
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            code = error.get("code")
            return error["message"], code if isinstance(code, str) else None
        if isinstance(error, str):
            return error, None
    if isinstance(body, str) and body.strip():
        return body.strip(), None
    return exc.message, None


def translate(exc: BaseException, action: str) -> ProviderError:
    """The ftbridge exception for an SDK exception raised while doing ``action``."""
    kw: dict[str, Any] = {"provider": PROVIDER}
    if isinstance(exc, together.APIConnectionError):  # includes APITimeoutError
        unreachable = unreachable_error(exc, provider=PROVIDER)
        if unreachable is not None:  # nothing reached Together: say where it tried to connect
            return unreachable
        kind = "timed out" if isinstance(exc, together.APITimeoutError) else "could not connect"
        return TransientProviderError(f"Together: {action}: {kind} ({exc.message})", **kw)
    if isinstance(exc, together.APIStatusError):
        status = exc.status_code
        message, code = server_message(exc)
        kw.update(status_code=status, code=code)
        text = f"Together: {action}: {message} (HTTP {status})"
        wait = retry_after(exc.response.headers)
        if isinstance(exc, together.RateLimitError) or status == 429:
            return RateLimitError(text, retry_after=wait, **kw)
        if isinstance(exc, (together.InternalServerError, together.ConflictError)) or status in (
            408,
            409,
        ):
            return TransientProviderError(text, retry_after=wait, **kw)
        if status >= 500:
            return TransientProviderError(text, retry_after=wait, **kw)
        if isinstance(exc, together.AuthenticationError) or status == 401:
            where = key_origin(exc.response, provider=PROVIDER, env_var="TOGETHER_API_KEY")
            return AuthenticationError(
                f"Together refused the API key while trying to {action} (HTTP 401): {message}. "
                f"{where[0].upper()}{where[1:]}.",
                **kw,
            )
        if isinstance(exc, together.PermissionDeniedError) or status == 403:
            return PermissionDeniedError(text, **kw)
        if isinstance(exc, together.NotFoundError) or status == 404:
            return ProviderNotFoundError(text, **kw)
        return RequestRejectedError(text, **kw)
    if isinstance(exc, together.APIResponseValidationError):
        return ProviderError(f"Together: {action}: unexpected response ({exc.message})", **kw)
    if isinstance(exc, together.FileTypeError):
        return RequestRejectedError(f"Together: {action}: {exc}", **kw)
    if isinstance(exc, together.APIError):
        return ProviderError(f"Together: {action}: {exc.message}", **kw)
    return ProviderError(f"Together: {action}: {type(exc).__name__}: {exc}", **kw)


@contextlib.contextmanager
def sdk_errors(action: str) -> Iterator[None]:
    """Translate SDK exceptions raised inside the block (``with sdk_errors("create the job"):``)."""
    try:
        yield
    except together.TogetherError as exc:
        raise translate(exc, action) from exc


def reraise(exc: BaseException, action: str) -> NoReturn:
    raise translate(exc, action) from exc

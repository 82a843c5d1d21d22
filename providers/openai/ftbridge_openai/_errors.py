"""The ``openai`` SDK's exceptions mapped onto ftbridge's, by type, chained.

================================  =================================================
SDK exception                     ftbridge exception
================================  =================================================
``RateLimitError`` (429)          ``RateLimitError`` (``retry_after`` from the headers)
``InternalServerError`` (5xx)     ``TransientProviderError``
connection refused, no such host  ``ProviderUnreachableError`` ("cannot connect to URL: ...")
``APIConnectionError``/timeout    ``TransientProviderError``
``ConflictError`` (409)           ``TransientProviderError`` (the SDK's own retry list has it)
``AuthenticationError`` (401)     ``AuthenticationError``
``PermissionDeniedError`` (403)   ``PermissionDeniedError``
``NotFoundError`` (404)           ``ProviderNotFoundError``
other ``APIStatusError``          ``RequestRejectedError`` with the server's message
================================  =================================================
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, NoReturn

import openai

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

PROVIDER = "openai"


def server_message(exc: openai.APIStatusError) -> str:
    """The server's own message (the SDK unwraps ``{"error": {...}}`` into ``body``)."""
    body: Any = exc.body
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return str(body["message"])
    return exc.message


def translate(exc: openai.OpenAIError, action: str) -> ProviderError:
    """The ftbridge exception for an SDK exception raised while doing ``action``."""
    if isinstance(exc, openai.APIConnectionError):  # timeouts included
        unreachable = unreachable_error(exc, provider=PROVIDER)
        if unreachable is not None:  # nothing reached OpenAI: say where it tried to connect
            return unreachable
    if isinstance(exc, openai.APITimeoutError):
        return TransientProviderError(f"OpenAI timed out while {action}", provider=PROVIDER)
    if isinstance(exc, openai.APIConnectionError):
        return TransientProviderError(
            f"could not reach OpenAI while {action}: {exc.message}", provider=PROVIDER
        )
    if not isinstance(exc, openai.APIStatusError):
        return ProviderError(f"OpenAI client error while {action}: {exc}", provider=PROVIDER)
    message = f"OpenAI refused {action}: {server_message(exc)}"
    kw: dict[str, Any] = {"provider": PROVIDER, "code": exc.code, "status_code": exc.status_code}
    if isinstance(exc, openai.RateLimitError):
        wait = retry_after(exc.response.headers)
        return RateLimitError(
            f"OpenAI rate limit while {action}: {server_message(exc)}", retry_after=wait, **kw
        )
    if isinstance(exc, (openai.InternalServerError, openai.ConflictError)):
        return TransientProviderError(
            f"OpenAI server error while {action}: {server_message(exc)}",
            retry_after=retry_after(exc.response.headers),
            **kw,
        )
    if isinstance(exc, openai.AuthenticationError):
        where = key_origin(exc.response, provider=PROVIDER, env_var="OPENAI_API_KEY")
        return AuthenticationError(
            f"OpenAI did not accept the API key while {action}: {server_message(exc)} ({where})",
            **kw,
        )
    if isinstance(exc, openai.PermissionDeniedError):
        return PermissionDeniedError(message, **kw)
    if isinstance(exc, openai.NotFoundError):
        return ProviderNotFoundError(message, **kw)
    if exc.status_code >= 500:  # a bare APIStatusError for a 5xx the SDK has no class for
        return TransientProviderError(message, **kw)
    return RequestRejectedError(message, **kw)


@contextlib.contextmanager
def mapped(action: str) -> Iterator[None]:
    """``with mapped("creating the job"): client.fine_tuning.jobs.create(...)``"""
    try:
        yield
    except openai.OpenAIError as exc:
        raise translate(exc, action) from exc


def reraise(exc: openai.OpenAIError, action: str) -> NoReturn:
    raise translate(exc, action) from exc

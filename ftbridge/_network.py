"""Telling "the provider cannot be reached at all" apart from other passing failures.

A connection that was refused, a host name that does not resolve, a connect that timed out: the
request never left this machine, so nothing can have been created, and retrying for minutes
helps nobody. Providers turn such SDK errors into :class:`ProviderUnreachableError` with
:func:`unreachable_error`; the core retries those only a few times, briefly, and says so.

    except openai.APIConnectionError as exc:
        error = unreachable_error(exc, provider="openai")
        if error is not None:
            return error          # "cannot connect to http://127.0.0.1:9/v1/files: connection refused"
"""

from __future__ import annotations

import socket
from urllib.parse import urlsplit, urlunsplit

from ._exceptions import ProviderUnreachableError

#: Seconds a provider waits for a connection to open (however long a request may then take):
#: a host that never answers is known unreachable in seconds, not after the request timeout.
CONNECT_TIMEOUT = 10.0

# Connect-phase transport errors of httpx and httpcore (and the copies SDKs vendor under other
# module names): matched by class name along the exception's MRO.
_CONNECT_ERRORS = frozenset({"ConnectError", "ConnectTimeout"})


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not s for s in seen):
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def connect_failure(exc: BaseException) -> str | None:
    """Why a connection could not be made (``"connection refused"``...), or None when ``exc``
    did not fail while connecting (the request may have reached the server)."""
    chain = _chain(exc)
    if not any(c.__name__ in _CONNECT_ERRORS for e in chain for c in type(e).__mro__):
        return None
    for error in reversed(chain):  # the innermost cause says it best
        if isinstance(error, ConnectionRefusedError):
            return "connection refused"
        if isinstance(error, socket.gaierror):
            return "the host name does not resolve"
        if isinstance(error, TimeoutError) or "Timeout" in type(error).__name__:
            return "timed out while connecting"
        if isinstance(error, OSError) and error.strerror:
            return error.strerror[0].lower() + error.strerror[1:]
    return "the connection failed"


def url_of(exc: BaseException) -> str | None:
    """The URL of the request an SDK exception (or one it wraps) carries, without its query."""
    for error in _chain(exc):
        try:
            request = getattr(error, "request", None)
        except RuntimeError:  # httpx raises when an error has no request attached
            request = None
        url = getattr(request, "url", None)
        if url is not None:
            parts = urlsplit(str(url))
            return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    return None


def unreachable_error(
    exc: BaseException, *, provider: str, url: str | None = None
) -> ProviderUnreachableError | None:
    """A :class:`ProviderUnreachableError` naming the URL and the reason when ``exc`` failed
    while connecting, else None. ``url`` defaults to the URL of the failed request."""
    reason = connect_failure(exc)
    if reason is None:
        return None
    where = url or url_of(exc) or f"the {provider} API"
    return ProviderUnreachableError(
        f"cannot connect to {where}: {reason}", provider=provider, url=where
    )

"""Requests and responses as emulator route handlers see them (standard library only)."""

from __future__ import annotations

import email.parser
import email.policy
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

Handler = Callable[["Request"], "Response"]


class ApiError(Exception):
    """Raise from a route handler to answer with the emulator's error envelope.

    ``raise ApiError(400, "'model' is required", param="model", code="missing_required_parameter")``
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.param = param
        self.headers = dict(headers or {})


class Headers(Mapping[str, str]):
    """A read-only, case-insensitive view of request headers (last value wins)."""

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        self._items: dict[str, tuple[str, str]] = {}
        for key, value in items:
            self._items[key.lower()] = (key, value)

    def __getitem__(self, key: str) -> str:
        return self._items[key.lower()][1]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._items

    def __iter__(self) -> Iterator[str]:
        return (original for original, _ in self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        # Authorization headers carry secrets: never show their values.
        shown = {
            k: ("<redacted>" if k.lower() in {"authorization", "x-api-key"} else v)
            for k, v in self._items.values()
        }
        return f"Headers({shown!r})"


@dataclass(frozen=True)
class FormField:
    """One part of a ``multipart/form-data`` body."""

    name: str
    data: bytes
    filename: str | None = None
    content_type: str | None = None

    @property
    def text(self) -> str:
        return self.data.decode("utf-8")


@dataclass
class Request:
    """What a route handler receives."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: Headers
    body: bytes
    params: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        """The body parsed as JSON; a body that is not JSON raises ``ApiError(400)``."""
        try:
            return json.loads(self.body or b"null")
        except ValueError as exc:
            raise ApiError(400, f"We could not parse the JSON body of your request: {exc}") from exc

    def query_one(self, name: str, default: str | None = None) -> str | None:
        """The first value of query parameter ``name``."""
        values = self.query.get(name)
        return values[0] if values else default

    def form(self) -> dict[str, FormField]:
        """The body parsed as ``multipart/form-data``; anything else raises ``ApiError(400)``."""
        content_type = self.headers.get("content-type", "")
        if not content_type.lower().startswith("multipart/form-data"):
            raise ApiError(400, "Expected a multipart/form-data body.")
        raw = b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + self.body
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(raw)
        if not message.is_multipart():
            raise ApiError(400, "Could not parse the multipart/form-data body.")
        fields: dict[str, FormField] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if not isinstance(name, str):
                continue
            payload = part.get_payload(decode=True)
            fields[name] = FormField(
                name=name,
                data=payload if isinstance(payload, bytes) else b"",
                filename=part.get_filename(),
                content_type=part.get_content_type() if part.get("content-type") else None,
            )
        return fields


@dataclass
class Response:
    """What a route handler returns: JSON, raw bytes, or a stream of byte chunks (SSE)."""

    status: int = 200
    json: Any = None
    body: bytes = b""
    headers: dict[str, str] | None = None
    stream: Iterator[bytes] | None = None


class LoggedRequest(NamedTuple):
    """One request the server answered. ``status`` is 0 for a dropped connection;
    ``handled`` says whether the route handler ran (a fault can answer before it)."""

    method: str
    path: str
    status: int
    time: float
    handled: bool = False

"""What every emulator route shares: times as the API writes them, gRPC status codes."""

from __future__ import annotations

from datetime import datetime, timezone

# gRPC code names (as ``status.code`` spells them) -> (number, HTTP status), per code.proto.
GRPC: dict[str, tuple[int, int]] = {
    "OK": (0, 200),
    "CANCELLED": (1, 499),
    "UNKNOWN": (2, 500),
    "INVALID_ARGUMENT": (3, 400),
    "DEADLINE_EXCEEDED": (4, 504),
    "NOT_FOUND": (5, 404),
    "ALREADY_EXISTS": (6, 409),
    "PERMISSION_DENIED": (7, 403),
    "RESOURCE_EXHAUSTED": (8, 429),
    "FAILED_PRECONDITION": (9, 400),
    "ABORTED": (10, 409),
    "OUT_OF_RANGE": (11, 400),
    "UNIMPLEMENTED": (12, 501),
    "INTERNAL": (13, 500),
    "UNAVAILABLE": (14, 503),
    "DATA_LOSS": (15, 500),
    "UNAUTHENTICATED": (16, 401),
}
_BY_HTTP = {
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    429: "RESOURCE_EXHAUSTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
    501: "UNIMPLEMENTED",
}


def grpc_code(status: int, name: str | None) -> int:
    """The numeric gRPC code for an error: its name if it is one, else from the HTTP status."""
    if name in GRPC:
        return GRPC[name][0]
    fallback = _BY_HTTP.get(status, "INTERNAL" if status >= 500 else "INVALID_ARGUMENT")
    return GRPC[fallback][0]


def iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, timezone.utc).isoformat().replace("+00:00", "Z")

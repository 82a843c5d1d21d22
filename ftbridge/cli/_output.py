"""Small output helpers shared by the commands."""

from __future__ import annotations

import sys
from typing import IO, Any

import orjson


def print_json(obj: Any, stream: IO[str] | None = None) -> None:
    """Print one JSON document (pydantic models, datetimes and enums included)."""
    out = stream or sys.stdout
    out.write(
        orjson.dumps(
            obj, default=_default, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS
        ).decode()
    )
    out.write("\n")


def _default(obj: Any) -> Any:
    dump = getattr(obj, "model_dump", None)
    if dump is not None:
        return dump(mode="json")
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    raise TypeError(f"cannot serialise {type(obj).__name__}")


def is_terminal(stream: IO[str] | None = None) -> bool:
    s = stream or sys.stderr
    return bool(getattr(s, "isatty", lambda: False)())

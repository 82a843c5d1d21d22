"""Small conversions: instruction/text rows to chat, and writing canonical JSONL."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import orjson


def to_chat(row: Mapping[str, Any], *, system: str | None = None) -> dict[str, Any]:
    """One instruction or text row as a chat example (chat rows pass through unchanged).

    ``{"prompt": p, "completion": c}`` becomes a user turn and an assistant reply;
    ``{"text": t}`` becomes a single assistant message (the whole text is learned)::

        >>> to_chat({"prompt": "2+2?", "completion": "4"})
        {'messages': [{'role': 'user', 'content': '2+2?'}, {'role': 'assistant', 'content': '4'}]}
    """
    if "messages" in row:
        return dict(row)
    head = [{"role": "system", "content": system}] if system else []
    if "prompt" in row and "completion" in row:
        return {
            "messages": [
                *head,
                {"role": "user", "content": row["prompt"]},
                {"role": "assistant", "content": row["completion"]},
            ]
        }
    if "text" in row:
        return {"messages": [*head, {"role": "assistant", "content": row["text"]}]}
    raise ValueError(f"cannot convert a row with keys {sorted(row)} to chat")


def iter_records(path: str | os.PathLike[str]) -> Iterator[dict[str, Any]]:
    """The JSON objects of a JSONL file, skipping blank lines (for already validated files)."""
    with open(path, "rb") as f:
        for raw in f:
            if raw.strip():
                yield orjson.loads(raw)


def write_jsonl(
    records: Iterable[Mapping[str, Any]],
    path: str | os.PathLike[str],
    *,
    keys: Iterable[str] | None = None,
) -> Path:
    """Write records as canonical JSONL: compact UTF-8 JSON, one object per line, ``\\n`` endings.

    ``keys`` keeps only those top-level keys (e.g. a provider that refuses extra columns).
    Written to a temporary name and renamed, so a reader never sees half a file::

        write_jsonl((to_chat(r) for r in rows), "train.jsonl")
    """
    out = Path(path)
    keep = frozenset(keys) if keys is not None else None
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            for rec in records:
                if keep is not None:
                    rec = {k: v for k, v in rec.items() if k in keep}
                f.write(orjson.dumps(rec))
                f.write(b"\n")
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return out

"""The examples of an evaluation: chat records whose final assistant message is the reference.

    examples = load_examples("heldout.jsonl")      # or a list of {"messages": [...]} records
    examples[0].prompt      # every message before the final assistant message
    examples[0].reference   # that message's content

Every record is checked before anything is generated; all problems are reported at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from .._exceptions import DatasetError, DatasetReadError

# The message keys a chat API takes; training-only keys (``weight``...) are not sent.
_SENT_KEYS = ("role", "content", "name", "tool_calls", "tool_call_id")
_SHOWN = 5


@dataclass(frozen=True)
class Example:
    """One evaluation example."""

    index: int
    prompt: tuple[dict[str, Any], ...]
    reference: str
    record: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)


def _text(content: Any) -> str | None:
    """A message's content as text (the text parts of a list of parts), or None."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [p.get("text") for p in content if isinstance(p, dict)]
        if parts and all(isinstance(p, str) for p in parts):
            return "".join(parts)  # type: ignore[arg-type]
    return None


def _example(index: int, record: Any) -> Example | str:
    """The example, or what is wrong with the record."""
    if not isinstance(record, Mapping):
        return f"a record must be a JSON object with 'messages', not {type(record).__name__}"
    messages = record.get("messages")
    if not isinstance(messages, list) or not messages:
        return "no 'messages' list: each record needs {'messages': [...]}"
    if not all(isinstance(m, Mapping) for m in messages):
        return "every message must be an object with 'role' and 'content'"
    last = messages[-1]
    if last.get("role") != "assistant":
        return (
            f"the last message is {last.get('role')!r}, not 'assistant': the reference answer "
            "must be the record's final assistant message"
        )
    reference = _text(last.get("content"))
    if reference is None:
        return "the final assistant message has no text content to use as the reference"
    if len(messages) < 2:
        return "nothing before the final assistant message: there is no prompt to send"
    prompt = tuple({k: m[k] for k in _SENT_KEYS if k in m} for m in messages[:-1])
    return Example(index=index, prompt=prompt, reference=reference, record=record)


def _records(data: str | Path | Iterable[Any]) -> tuple[str, Iterable[tuple[int, Any]]]:
    """(where, [(line number, record or parse error), ...])."""
    if isinstance(data, (str, Path)):
        path = Path(data).expanduser()
        if path.is_char_device() or path.is_block_device():  # /dev/zero: read for ever
            raise DatasetReadError(f"{path} is a device, not a file; pass a .jsonl file")
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise DatasetReadError(f"cannot read {path}: {exc.strerror or exc}") from exc

        def lines() -> Iterable[tuple[int, Any]]:
            for number, line in enumerate(raw.splitlines(), 1):
                if not line.strip():
                    continue
                try:
                    line.decode("utf-8")
                except UnicodeDecodeError as exc:
                    yield (
                        number,
                        _BadJson(
                            f"not UTF-8 text (bad byte at column {exc.start + 1}); "
                            "re-save the file as UTF-8"
                        ),
                    )
                    continue
                try:
                    yield number, orjson.loads(line)
                except orjson.JSONDecodeError as exc:
                    yield number, _BadJson(f"not JSON ({exc})")

        return str(path), lines()
    if isinstance(data, Mapping):
        raise DatasetError("data must be a JSONL path or a list of records, not one record")
    return "records", enumerate(data, 1)


@dataclass(frozen=True)
class _BadJson:
    message: str


def load_examples(data: str | Path | Sequence[Any] | Iterable[Any]) -> list[Example]:
    """Every example of ``data``; raises ``DatasetError`` listing every unusable record."""
    where, rows = _records(data)
    examples: list[Example] = []
    problems: list[str] = []
    for number, record in rows:
        if isinstance(record, _BadJson):
            problems.append(f"{where}:{number}: {record.message}")
            continue
        found = _example(len(examples), record)
        if isinstance(found, str):
            problems.append(f"{where}:{number}: {found}")
        else:
            examples.append(found)
    if problems:
        more = f"\n  ... and {len(problems) - _SHOWN} more" if len(problems) > _SHOWN else ""
        raise DatasetError(
            f"{len(problems)} record(s) of {where} cannot be evaluated:\n  "
            + "\n  ".join(problems[:_SHOWN])
            + more
        )
    if not examples:
        raise DatasetError(f"{where} has no examples to evaluate")
    return examples

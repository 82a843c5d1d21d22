"""Checks that need the model's own tokenizer: does each example render, does it fit?

Used by the local provider's preflight, and by ``validate(tokenizer=...)`` for the profiles
that ask for it. The tokenizer is whatever ``transformers.AutoTokenizer`` returned; nothing
here imports transformers.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from ._codes import CODES, render
from ._report import Finding
from ._scan import iter_lines
from ._tally import MAX_LINE_BYTES
from ._tokens import render_ids

if TYPE_CHECKING:
    from ._dataset import ValidatedDataset


def check_with_tokenizer(
    dataset: ValidatedDataset, tokenizer: Any, max_length: int | None = None, *, limit: int = 1000
) -> list[Finding]:
    """Render every example with ``tokenizer``'s chat template; report failures and overlong ones.

    Returns at most ``limit`` findings (errors for examples the template cannot render,
    warnings for examples longer than ``max_length`` tokens, which training truncates)::

        problems = check_with_tokenizer(ds, AutoTokenizer.from_pretrained(model), 2048)
    """
    return check_path_with_tokenizer(dataset.path, dataset.format, tokenizer, max_length, limit)


def check_path_with_tokenizer(
    path: Path, fmt: str | None, tokenizer: Any, max_length: int | None, limit: int
) -> list[Finding]:
    out: list[Finding] = []
    needs_template = fmt in ("chat", "preference")
    if needs_template and not getattr(tokenizer, "chat_template", None):
        return [_finding(None, "tokenizer.no_template", None)]
    size = Path(path).stat().st_size
    with open(path, "rb") as f:
        for ln, (raw, _, _) in enumerate(iter_lines(f, 0, size, MAX_LINE_BYTES), 1):
            if len(out) >= limit:
                break
            if raw is None:
                continue  # too long: the generic rules already reported it
            try:
                rec = orjson.loads(raw)
            except orjson.JSONDecodeError:
                continue  # the generic rules already reported it
            if not isinstance(rec, dict):
                continue
            try:
                n = _length(tokenizer, rec, fmt)
            except Exception as exc:  # templates raise anything (jinja errors, ValueError...)
                detail = (
                    str(exc).strip().splitlines()[0][:200]
                    if str(exc).strip()
                    else type(exc).__name__
                )
                out.append(_finding(ln, "tokenizer.template_failed", {"detail": detail}))
                continue
            if max_length is not None and n > max_length:
                out.append(
                    _finding(ln, "tokenizer.too_long", {"tokens": n, "max_length": max_length})
                )
    return out


def _length(tok: Any, rec: dict[str, Any], fmt: str | None) -> int:
    if fmt == "chat":
        return len(render_ids(tok, rec["messages"], rec.get("tools")))
    if fmt == "preference":
        prompt = rec["input"]["messages"]
        longest = max(
            (rec["preferred_output"], rec["non_preferred_output"]),
            key=lambda o: len(str(o)),
        )
        return len(render_ids(tok, [*prompt, *longest], rec["input"].get("tools")))
    if fmt == "instruction":
        return len(tok.encode(str(rec.get("prompt", "")) + str(rec.get("completion", ""))))
    return len(tok.encode(str(rec.get("text", ""))))


def _finding(line: int | None, code: str, args: dict[str, Any] | None) -> Finding:
    return Finding(
        line=line, loc=None, code=code, message=render(code, args), severity=CODES[code][0]
    )

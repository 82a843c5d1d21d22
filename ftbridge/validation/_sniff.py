"""What the first bytes of a file say before any line is checked.

Two shapes make every line an error while the real problem is one sentence: a file in UTF-16
or UTF-32 (Windows editors and PowerShell's ``>`` write UTF-16) and a JSON array (``json.dump``
of a list, pretty-printed or not). Both are recognised here, from the head of the file, and
reported as one file-level error that says how to convert the file; the lines are not scanned.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from .._arguments import text_or_none
from .._exceptions import DatasetReadError, UnknownProviderError

if TYPE_CHECKING:
    from ._profiles import ProviderProfile
    from ._report import ValidationReport

HEAD_BYTES = 64 << 10

# longest first: a UTF-32-LE mark starts with the UTF-16-LE one
_BOMS = (
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe", "UTF-16"),
    (b"\xfe\xff", "UTF-16"),
)


def encoding_of(head: bytes) -> str | None:
    """``"UTF-16"`` or ``"UTF-32"`` when the head is in one of them (with or without a BOM)."""
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    first = head[:4]
    if len(first) == 4 and first[0] and not any(first[1:]):
        return "UTF-32"  # "{" then three zero bytes: little-endian
    if len(first) == 4 and not any(first[:3]) and first[3]:
        return "UTF-32"
    if len(first) >= 4 and first[0] and not first[1] and first[2] and not first[3]:
        return "UTF-16"
    if len(first) >= 4 and not first[0] and first[1] and not first[2] and first[3]:
        return "UTF-16"
    return None


def is_json_array(head: bytes, size: int) -> bool:
    """The file is one JSON array (not JSON Lines whose first record happens to be a list)."""
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n")
    if not text.startswith(b"["):
        return False
    first, newline, rest = text.partition(b"\n")
    if not newline:
        return True  # the whole head is one line: `json.dump(records)` without indent
    try:
        value = orjson.loads(first)
    except orjson.JSONDecodeError:
        return True  # "[" alone, or "[{" ...: a pretty-printed array
    more = bool(rest.strip()) or len(head) < size
    # a complete list on the first line followed by more lines is a JSONL file of lists,
    # which the line checks report as such
    return not (isinstance(value, list) and more)


def shape_error(path: str, head: bytes, size: int) -> tuple[str, dict[str, Any]] | None:
    """(code, message arguments) when the file's shape makes line checks pointless."""
    encoding = encoding_of(head)
    if encoding is not None:
        return "dataset.not_utf8", {
            "encoding": encoding,
            "hint": f"for example: iconv -f {encoding} -t UTF-8 {path} > {_beside(path, '.utf8')}",
        }
    if is_json_array(head, size):
        target = f"{path}l" if path.endswith(".json") else f"{path}.jsonl"
        return "dataset.json_array", {
            "hint": 'python -c "import json,sys; [print(json.dumps(r, ensure_ascii=False)) '
            f'for r in json.load(open(sys.argv[1]))]" {path} > {target}',
        }
    return None


def _beside(path: str, tag: str) -> str:
    """``data.jsonl`` -> ``data<tag>.jsonl``: where a converted copy can go."""
    stem, dot, ext = path.rpartition(".")
    return f"{stem}{tag}.{ext}" if dot and "/" not in ext else f"{path}{tag}.jsonl"


def read_head(path: Path) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read(HEAD_BYTES)
    except OSError as exc:
        raise DatasetReadError(f"cannot read dataset file {path}: {exc.strerror or exc}") from exc


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def shape_report(
    code: str,
    args: dict[str, Any],
    *,
    path: str,
    sha256: str,
    size: int,
    selected: Mapping[str, ProviderProfile],
    max_findings: int,
) -> ValidationReport:
    """A report holding the one file-level error (every provider's verdict: invalid)."""
    from ._codes import RULES_VERSION, render
    from ._report import DatasetStats, Finding, ProviderVerdict, ValidationReport

    finding = Finding(line=None, loc=None, code=code, message=render(code, args), severity="error")
    return ValidationReport(
        path=path,
        sha256=sha256,
        valid=False,
        errors=[finding],
        error_count=1,
        counts={code: 1},
        max_findings=max_findings,
        stats=DatasetStats(bytes=size),
        verdicts={name: ProviderVerdict(provider=name, valid=False) for name in selected},
        rules_version=RULES_VERSION,
    )


def check_provider_name(provider: str | None, selected: Mapping[str, Any]) -> None:
    """An unknown ``provider`` is a usage error naming the known ones (not a silent pass)."""
    if provider is None:
        return
    text_or_none("provider", provider, "a provider name such as 'openai'")
    if provider in selected:
        return
    from .._registry import list_providers

    known = sorted({*selected, *(r.name for r in list_providers())})
    if provider in known:
        return  # a provider without a validation profile: the generic rules decide
    close = difflib.get_close_matches(provider, known, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise UnknownProviderError(
        f"unknown provider {provider!r}.{hint} Known providers: {', '.join(known)}"
    )

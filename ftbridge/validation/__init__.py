"""Validate a fine-tuning dataset once: every problem, per-provider verdicts, statistics.

    from ftbridge.validation import check, validate

    ds = validate("support.jsonl", provider="openai")   # raises DatasetValidationError if invalid
    print(ds.format, ds.example_count, ds.stats.total_tokens)
    print({name: v.valid for name, v in ds.verdicts.items()})

    report = check("broken.jsonl").report              # never raises for bad data
    print(report.format_text())                        # broken.jsonl:3: messages[1].role: error: ...

The engine streams the file (bounded memory), parses with orjson, and checks the generic
rules (``_chat``, ``_formats``) and every registered provider profile (``_profiles``) in the
same pass. Results are cached under ``$FTBRIDGE_HOME`` by sha256.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

# name -> module that defines it. Imported on first use: ``check`` alone does not need the
# report models (pydantic), which are imported while the scan runs.
_EXPORTS: dict[str, str] = {
    "CODES": "._codes",
    "RULES_VERSION": "._codes",
    "DatasetStats": "._report",
    "Distribution": "._report",
    "Finding": "._report",
    "ProfileRule": "._profiles",
    "ProviderProfile": "._profiles",
    "ProviderVerdict": "._report",
    "ValidatedDataset": "._dataset",
    "ValidationReport": "._report",
    "check": "._dataset",
    "check_with_tokenizer": "._local",
    "iter_records": "._convert",
    "profiles": "._profiles",
    "register_profile": "._profiles",
    "to_chat": "._convert",
    "unregister_profile": "._profiles",
    "validate": "._dataset",
    "write_jsonl": "._convert",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_exports(__name__, _EXPORTS)


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:  # pragma: no cover - for type checkers and editors only
    from ._codes import CODES, RULES_VERSION
    from ._convert import iter_records, to_chat, write_jsonl
    from ._dataset import ValidatedDataset, check, validate
    from ._local import check_with_tokenizer
    from ._profiles import (
        ProfileRule,
        ProviderProfile,
        profiles,
        register_profile,
        unregister_profile,
    )
    from ._report import DatasetStats, Distribution, Finding, ProviderVerdict, ValidationReport

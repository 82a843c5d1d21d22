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

from ._codes import CODES, RULES_VERSION
from ._convert import iter_records, to_chat, write_jsonl
from ._dataset import ValidatedDataset, check, validate
from ._local import check_with_tokenizer
from ._profiles import ProfileRule, ProviderProfile, profiles, register_profile, unregister_profile
from ._report import DatasetStats, Distribution, Finding, ProviderVerdict, ValidationReport

__all__ = [
    "CODES",
    "RULES_VERSION",
    "DatasetStats",
    "Distribution",
    "Finding",
    "ProfileRule",
    "ProviderProfile",
    "ProviderVerdict",
    "ValidatedDataset",
    "ValidationReport",
    "check",
    "check_with_tokenizer",
    "iter_records",
    "profiles",
    "register_profile",
    "to_chat",
    "unregister_profile",
    "validate",
    "write_jsonl",
]

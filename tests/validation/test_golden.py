"""Golden files: each input in ``golden/`` has the findings and verdicts it must produce.

Every rule has a case here (valid and invalid). To regenerate after a deliberate rule change,
run with ``FTBRIDGE_UPDATE_GOLDEN=1`` and review the diff of the ``.expected.json`` files.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from ftbridge.validation import CODES, check

from .conftest import GOLDEN

CASES = sorted(p for p in GOLDEN.glob("*.jsonl"))


def observed(path: Path) -> dict[str, Any]:
    report = check(path).report
    findings = [
        {"line": f.line, "loc": f.loc, "code": f.code, "severity": f.severity}
        for f in report.findings()
    ]
    by_provider = {
        name: [
            {"line": f.line, "loc": f.loc, "code": f.code, "severity": f.severity}
            for f in [*v.errors, *v.warnings]
        ]
        for name, v in sorted(report.verdicts.items())
    }
    return {
        "format": report.format,
        "valid": report.valid,
        "examples": report.stats.examples,
        "findings": findings,
        "verdicts": {name: v.valid for name, v in sorted(report.verdicts.items())},
        "provider_findings": by_provider,
    }


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_golden(path: Path) -> None:
    expected_path = path.with_suffix(".expected.json")
    got = observed(path)
    if os.environ.get("FTBRIDGE_UPDATE_GOLDEN"):
        expected_path.write_text(json.dumps(got, indent=1, ensure_ascii=False) + "\n")
    expected = json.loads(expected_path.read_text())
    assert got == expected


def test_every_generic_code_has_a_golden_case() -> None:
    seen: set[str] = set()
    for path in CASES:
        expected = json.loads(path.with_suffix(".expected.json").read_text())
        seen.update(f["code"] for f in expected["findings"])
    # produced only by a tokenizer, or by files too big or odd for a golden input
    elsewhere = {
        "line.too_long",
        "tokenizer.template_failed",
        "tokenizer.too_long",
        "tokenizer.no_template",
    }
    assert set(CODES) - seen - elsewhere == set()

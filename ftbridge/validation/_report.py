"""What a validation run reports: findings, statistics and per-provider verdicts."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Severity = Literal["error", "warning"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Finding(_Frozen):
    """One problem in a dataset.

    ``line`` is 1-based (``None`` for the whole file), ``loc`` the place inside the record
    (``messages[2].role``), ``code`` a stable identifier, ``message`` says how to fix it.
    ``provider`` is set when only that provider's profile objects to it.
    """

    line: int | None
    loc: str | None
    code: str
    message: str
    severity: Severity
    provider: str | None = None

    def render(self, filename: str = "") -> str:
        """A compiler-style line: ``train.jsonl:17: messages[2].role: error: ... [code]``."""
        where = f"{filename}:{self.line}" if self.line is not None else filename
        parts = [p for p in (where, self.loc) if p]
        prefix = ": ".join(parts)
        who = f" ({self.provider})" if self.provider else ""
        head = f"{prefix}: " if prefix else ""
        return f"{head}{self.severity}{who}: {self.message} [{self.code}]"

    def brief(self) -> dict[str, Any]:
        """``{line, code, message, loc}``: the shape ``ftbridge validate --json`` prints."""
        return {"line": self.line, "code": self.code, "message": self.message, "loc": self.loc}


class Distribution(_Frozen):
    """Minimum, mean and maximum of a per-example quantity."""

    min: float = 0
    mean: float = 0
    max: float = 0


class DatasetStats(_Frozen):
    """Statistics of a dataset, from the same pass that checked it.

    ``tokenizer`` names the token counter used: ``"o200k_base (exact)"`` (an encoding, with
    ``ftbridge[tokens]`` installed), ``"tokenizer NAME (exact)"`` (a Hugging Face tokenizer), or
    the estimate's description when ``tokens_exact`` is False.
    ``trainable_tokens`` counts assistant messages whose ``weight`` is not 0 (for preference
    data, the preferred output; for instruction data, the completion; for text, everything).
    """

    examples: int = 0
    lines: int = 0
    messages: Distribution = Distribution()
    turns: Distribution = Field(
        default=Distribution(), description="user messages per example (chat, preference)"
    )
    tokens: Distribution = Distribution()
    total_tokens: int = 0
    trainable_tokens: int = 0
    max_example_tokens: int = 0
    tokens_exact: bool = False
    tokenizer: str = "estimate"
    duplicates: int = Field(default=0, description="examples byte-identical to an earlier one")
    duplicates_checked: int = Field(default=0, description="examples compared for duplicates")
    without_system: int = Field(default=0, description="chat examples without a system message")
    over_limit: dict[str, dict[str, int]] = Field(
        default_factory=dict,
        description="provider -> model -> examples over that model's per-example token limit",
    )
    error_lines: int = Field(default=0, description="lines with at least one error")
    bytes: int = 0


class ProviderVerdict(_Frozen):
    """Whether one provider would accept the dataset, and why not.

    ``valid`` is False when the generic rules found an error or this provider's profile did.
    ``errors``/``warnings`` list the profile's own findings (the generic ones are in the
    report); ``estimate`` holds the provider's cost/epoch estimate when its profile has one.
    """

    provider: str
    valid: bool
    errors: list[Finding] = Field(default_factory=list)
    warnings: list[Finding] = Field(default_factory=list)
    error_count: int = 0
    warning_count: int = 0
    estimate: dict[str, Any] | None = None


class ValidationReport(_Frozen):
    """Every finding of one validation run, with statistics and per-provider verdicts.

    ``errors`` and ``warnings`` hold the first findings in full (see ``max_findings``) in line
    order; ``error_count`` and ``warning_count`` count all of them, ``counts`` per code.
    ``valid`` follows the generic rules and, when ``provider`` is set, that provider's profile.
    """

    path: str | None = None
    sha256: str = ""
    format: str | None = None
    provider: str | None = None
    valid: bool
    errors: list[Finding] = Field(default_factory=list)
    warnings: list[Finding] = Field(default_factory=list)
    error_count: int = 0
    warning_count: int = 0
    counts: dict[str, int] = Field(default_factory=dict)
    max_findings: int = 1000
    stats: DatasetStats = DatasetStats()
    verdicts: dict[str, ProviderVerdict] = Field(default_factory=dict)
    rules_version: str = ""

    @property
    def generic_valid(self) -> bool:
        """True when no generic rule found an error (provider profiles aside)."""
        return self.error_count == 0

    def findings(self, provider: str | None = None) -> list[Finding]:
        """Errors then warnings in line order: the generic ones plus ``provider``'s."""
        out = [*self.errors, *self.warnings]
        verdict = self.verdicts.get(provider) if provider else None
        if verdict is not None:
            out += [*verdict.errors, *verdict.warnings]
        return sorted(out, key=_order)

    def format_text(self, filename: str | None = None, provider: str | None = None) -> str:
        """The report as compiler-style lines followed by a short summary."""
        name = filename if filename is not None else Path(self.path or "").name
        provider = provider or self.provider
        lines = [f.render(name) for f in self.findings(provider)]
        shown_e = len(self.errors) + (
            len(self.verdicts[provider].errors) if provider in self.verdicts else 0
        )
        total_e = self.error_count + (
            self.verdicts[provider].error_count if provider in self.verdicts else 0
        )
        shown_w = len(self.warnings) + (
            len(self.verdicts[provider].warnings) if provider in self.verdicts else 0
        )
        total_w = self.warning_count + (
            self.verdicts[provider].warning_count if provider in self.verdicts else 0
        )
        if total_e > shown_e or total_w > shown_w:
            lines.append(
                f"... {total_e - shown_e} more errors and {total_w - shown_w} more warnings "
                "not shown (see counts per code below)"
            )
        lines.append(self.summary(provider))
        return "\n".join(lines)

    def summary(self, provider: str | None = None) -> str:
        """A few lines: verdict, counts, statistics and per-provider verdicts."""
        s = self.stats
        provider = provider or self.provider
        verdict = self.verdicts.get(provider) if provider else None
        ok = self.valid if verdict is None else (verdict.valid and self.generic_valid)
        e = self.error_count + (verdict.error_count if verdict else 0)
        w = self.warning_count + (verdict.warning_count if verdict else 0)
        head = "valid" if ok else "INVALID"
        fmt = f"{self.format} " if self.format else ""  # none when no line was an example
        approx = "" if s.tokens_exact else "~"
        out = [
            f"{head}: {s.examples} {fmt}examples, {e} errors, {w} warnings"
            + (f" (for {provider})" if provider else ""),
            f"tokens: {approx}{s.total_tokens} total, {approx}{s.trainable_tokens} trainable, "
            f"max {approx}{s.max_example_tokens} per example; counted with {s.tokenizer}",
        ]
        if s.duplicates or s.without_system:
            out.append(f"duplicates: {s.duplicates}; without a system message: {s.without_system}")
        if self.counts:
            top = sorted(self.counts.items(), key=lambda kv: (-kv[1], kv[0]))[:8]
            out.append("by code: " + ", ".join(f"{c} x{n}" for c, n in top))
        if self.verdicts:
            out.append(
                "providers: "
                + ", ".join(
                    f"{name} {'ok' if v.valid else 'invalid'}"
                    + (f" ({v.error_count} errors)" if v.error_count else "")
                    for name, v in sorted(self.verdicts.items())
                )
            )
        return "\n".join(out)

    def to_json(self, provider: str | None = None) -> dict[str, Any]:
        """The object ``ftbridge validate --json`` prints."""
        provider = provider or self.provider
        verdict = self.verdicts.get(provider) if provider else None
        errors = [
            f.brief()
            for f in sorted([*self.errors, *(verdict.errors if verdict else [])], key=_order)
        ]
        warnings = [
            f.brief()
            for f in sorted([*self.warnings, *(verdict.warnings if verdict else [])], key=_order)
        ]
        return {
            "valid": self.valid if verdict is None else (verdict.valid and self.generic_valid),
            "format": self.format,
            "errors": errors,
            "warnings": warnings,
            "error_count": self.error_count + (verdict.error_count if verdict else 0),
            "warning_count": self.warning_count + (verdict.warning_count if verdict else 0),
            "counts": self.counts,
            "stats": self.stats.model_dump(mode="json"),
            "providers": {
                name: {
                    "valid": v.valid,
                    "error_count": v.error_count,
                    "warning_count": v.warning_count,
                    "errors": [f.brief() for f in v.errors],
                    "warnings": [f.brief() for f in v.warnings],
                    "estimate": v.estimate,
                }
                for name, v in sorted(self.verdicts.items())
            },
            "sha256": self.sha256,
        }


def _order(f: Finding) -> tuple[int, str]:
    return (f.line if f.line is not None else -1, f.loc or "")

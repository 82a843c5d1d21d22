"""The public entry points: ``validate`` (raises when invalid) and ``check`` (never does)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import _cache
from ._codes import RULES_VERSION
from ._errors import DatasetValidationError
from ._profiles import profiles, profiles_fingerprint
from ._run import build_config, run_file
from ._sniff import check_provider_name, file_sha256, read_head, shape_error, shape_report
from ._source import Source, open_source
from ._tokens import ESTIMATE_LABEL, TokenCounter, default_counter, resolve

# The report models (pydantic) are imported once the scan is under way, so that worker
# processes start without them; the job models only when a job asks for them.
if TYPE_CHECKING:
    from .._models import DatasetRef
    from ._report import DatasetStats, ProviderVerdict, ValidationReport

MAX_FINDINGS = 1000


class ValidatedDataset:
    """A dataset that went through validation: where it is, what it is, who accepts it.

    ``path`` is a JSONL file holding exactly the validated bytes (for ``.jsonl.gz`` and
    iterable sources, a canonical copy under ``$FTBRIDGE_HOME/datasets``). ``verdicts`` has one
    :class:`ProviderVerdict` per registered profile; ``verdict(name)`` also answers for a
    provider without a profile (the generic rules only).
    """

    def __init__(self, path: Path, report: ValidationReport) -> None:
        self.path = path
        self.report = report

    @property
    def sha256(self) -> str:
        return self.report.sha256

    @property
    def format(self) -> str | None:
        """``"chat"``, ``"preference"``, ``"instruction"``, ``"text"`` (None: no example parsed)."""
        return self.report.format

    @property
    def example_count(self) -> int:
        return self.report.stats.examples

    @property
    def stats(self) -> DatasetStats:
        return self.report.stats

    @property
    def verdicts(self) -> dict[str, ProviderVerdict]:
        return self.report.verdicts

    @property
    def valid(self) -> bool:
        """Valid under the generic rules and, if a provider was named, its profile."""
        return self.report.valid

    def verdict(self, provider: str) -> ProviderVerdict:
        """The verdict for ``provider``; without a profile, the generic rules decide."""
        from ._report import ProviderVerdict

        found = self.report.verdicts.get(provider)
        if found is not None:
            return found
        return ProviderVerdict(provider=provider, valid=self.report.generic_valid)

    def ref(self) -> DatasetRef:
        """What a job stores about its dataset."""
        from .._models import DatasetRef

        return DatasetRef(
            path=str(self.path),
            sha256=self.sha256,
            format=self.format or "unknown",
            example_count=self.example_count,
        )

    def __repr__(self) -> str:
        ok = "valid" if self.valid else "invalid"
        return (
            f"ValidatedDataset(path={str(self.path)!r}, format={self.format!r}, "
            f"examples={self.example_count}, {ok}, sha256={self.sha256[:12]}...)"
        )


def check(
    source: Source,
    *,
    provider: str | None = None,
    tokenizer: Any = None,
    max_length: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ValidatedDataset:
    """Validate ``source`` and return the result whatever the verdict (see ``.valid``).

    Like :func:`validate` but never raises :class:`DatasetValidationError`: use it when you
    want the report either way (the CLI, a preflight). An unreadable source still raises
    :class:`DatasetReadError`, and an unknown ``provider`` :class:`UnknownProviderError`.
    ``progress(done_bytes, total_bytes)`` is called as work advances::

        ds = ftbridge.validation.check("train.jsonl")
        print(ds.report.format_text())
    """
    selected = profiles()
    check_provider_name(provider, selected)
    if tokenizer is None and provider in selected:
        # the encoding the provider bills with, when it is installed (ftbridge[tokens])
        counter = default_counter(selected[provider].tokenizer)
    else:
        counter = resolve(tokenizer)
    path, st, sha = open_source(source)
    spath = str(path)
    shape = shape_error(spath, read_head(path), st.st_size)
    if shape is not None:  # UTF-16, a JSON array: one error, the lines are not checked
        sha = sha or _cache.known_sha256(spath, st) or file_sha256(path)
        report = shape_report(
            *shape,
            path=spath,
            sha256=sha,
            size=st.st_size,
            selected=selected,
            max_findings=MAX_FINDINGS,
        )
        return ValidatedDataset(path, _for_provider(report, provider))
    cacheable = counter is None or counter.cacheable
    key = _cache.report_key(
        RULES_VERSION,
        profiles_fingerprint(selected),
        counter_label(counter),
        max_length,
        MAX_FINDINGS,
    )
    if sha is None:
        sha = _cache.known_sha256(spath, st)
    cached = _cache.load(sha, key) if sha is not None and cacheable else None
    if cached is None:
        cfg = build_config(selected, max_length, counter, MAX_FINDINGS)

        def on_sha(digest: str) -> ValidationReport | None:
            return _cache.load(digest, key) if cacheable else None

        results, sha, cached = run_file(
            spath, st.st_size, cfg, progress=progress, known_sha256=sha, on_sha256=on_sha
        )
        if cached is None:
            from ._merge import merge

            cached = merge(
                results,
                path=spath,
                sha256=sha,
                size=st.st_size,
                cfg=cfg,
                selected=selected,
                provider=None,
                counter=counter,
                max_length=max_length,
            )
            if cacheable:
                _cache.store(cached, key)
        _cache.remember_sha256(spath, st, sha)
    report = cached.model_copy(update={"path": spath})
    if counter is not None and not cacheable:
        report = _with_template_checks(report, path, tokenizer, max_length, selected)
    return ValidatedDataset(path, _for_provider(report, provider))


def validate(
    source: Source,
    *,
    provider: str | None = None,
    tokenizer: Any = None,
    max_length: int | None = None,
) -> ValidatedDataset:
    """Check a dataset once, streaming, and return it validated; raise if it is not.

    ``source`` is a path to a ``.jsonl`` (or ``.jsonl.gz``) file or an iterable of dicts.
    Every problem is found in one pass; the per-provider verdicts come from the same pass.
    ``provider`` makes that provider's profile part of the verdict. ``tokenizer`` (a Hugging
    Face tokenizer, a tiktoken encoding or its name, or ``"estimate"``) makes token counts
    exact; with a Hugging Face tokenizer the chat template and ``max_length`` are checked too.

        ds = ftbridge.validate("support.jsonl", provider="openai")
        print(ds.format, ds.example_count, ds.stats.total_tokens, ds.verdicts["together"].valid)

    Raises :class:`DatasetValidationError` (with ``.report``) when invalid, and
    :class:`DatasetReadError` when the source cannot be read.
    """
    ds = check(source, provider=provider, tokenizer=tokenizer, max_length=max_length)
    if not ds.valid:
        raise DatasetValidationError(_error_message(ds.report, provider), ds.report)
    return ds


def _for_provider(report: ValidationReport, provider: str | None) -> ValidationReport:
    from ._report import Finding

    valid = report.generic_valid
    update: dict[str, Any] = {"provider": provider}
    if provider is not None:
        verdict = report.verdicts.get(provider)
        if verdict is not None:
            valid = valid and verdict.valid
        else:
            note = Finding(
                line=None,
                loc=None,
                code="dataset.no_profile",
                message=f"no validation profile is registered for provider {provider!r}; only "
                "the generic rules were checked",
                severity="warning",
            )
            update["warnings"] = [note, *report.warnings]
            update["warning_count"] = report.warning_count + 1
    update["valid"] = valid
    return report.model_copy(update=update)


def _with_template_checks(
    report: ValidationReport,
    path: Path,
    tokenizer: Any,
    max_length: int | None,
    selected: dict[str, Any],
) -> ValidationReport:
    from ._local import check_path_with_tokenizer

    names = [name for name, p in selected.items() if p.template_check]
    if not names or not hasattr(tokenizer, "apply_chat_template"):
        return report
    findings = check_path_with_tokenizer(path, report.format, tokenizer, max_length, MAX_FINDINGS)
    verdicts = dict(report.verdicts)
    for name in names:
        v = verdicts[name]
        mine = [f.model_copy(update={"provider": name}) for f in findings]
        errors = [f for f in mine if f.severity == "error"]
        warnings = [f for f in mine if f.severity == "warning"]
        verdicts[name] = v.model_copy(
            update={
                "errors": [*v.errors, *errors],
                "warnings": [*v.warnings, *warnings],
                "error_count": v.error_count + len(errors),
                "warning_count": v.warning_count + len(warnings),
                "valid": v.valid and not errors,
            }
        )
    return report.model_copy(update={"verdicts": verdicts})


def _error_message(report: ValidationReport, provider: str | None) -> str:
    name = Path(report.path or "dataset").name
    first = report.findings(provider)
    errors = [f for f in first if f.severity == "error"]
    verdict = report.verdicts.get(provider) if provider else None
    total = report.error_count + (verdict.error_count if verdict else 0)
    target = f" for {provider}" if provider else ""
    lines = [f"{name} is not valid{target}: {total} error{'s' if total != 1 else ''}"]
    lines += [f"  {f.render(name)}" for f in errors[:5]]
    if total > 5:
        lines.append(f"  ... and {total - 5} more (see .report)")
    return "\n".join(lines)


def counter_label(counter: TokenCounter | None) -> str:
    return counter.label if counter is not None else ESTIMATE_LABEL

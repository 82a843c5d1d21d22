"""``ftbridge.evaluate``: score any set of models on the same held-out examples."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .._exceptions import ConfigError, FtbridgeError
from .._provider import Generation
from ._cache import Generated, GenerationCache
from ._data import Example, load_examples
from ._generate import generate as generate_all
from ._generate import generation_of
from ._judge import DEFAULT_JUDGE_TEMPLATE, JudgeResult, check_template, run_judge
from ._refs import ModelRef, Opened, named_refs, open_all, open_one
from ._report import EvalReport
from ._scorers import Scorer, resolve_scorers
from ._section import Section
from ._stats import _np

log = logging.getLogger("ftbridge")

ScorerSpec = str | Scorer | Callable[..., Any]
DataSpec = str | Path | Sequence[Mapping[str, Any]]


def evaluate(
    models: Mapping[str, ModelRef] | Sequence[ModelRef],
    data: DataSpec,
    *,
    scorers: Sequence[ScorerSpec] | ScorerSpec | None = None,
    baseline: str | None = None,
    judge: ModelRef | None = None,
    general: DataSpec | None = None,
    generation: Generation | Mapping[str, Any] | None = None,
    concurrency: int = 8,
    cache: bool | GenerationCache = True,
    seed: int = 0,
    judge_template: str | None = None,
    batch_size: int = 16,
    progress: bool | None = None,
) -> EvalReport:
    """Generate every model's answer to every example, score them, and compare with a baseline.

    >>> report = ftbridge.evaluate({"base": "local:./models/tiny", "tuned": job},
    ...                            "heldout.jsonl", scorers=["exact"], baseline="base")
    >>> print(report.table()); report.save("eval/")

    ``models``: display name -> a job, a job id, ``PROVIDER:MODEL`` or a handle (or a list:
    the refs are the names). ``data``: chat JSONL (or records); each record's prompt is every
    message before its final assistant message, whose content is the reference. ``scorers``:
    names or callables (see :mod:`ftbridge.eval._scorers`); by default chosen from the
    references. ``judge``: a model that compares each model's answers with the baseline's.
    ``general``: a second set scored the same way; a significant drop against the baseline
    there is a regression. ``generation``: ``max_tokens``, ``temperature`` (default 0),
    ``top_p``, ``stop``, ``seed`` (default ``seed``). ``cache``: reuse and keep generations
    under ``$FTBRIDGE_HOME`` (an interrupted run resumes). ``seed`` also seeds the bootstrap,
    so the same generations give the same report.

    Every bad input (records without a final assistant turn, an unknown scorer, a model that
    cannot be opened, a job that did not succeed, a baseline that is not a model, a schema that
    is not a JSON schema) is raised before any model is called. A generation that fails is
    recorded with its error and scored 0.
    """
    examples = load_examples(data)
    general_examples = load_examples(general) if general is not None else None
    pairs = named_refs(models)
    names = [n for n, _ in pairs]
    if baseline is not None and baseline not in names:
        raise ConfigError(
            f"the baseline {baseline!r} is not one of the models ({', '.join(names)})"
        )
    if judge is not None and baseline is None:
        raise ConfigError("the judge compares each model with the baseline: pass baseline=")
    if (judge is not None or general is not None) and len(names) < 2:
        raise ConfigError("a judge or a general set needs at least two models to compare")
    chosen = resolve_scorers(scorers, examples)
    general_scorers = (
        resolve_scorers(scorers, general_examples) if general_examples is not None else []
    )
    template = check_template(judge_template or DEFAULT_JUDGE_TEMPLATE)
    _np()  # the statistics need numpy: say how to install it now, not after generating
    gen = generation_of(generation, seed)
    if concurrency < 1 or batch_size < 1:
        raise ConfigError("concurrency and batch_size must be at least 1")

    store = GenerationCache() if cache is True else (cache or None)
    opened: list[Opened] = []
    judge_opened: Opened | None = None
    notes: list[str] = []
    try:
        opened = open_all(pairs)
        if judge is not None:
            judge_opened = open_one("judge", judge)
        for o in [*opened, *([judge_opened] if judge_opened else [])]:
            if store is not None and not o.info.cached:
                notes.append(
                    f"{o.name} has no stable name (handle.name): its generations were not cached."
                )

        def run(o: Opened, items: Sequence[Example], label: str) -> list[Generated]:
            return generate_all(
                o.handle,
                [e.prompt for e in items],
                gen,
                concurrency=concurrency,
                cache=store if o.info.cached else None,
                batch_size=batch_size,
                progress=progress,
                desc=f"{o.name}{label}",
            )

        outputs = {o.name: run(o, examples, "") for o in opened}
        general_outputs = (
            {o.name: run(o, general_examples, " (general)") for o in opened}
            if general_examples is not None
            else None
        )
        judged: JudgeResult | None = None
        if judge_opened is not None and baseline is not None:
            judged = run_judge(
                judge_opened.handle,
                judge_opened.info.ref,
                examples,
                outputs,
                baseline,
                template=template,
                concurrency=concurrency,
                cache=store if judge_opened.info.cached else None,
                progress=progress,
            )
        curves = _loss_curves(opened, notes)
    finally:
        for o in [*opened, *([judge_opened] if judge_opened else [])]:
            o.close()
        if cache is True and store is not None:
            store.close()

    main = Section(examples, chosen, outputs, baseline, seed)
    general_section = (
        Section(general_examples, general_scorers, general_outputs, baseline, seed)
        if general_examples is not None and general_outputs is not None
        else None
    )
    return EvalReport(
        main=main,
        infos=[o.info for o in opened],
        baseline=baseline,
        general=general_section,
        judge=judged,
        loss_curves=curves,
        settings={**gen.given(), "concurrency": concurrency},
        notes=notes,
        data=str(data) if isinstance(data, (str, Path)) else None,
    )


def _loss_curves(
    opened: Sequence[Opened], notes: list[str]
) -> dict[str, dict[str, list[tuple[int, float]]]]:
    """Every ``*loss`` series of the models that are jobs (training and validation loss)."""
    out: dict[str, dict[str, list[tuple[int, float]]]] = {}
    for o in opened:
        if o.job is None:
            continue
        try:
            metrics = o.job.metrics()
        except FtbridgeError as exc:
            notes.append(f"the loss curves of {o.name} could not be read: {exc}")
            continue
        curves = {name: metrics.series(name) for name in metrics.names() if name.endswith("loss")}
        if curves:
            out[o.name] = curves
    return out

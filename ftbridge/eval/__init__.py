"""Evaluation: does the fine-tune help? Any models, on the same held-out examples.

    import ftbridge

    report = ftbridge.evaluate({"base": "local:./models/tiny", "tuned": job}, "heldout.jsonl",
                               scorers=["exact", "json_valid"], baseline="base")
    print(report.table())
    report.save("eval/")                 # report.json, records.jsonl, report.html

The pieces are usable alone: :func:`generate` (cached, concurrent or batched generation, what
``evaluate`` and the migration tools build on), :class:`GenerationCache`, the scorers and the
statistics. Scorers that need a library (``rouge_l``, ``bleu``, ``chrf``, ``json_schema``), the
statistics (numpy) and the plots (matplotlib) come with ``pip install 'ftbridge[eval]'``.
"""

from __future__ import annotations

from ._cache import Generated, GenerationCache
from ._data import Example, load_examples
from ._evaluate import evaluate
from ._generate import generate, generation_of
from ._judge import DEFAULT_JUDGE_TEMPLATE, JudgeResult, parse_verdict
from ._report import EvalReport, ModelInfo
from ._scorers import Scorer, default_scorers, resolve_scorers
from ._section import Comparison, Section

__all__ = [
    "DEFAULT_JUDGE_TEMPLATE",
    "Comparison",
    "EvalReport",
    "Example",
    "Generated",
    "GenerationCache",
    "JudgeResult",
    "ModelInfo",
    "Scorer",
    "Section",
    "default_scorers",
    "evaluate",
    "generate",
    "generation_of",
    "load_examples",
    "parse_verdict",
    "resolve_scorers",
]

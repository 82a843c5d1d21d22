"""The evaluation API costs nothing at ``import ftbridge``: its libraries load when used."""

from __future__ import annotations

import subprocess
import sys

HEAVY = (
    "numpy",
    "matplotlib",
    "rouge_score",
    "sacrebleu",
    "jsonschema",
    "torch",
    "openai",
    "together",
)


def test_evaluate_and_open_model_import_no_heavy_library() -> None:
    code = (
        "import sys, ftbridge\n"
        "ftbridge.evaluate; ftbridge.open_model; ftbridge.EvalReport\n"
        "import ftbridge.eval, ftbridge.cli._eval, ftbridge.cli._plot\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""

"""Validate a dataset once and see, per provider, whether it would be accepted.

python examples/validate_dataset.py [FILE]
"""

from __future__ import annotations

import sys
from pathlib import Path

from ftbridge.validation import check

DATA = Path(__file__).parent / "data"


def main(path: str) -> int:
    ds = check(path)  # like ftbridge.validate(), but returns invalid datasets too
    print(ds.report.format_text())
    print()
    print(
        f"{ds.example_count} {ds.format} examples, ~{ds.stats.total_tokens} tokens, sha256 {ds.sha256[:12]}"
    )
    for name, verdict in sorted(ds.verdicts.items()):
        print(f"  {name:<9} {'accepted' if verdict.valid else 'refused'}")
    estimate = ds.verdicts["openai"].estimate
    if estimate:
        print(
            f"OpenAI: {estimate['default_epochs']} epochs by default, ~{estimate['charged_tokens']} tokens billed"
        )
    return 0 if ds.valid else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else str(DATA / "support.jsonl")))

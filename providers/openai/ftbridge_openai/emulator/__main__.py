"""``python -m ftbridge_openai.emulator --host H --port P [--pace X] [--fault SPEC]...
[--closed] [--today YYYY-MM-DD]``

``--closed`` refuses new fine-tuning jobs the way a closed account is refused; ``--today`` sets
the emulator's calendar, so models past their ``shutdown_date`` stop answering.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from functools import partial

from ftbridge.testing.emulator import run_cli

from ._server import OpenAIEmulator


def main(argv: list[str]) -> int:
    extra = argparse.ArgumentParser(add_help=False)
    extra.add_argument("--closed", action="store_true")
    extra.add_argument("--today", type=date.fromisoformat)
    known, rest = extra.parse_known_args(argv)
    factory = partial(OpenAIEmulator, closed=known.closed, today=known.today)
    return run_cli(
        factory,
        rest,
        "Emulate OpenAI's fine-tuning API on loopback. Also: --closed (refuse new jobs like a "
        "closed account), --today YYYY-MM-DD (the emulator's calendar for shutdown dates).",
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

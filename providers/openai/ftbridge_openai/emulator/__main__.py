"""``python -m ftbridge_openai.emulator --host H --port P [--pace X] [--fault SPEC]...``"""

from __future__ import annotations

import sys

from ftbridge.testing.emulator import run_cli

from ._server import OpenAIEmulator

if __name__ == "__main__":
    sys.exit(run_cli(OpenAIEmulator, sys.argv[1:], "Emulate OpenAI's fine-tuning API on loopback."))

"""A local emulator of Together AI's fine-tuning API, for tests and offline development.

    python -m ftbridge_together.emulator --port 8765 --pace 0.1
    TOGETHER_BASE_URL=http://127.0.0.1:8765 TOGETHER_API_KEY=test ftbridge submit ...

or in Python::

    from ftbridge_together.emulator import TogetherEmulator

    with TogetherEmulator(pace=0.05) as server:
        provider = TogetherProvider(api_key="test", base_url=server.base_url)
"""

from __future__ import annotations

from ._catalog import DEFAULT_MODELS, BaseModel
from ._server import TogetherEmulator

__all__ = ["DEFAULT_MODELS", "BaseModel", "TogetherEmulator", "main"]


def main(argv: list[str] | None = None) -> int:
    """``python -m ftbridge_together.emulator --host H --port P [--pace S] [--fault ...]``."""
    from ftbridge.testing.emulator import run_cli

    return run_cli(TogetherEmulator, argv, "Run a Together AI API emulator on loopback.")

"""A local emulator of Fireworks AI's fine-tuning and inference API, for tests and offline use.

    python -m ftbridge_fireworks.emulator --port 8765 --pace 0.1
    FIREWORKS_BASE_URL=http://127.0.0.1:8765 FIREWORKS_API_KEY=test \
        FIREWORKS_ACCOUNT_ID=my-account ftbridge submit ...

or in Python::

    from ftbridge_fireworks.emulator import FireworksEmulator

    with FireworksEmulator(pace=0.05) as server:
        provider = FireworksProvider(api_key="test", account_id="acct", base_url=server.base_url)
"""

from __future__ import annotations

from ._catalog import DEFAULT_MODELS, BaseModel
from ._server import FireworksEmulator

__all__ = ["DEFAULT_MODELS", "BaseModel", "FireworksEmulator", "main"]


def main(argv: list[str] | None = None) -> int:
    """``python -m ftbridge_fireworks.emulator --host H --port P [--pace S] [--fault ...]``."""
    from ftbridge.testing.emulator import run_cli

    return run_cli(FireworksEmulator, argv, "Run a Fireworks AI API emulator on loopback.")

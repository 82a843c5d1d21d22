"""ftbridge provider for Fireworks AI, through the official ``fireworks-ai`` SDK.

    import ftbridge
    job = ftbridge.submit("chat.jsonl", provider="fireworks", model="llama-v3p1-8b-instruct")

``python -m ftbridge_fireworks.emulator`` runs a local emulator of Fireworks' fine-tuning and
inference API (point ``FIREWORKS_BASE_URL`` at it).

Names are imported on first use, so that ``ftbridge validate`` can read this package's dataset
profile (``ftbridge_fireworks._profile``) without importing the SDK.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ftbridge._lazy import lazy_exports

if TYPE_CHECKING:
    from ._handle import FireworksModelHandle
    from ._options import FireworksOptions
    from ._profile import PROFILE
    from ._provider import FireworksProvider
    from ._upload import DatasetRejectedError

_EXPORTS = {
    "DatasetRejectedError": "._upload",
    "FireworksModelHandle": "._handle",
    "FireworksOptions": "._options",
    "FireworksProvider": "._provider",
    "PROFILE": "._profile",
}
__getattr__ = lazy_exports(__name__, _EXPORTS)

__all__ = [
    "PROFILE",
    "DatasetRejectedError",
    "FireworksModelHandle",
    "FireworksOptions",
    "FireworksProvider",
]

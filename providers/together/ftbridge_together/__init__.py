"""ftbridge provider for Together AI, through the official ``together`` SDK.

    import ftbridge
    job = ftbridge.submit("chat.jsonl", provider="together",
                          model="meta-llama/Meta-Llama-3.1-8B-Instruct-Reference")

``python -m ftbridge_together.emulator`` runs a local emulator of Together's fine-tuning API
(point ``TOGETHER_BASE_URL`` at it).
"""

from __future__ import annotations

from ._handle import TogetherModelHandle
from ._options import TogetherOptions
from ._provider import TogetherProvider
from ._upload import FileRejectedError

__all__ = ["FileRejectedError", "TogetherModelHandle", "TogetherOptions", "TogetherProvider"]

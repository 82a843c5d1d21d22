"""ftbridge's OpenAI provider: fine-tune on OpenAI through the official ``openai`` SDK.

    import ftbridge
    job = ftbridge.submit("train.jsonl", provider="openai", model="gpt-4o-mini")
    job.wait()
    print(job.model().chat([{"role": "user", "content": "hi"}]).text)

``python -m ftbridge_openai.emulator`` runs an emulator of the API on loopback.
"""

from __future__ import annotations

from ._handle import OpenAIModelHandle
from ._options import OpenAIOptions
from ._provider import OpenAIProvider

__all__ = ["OpenAIModelHandle", "OpenAIOptions", "OpenAIProvider"]

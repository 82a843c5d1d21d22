"""An emulator of OpenAI's fine-tuning API for tests and offline work.

    python -m ftbridge_openai.emulator --port 8080 --pace 0.1
    export OPENAI_BASE_URL=http://127.0.0.1:8080/v1 OPENAI_API_KEY=sk-anything

or in Python::

    from ftbridge_openai.emulator import OpenAIEmulator

    with OpenAIEmulator(pace=0.05) as server:
        server.faults.inject("POST", r"/v1/fine_tuning/jobs", status=429, retry_after=1, times=2)
        ...  # OpenAI(base_url=server.base_url, api_key="sk-test")
"""

from ._server import OpenAIEmulator

__all__ = ["OpenAIEmulator"]

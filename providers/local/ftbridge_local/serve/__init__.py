"""Serving local fine-tunes behind an OpenAI-compatible endpoint (``ftbridge serve``).

Two engines, registered under the entry-point group ``ftbridge.servers``:

- ``transformers``: one base model in this process, any number of LoRA adapters, requests for
  different adapters decoded together in one forward pass (PEFT's mixed-adapter batches) with
  dynamic batching; Starlette and uvicorn (``pip install 'ftbridge-local[serve]'``).
- ``vllm``: ``vllm serve`` with the adapters as LoRA modules, started and stopped as a child
  process; picked by ``--engine auto`` on a CUDA machine where vLLM is installed.

::

    import ftbridge

    with ftbridge.serve(base="./models/tiny", adapters={"support": "./adapters/support"}) as s:
        print(s.base_url)       # http://127.0.0.1:8000/v1
"""

from __future__ import annotations

import importlib.util
from typing import ClassVar

from ftbridge._serving import INSTALL_HINT, RunningServer, ServeSpec

__all__ = ["TransformersEngine", "VllmEngine"]


class TransformersEngine:
    """Adapters batched together on one base, in this process (CPU or GPU)."""

    name: ClassVar[str] = "transformers"
    priority: ClassVar[int] = 0

    @classmethod
    def unavailable_reason(cls, *, auto: bool = False) -> str | None:
        missing = [m for m in ("starlette", "uvicorn") if importlib.util.find_spec(m) is None]
        return f"{', '.join(missing)} not installed: {INSTALL_HINT}" if missing else None

    def start(self, spec: ServeSpec) -> RunningServer:
        from ._server import TransformersServer

        return TransformersServer(spec)


class VllmEngine:
    """``vllm serve --enable-lora`` as a managed child process (CUDA machines)."""

    name: ClassVar[str] = "vllm"
    priority: ClassVar[int] = 10

    @classmethod
    def unavailable_reason(cls, *, auto: bool = False) -> str | None:
        from ._vllm import vllm_executable

        if not vllm_executable():
            return "vllm is not installed (pip install vllm, on a CUDA machine)"
        if auto:
            import torch

            if not torch.cuda.is_available():
                return "no CUDA GPU (auto picks vLLM only on one; ask with --engine vllm)"
        return None

    def start(self, spec: ServeSpec) -> RunningServer:
        from ._vllm import VllmServer

        return VllmServer(spec)

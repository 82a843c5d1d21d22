"""What the server does, apart from HTTP: load the base and adapters, render prompts, queue rows.

The base is loaded the way the adapters were trained (the first adapter with a recorded recipe
decides: a QLoRA adapter's base is loaded 4-bit NF4 with its compute dtype), and on CPU its 4-bit
layers compute as in training, as :class:`ftbridge_local.LocalModelHandle` does. Each adapter
renders prompts with its own saved tokenizer and chat template.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from ftbridge._exceptions import ConfigError
from ftbridge._serving import ServeSpec

from ._adapters import AdapterInfo, AdapterRefused, AdapterRegistry, BaseConfig, read_adapter
from ._decode import Row
from ._protocol import APIError, ChatRequest
from ._scheduler import BatchScheduler

log = logging.getLogger("ftbridge.serve")


def base_config_for(spec: ServeSpec, adapters: list[AdapterInfo], device: str) -> BaseConfig:
    """The base as the first adapter that recorded its recipe was trained on."""
    assert spec.base is not None
    recorded = next((a for a in adapters if a.quantized is not None), None)
    quantized = bool(recorded and recorded.quantized)
    if device == "cpu":
        dtype = "float32"  # as the local provider trains and answers on CPU
    elif recorded is not None and recorded.dtype:
        dtype = recorded.dtype
    else:
        import torch

        dtype = "bfloat16" if torch.cuda.is_bf16_supported() else "float16"
    return BaseConfig(model=spec.base, quantized=quantized, dtype=dtype)


def _check_base(base: str) -> None:
    """A base that is neither a model directory nor a hub id (``org/name``) is a typo."""
    path = Path(base).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ConfigError(f"{base} is a directory without a model (no config.json)")
        return
    if base.startswith((".", "/", "~")) or base.count("/") != 1:
        raise ConfigError(
            f"no model directory {base!r} (from {Path.cwd()}); give a Hugging Face model "
            "directory or hub id, or job ids to take the base from"
        )


class Service:
    """The model side of one server. ``state`` is ``loading``, ``ready`` or ``failed``."""

    def __init__(self, spec: ServeSpec) -> None:
        self.spec = spec
        self.base_name = str(spec.base)
        self.state = "loading"
        self.error: BaseException | None = None
        self.ready = threading.Event()
        self.registry: AdapterRegistry | None = None
        self.scheduler: BatchScheduler | None = None
        self.tokenizer: Any = None
        self.context_length: int | None = None

    # -- startup ------------------------------------------------------------------------------

    def load(self) -> None:
        """Load everything; on failure ``state`` is ``failed`` and ``error`` says why."""
        try:
            self._load()
            self.state = "ready"
        except BaseException as exc:
            self.error = exc
            self.state = "failed"
        finally:
            self.ready.set()

    def _load(self) -> None:
        import torch
        from transformers import AutoTokenizer

        from .._modeling import keep_4bit_layers_differentiable, load_base, quiet_loading

        _check_base(str(self.spec.base))
        infos = [read_adapter(a.name, a.path) for a in self.spec.adapters]
        device = "cuda" if torch.cuda.is_available() else "cpu"
        base = base_config_for(self.spec, infos, device)
        for info in infos:
            from ._adapters import check_fits

            check_fits(info, base)
        with quiet_loading():
            model = load_base(
                base.model,
                method="qlora" if base.quantized else "lora",
                dtype_name=base.dtype,
                device=device,
            )
            if device == "cpu":
                keep_4bit_layers_differentiable(model)
            model.eval()
            self.tokenizer = AutoTokenizer.from_pretrained(base.model)
            self.registry = AdapterRegistry(model, base, self.spec.max_loaded)
            for info in infos:
                self._tokenizer_of(info)
                self.registry.known[info.name] = info
            # Load as many as memory may hold now; the rest load on first use.
            self.registry.ensure([i.name for i in infos][: self.spec.max_loaded])
        config = model.config
        self.context_length = getattr(config, "max_position_embeddings", None)
        eos = {self.tokenizer.eos_token_id}
        gen_eos = getattr(model.generation_config, "eos_token_id", None)
        eos |= set(gen_eos) if isinstance(gen_eos, list) else {gen_eos}
        pad = self.tokenizer.pad_token_id
        self.scheduler = BatchScheduler(
            self.registry,
            max_batch=self.spec.max_batch,
            pad_id=pad if pad is not None else self.tokenizer.eos_token_id,
            eos_ids={e for e in eos if e is not None},
        )
        self.scheduler.start()

    def _tokenizer_of(self, info: AdapterInfo) -> None:
        from transformers import AutoTokenizer

        if info.tokenizer_dir is not None:
            info.tokenizer = AutoTokenizer.from_pretrained(info.tokenizer_dir)
        else:
            info.tokenizer = self.tokenizer

    def close(self) -> None:
        if self.scheduler is not None:
            self.scheduler.close()
        self.registry = None

    # -- requests -----------------------------------------------------------------------------

    def require_ready(self) -> AdapterRegistry:
        if self.state != "ready" or self.registry is None:
            detail = f": {self.error}" if self.state == "failed" else "; retry shortly"
            raise APIError(503, f"the server is {self.state}{detail}", code="not_ready")
        return self.registry

    def models(self) -> list[str]:
        return [self.base_name, *self.require_ready().known]

    def model(self, name: str) -> str:
        if name not in self.models():
            raise APIError(404, f"the model {name!r} does not exist")
        return name

    def row_for(self, request: ChatRequest, emit: Any) -> Row:
        """A queued-ready row for ``request``, or an ``APIError`` saying what to fix."""
        registry = self.require_ready()
        if request.model == self.base_name:
            adapter, tokenizer = None, self.tokenizer
        elif request.model in registry.known:
            adapter, tokenizer = request.model, registry.known[request.model].tokenizer
        else:
            known = ", ".join([self.base_name, *registry.known])
            raise APIError(404, f"the model {request.model!r} does not exist; served: {known}")
        if request.n != 1:
            raise APIError(400, "only n=1 is supported")
        refused = request.unsupported()
        if refused:
            raise APIError(400, f"not supported by this server: {', '.join(refused)}")
        asked = request.max_completion_tokens or request.max_tokens
        max_tokens = asked or self.spec.max_tokens
        if max_tokens > self.spec.max_tokens:
            raise APIError(
                400,
                f"max_tokens is {max_tokens}; this server allows at most {self.spec.max_tokens}",
            )
        messages = [m.as_dict() for m in request.messages]
        try:
            prompt = tokenizer.apply_chat_template(
                messages, tokenize=True, add_generation_prompt=True, return_dict=False
            )
        except Exception as exc:
            raise APIError(400, f"the chat template cannot render these messages: {exc}") from None
        if isinstance(prompt, dict) or hasattr(prompt, "input_ids"):
            prompt = prompt["input_ids"]
        prompt = [int(t) for t in prompt]
        context = self.context_length
        if context and len(prompt) >= context:
            raise APIError(
                400, f"the prompt ({len(prompt)} tokens) fills the model's context of {context}"
            )
        if context and not asked:  # as vLLM: up to the end of the context
            max_tokens = min(max_tokens, context - len(prompt))
        if context and len(prompt) + max_tokens > context:
            raise APIError(
                400,
                f"the prompt ({len(prompt)} tokens) plus max_tokens ({max_tokens}) exceeds the "
                f"model's context of {context} tokens",
            )
        stops = [request.stop] if isinstance(request.stop, str) else list(request.stop or [])
        if len(stops) > 4:
            raise APIError(400, "at most 4 stop sequences are allowed")
        temperature = 1.0 if request.temperature is None else request.temperature
        return Row(
            adapter=adapter,
            prompt=prompt,
            tokenizer=tokenizer,
            max_tokens=max_tokens,
            emit=emit,
            temperature=temperature,
            top_p=1.0 if request.top_p is None else request.top_p,
            seed=request.seed,
            stops=tuple(s for s in stops if s),
        )

    def submit(self, row: Row) -> None:
        assert self.scheduler is not None
        self.scheduler.submit(row)

    def load_adapter(self, name: str, path: str) -> None:
        registry = self.require_ready()
        if name == self.base_name or name in registry.known:
            raise APIError(400, f"an adapter named {name!r} is already loaded")
        try:
            info = read_adapter(name, path)
            self._tokenizer_of(info)
            registry.add(info)
        except AdapterRefused as exc:
            raise APIError(400, str(exc)) from None
        except OSError as exc:
            raise APIError(400, f"adapter {name!r}: cannot read {path}: {exc}") from None
        log.info("loaded adapter %s", name)

    def unload_adapter(self, name: str) -> None:
        registry = self.require_ready()
        try:
            registry.remove(name)
        except KeyError:
            raise APIError(404, f"no adapter named {name!r} is loaded") from None
        log.info("unloaded adapter %s", name)

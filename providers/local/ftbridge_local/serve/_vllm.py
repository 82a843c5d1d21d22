"""The vLLM engine: ``vllm serve`` with the adapters as LoRA modules, run as a child process.

On GPUs vLLM is the engine to use (paged attention, continuous batching, Punica-style multi-LoRA
kernels); ftbridge only builds its command line, starts it, waits for ``/health`` and stops it.
The API key goes to vLLM through ``VLLM_API_KEY``, not the command line, where any local user
could read it from the process list.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ftbridge._exceptions import ConfigError, InferenceError
from ftbridge._serving import ServeSpec

from ._adapters import AdapterInfo, AdapterRefused, BaseConfig, check_fits, read_adapter
from ._server import url_for

# vLLM accepts these values for --max-lora-rank.
LORA_RANKS = (8, 16, 32, 64, 128, 256, 320, 512)


def max_lora_rank(ranks: list[int]) -> int:
    """The smallest rank vLLM accepts that holds every adapter's rank."""
    need = max(ranks, default=8)
    for rank in LORA_RANKS:
        if rank >= need:
            return rank
    raise ConfigError(f"an adapter has rank {need}; vLLM serves LoRA ranks up to {LORA_RANKS[-1]}")


def _chat_template(infos: list[AdapterInfo]) -> str | None:
    """The adapters' shared saved chat template (vLLM takes one template per server)."""
    texts = set()
    for info in infos:
        jinja = info.path / "chat_template.jinja"
        if jinja.is_file():
            texts.add(jinja.read_text(encoding="utf-8"))
        elif (info.path / "tokenizer_config.json").is_file():
            config = json.loads((info.path / "tokenizer_config.json").read_text())
            if isinstance(config.get("chat_template"), str):
                texts.add(config["chat_template"])
    if len(texts) > 1:
        raise ConfigError(
            "these adapters were trained with different chat templates, and vLLM uses one per "
            "server: serve them from separate servers, or with --engine transformers"
        )
    return texts.pop() if texts else None


def vllm_command(
    spec: ServeSpec,
    infos: list[AdapterInfo],
    *,
    port: int,
    executable: list[str] | None = None,
    chat_template_file: str | None = None,
) -> list[str]:
    """The ``vllm serve`` command line for ``spec`` (a pure function of its arguments)."""
    assert spec.base is not None
    quantized = {i.quantized for i in infos if i.quantized is not None}
    if len(quantized) > 1:
        raise ConfigError(
            "these adapters were trained on different forms of the base (4-bit NF4 and "
            "unquantised); serve each group from its own server"
        )
    command = [
        *(executable or ["vllm"]),
        "serve",
        spec.base,
        "--host",
        spec.host,
        "--port",
        str(port),
    ]
    if quantized == {True}:
        command += ["--quantization", "bitsandbytes"]  # the 4-bit base QLoRA adapters saw
    command += ["--max-num-seqs", str(spec.max_batch)]
    if infos:
        command += ["--enable-lora", "--lora-modules"]
        command += [f"{i.name}={i.path}" for i in infos]
        command += ["--max-loras", str(max(1, min(len(infos), spec.max_loaded)))]
        command += ["--max-cpu-loras", str(max(len(infos), spec.max_loaded))]
        command += ["--max-lora-rank", str(max_lora_rank([i.rank for i in infos]))]
    else:
        command += ["--enable-lora", "--max-loras", str(spec.max_loaded)]
    if chat_template_file:
        command += ["--chat-template", chat_template_file]
    return command


def vllm_executable() -> list[str] | None:
    """How to run vLLM's CLI: the ``vllm`` command on PATH, else this Python's ``vllm`` module."""
    found = shutil.which("vllm")
    if found:
        return [found]
    if importlib.util.find_spec("vllm") is not None:
        return [sys.executable, "-m", "vllm.entrypoints.cli.main"]
    return None


def free_port(host: str) -> int:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class VllmServer:
    """``vllm serve`` as a child process in its own process group."""

    def __init__(self, spec: ServeSpec) -> None:
        found = vllm_executable()
        if found is None:
            raise ConfigError("the vllm command is not installed: pip install vllm")
        try:
            infos = [read_adapter(a.name, a.path) for a in spec.adapters]
            assert spec.base is not None
            base = BaseConfig(spec.base, any(i.quantized for i in infos), "auto")
            for info in infos:
                check_fits(info, base, dora=False)  # the base, its form, no DoRA (vLLM has none)
        except AdapterRefused as exc:
            raise ConfigError(str(exc)) from exc
        port = spec.port or free_port(spec.host)
        self.url = url_for(spec.host, port)
        self._dir = Path(tempfile.mkdtemp(prefix="ftbridge-vllm-"))
        template = _chat_template(infos)
        template_file = None
        if template is not None:
            template_file = str(self._dir / "chat_template.jinja")
            Path(template_file).write_text(template, encoding="utf-8")
        self.command = vllm_command(
            spec, infos, port=port, executable=found, chat_template_file=template_file
        )
        env = dict(os.environ, VLLM_ALLOW_RUNTIME_LORA_UPDATING="True")
        env.pop("VLLM_API_KEY", None)
        if spec.api_key:
            env["VLLM_API_KEY"] = spec.api_key
        self.log_file = self._dir / "vllm.log"
        with open(self.log_file, "wb") as log:
            self.process = subprocess.Popen(
                self.command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,  # its own group: close() stops vLLM's workers too
            )

    def _log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_file.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def wait_ready(self, timeout: float) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            code = self.process.poll()
            if code is not None:
                raise InferenceError(
                    f"vllm serve exited with status {code} before it was ready; the end of its "
                    f"log:\n{self._log_tail()}"
                )
            try:
                if httpx.get(self.url + "/health", timeout=2.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise InferenceError(
            f"vllm serve was not healthy within {timeout:.0f}s; the end of its log:\n"
            f"{self._log_tail()}"
        )

    def join(self, timeout: float | None = None) -> bool:
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        return True

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
            except ProcessLookupError:
                pass
        shutil.rmtree(self._dir, ignore_errors=True)  # its log and chat template file

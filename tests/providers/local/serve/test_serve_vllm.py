"""The vLLM engine: the ``vllm serve`` command ftbridge builds, and how it runs the process.

vLLM needs a GPU and is not installed here, so the command line is checked as data, and the
process management (start, wait for ``/health``, pass the key, stop; report an early exit) runs
against a stand-in ``vllm`` executable on ``PATH`` that answers ``/health`` like vLLM does.
"""

from __future__ import annotations

import json
import os
import sys
import textwrap
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
from ftbridge_local.serve._adapters import read_adapter
from ftbridge_local.serve._vllm import max_lora_rank, vllm_command
from serve_helpers import Adapters, make_adapter

import ftbridge
from ftbridge._serving import ServableAdapter, ServeSpec, engine_class

STAND_IN = textwrap.dedent(
    """\
    #!{python}
    import http.server, json, os, signal, sys
    args = sys.argv[1:]
    record = {{"argv": args, "api_key": os.environ.get("VLLM_API_KEY"),
              "runtime_lora": os.environ.get("VLLM_ALLOW_RUNTIME_LORA_UPDATING"),
              "pid": os.getpid()}}
    with open(os.environ["STAND_IN_RECORD"], "w") as fh:
        json.dump(record, fh)
    if os.environ.get("STAND_IN_FAIL"):
        print("RuntimeError: CUDA out of memory (stand-in)", flush=True)
        sys.exit(1)
    port = int(args[args.index("--port") + 1])

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200 if self.path == "/health" else 404)
            self.end_headers()
        def log_message(self, *a):
            pass

    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    http.server.HTTPServer(("127.0.0.1", port), Handler).serve_forever()
    """
)


@pytest.fixture
def stand_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    exe = bindir / "vllm"
    exe.write_text(STAND_IN.format(python=sys.executable))
    exe.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    record = tmp_path / "record.json"
    monkeypatch.setenv("STAND_IN_RECORD", str(record))
    return record


def test_the_command_names_every_adapter_and_fits_their_ranks(adapters: Adapters) -> None:
    spec = ServeSpec(
        base=str(adapters.base),
        adapters=(
            ServableAdapter("support", str(adapters.paths["support"])),
            ServableAdapter("legal", str(adapters.paths["legal"])),
        ),
        host="127.0.0.1",
        port=8123,
        api_key="sk-secret",
        max_batch=32,
        max_loaded=8,
    )
    infos = [read_adapter(a.name, a.path) for a in spec.adapters]
    command = vllm_command(spec, infos, port=8123, chat_template_file="/t/chat.jinja")
    assert command == [
        "vllm",
        "serve",
        str(adapters.base),
        "--host",
        "127.0.0.1",
        "--port",
        "8123",
        "--max-num-seqs",
        "32",
        "--enable-lora",
        "--lora-modules",
        f"support={adapters.paths['support']}",
        f"legal={adapters.paths['legal']}",
        "--max-loras",
        "2",
        "--max-cpu-loras",
        "8",
        "--max-lora-rank",
        "8",
        "--chat-template",
        "/t/chat.jinja",
    ]
    assert "sk-secret" not in " ".join(command)  # the key travels in the environment


def test_qlora_adapters_get_the_bitsandbytes_base_and_ranks_round_up(
    adapters: Adapters, tmp_path: Path
) -> None:
    qlora = make_adapter(adapters.base, tmp_path / "q", seed=1, rank=40, quantized=True)
    spec = ServeSpec(base=str(adapters.base), adapters=(ServableAdapter("q", str(qlora)),))
    command = vllm_command(spec, [read_adapter("q", qlora)], port=9000)
    assert command[command.index("--quantization") + 1] == "bitsandbytes"
    assert command[command.index("--max-lora-rank") + 1] == "64"
    with pytest.raises(ftbridge.ConfigError, match="up to 512"):
        max_lora_rank([600])


def test_auto_takes_transformers_without_a_gpu_even_with_vllm_installed(stand_in: Path) -> None:
    assert engine_class("auto").name == "transformers"
    assert engine_class("vllm").name == "vllm"  # asked for by name, it is used


def test_the_vllm_engine_starts_vllm_waits_for_health_and_stops_it(
    stand_in: Path, adapters: Adapters
) -> None:
    server = ftbridge.serve(
        base=str(adapters.base),
        adapters={"support": str(adapters.paths["support"])},
        engine="vllm",
        port=0,
        api_key="sk-vllm-key",
    )
    try:
        record: dict[str, Any] = json.loads(stand_in.read_text())
        assert server.engine == "vllm"
        assert httpx.get(server.url + "/health").status_code == 200
        argv = record["argv"]
        assert argv[:2] == ["serve", str(adapters.base)]
        assert f"support={adapters.paths['support']}" in argv
        assert argv[argv.index("--port") + 1] == server.url.rsplit(":", 1)[1]
        assert "--chat-template" in argv  # the adapter's saved template
        assert record["api_key"] == "sk-vllm-key" and "sk-vllm-key" not in argv
        assert record["runtime_lora"] == "True"  # load_lora_adapter works on it too
        assert psutil.pid_exists(record["pid"])
    finally:
        server.close()
    assert not psutil.pid_exists(record["pid"])


def test_a_vllm_that_dies_while_starting_is_reported_with_its_log(
    stand_in: Path, adapters: Adapters, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STAND_IN_FAIL", "1")
    with pytest.raises(ftbridge.InferenceError, match="CUDA out of memory"):
        ftbridge.serve(base=str(adapters.base), engine="vllm", port=0)


def test_vllm_refuses_a_dora_adapter_before_starting(stand_in: Path, adapters: Adapters) -> None:
    with pytest.raises(ftbridge.ConfigError, match="DoRA"):
        ftbridge.serve(
            base=str(adapters.base), adapters={"d": str(adapters.paths["dora"])}, engine="vllm"
        )
    assert not stand_in.exists()  # nothing was started

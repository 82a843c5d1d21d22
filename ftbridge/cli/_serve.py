"""``ftbridge serve [REF ...] [--base MODEL] [--adapter NAME=PATH ...]``: an OpenAI-compatible
endpoint for fine-tunes, until Ctrl-C."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

from .._exceptions import ConfigError
from .._serving import API_KEY_ENV, serve
from ._common import whole


def _named_path(value: str) -> tuple[str, str]:
    name, sep, path = value.partition("=")
    if not sep or not name or not path:
        raise argparse.ArgumentTypeError(f"expected NAME=PATH, got {value!r}")
    return name, path


def register(sub: Any) -> None:
    p = sub.add_parser(
        "serve",
        help="serve fine-tuned adapters on one base model behind an OpenAI-compatible endpoint",
        description="Serve local fine-tunes (job ids, or adapter directories) on one base model. "
        "Clients use it with the openai SDK: base_url=http://HOST:PORT/v1, model=<adapter name>.",
    )
    p.add_argument(
        "refs", nargs="*", metavar="REF", help="a local job id, or NAME=REF to name its adapter"
    )
    p.add_argument("--base", help="the base model (default: the one the jobs were trained on)")
    p.add_argument(
        "--adapter",
        action="append",
        type=_named_path,
        default=[],
        metavar="NAME=PATH",
        help="an adapter directory to serve as NAME (repeatable)",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument(
        "--port", type=whole(0, 65535), default=8000, help="port (default 8000; 0 picks a free one)"
    )
    p.add_argument("--engine", default="auto", help="auto (default), transformers or vllm")
    p.add_argument(
        "--api-key",
        help=f"require Authorization: Bearer KEY on every route but /health (or ${API_KEY_ENV})",
    )
    p.add_argument("--max-batch", type=whole(1), default=16, help="requests per batch (default 16)")
    p.add_argument(
        "--max-loaded", type=whole(1), default=8, help="adapters held in memory at once (default 8)"
    )
    p.add_argument(
        "--max-tokens", type=whole(1), default=4096, help="the largest max_tokens a request may ask"
    )
    p.add_argument(
        "--log-prompts", action="store_true", help="log each request's messages (off by default)"
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    adapters: dict[str, str] = {}
    for name, path in args.adapter:
        if name in adapters:
            raise ConfigError(f"--adapter {name}=... given twice")
        adapters[name] = path
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    logging.getLogger("uvicorn").setLevel(logging.WARNING)  # its start/stop lines say nothing new
    logging.getLogger("httpx").setLevel(logging.WARNING)
    print("loading the model...", file=sys.stderr)
    server = serve(
        *args.refs,
        base=args.base,
        adapters=adapters,
        host=args.host,
        port=args.port,
        engine=args.engine,
        api_key=args.api_key,
        max_batch=args.max_batch,
        max_loaded=args.max_loaded,
        max_tokens=args.max_tokens,
        log_prompts=args.log_prompts,
    )
    names = [a.name for a in server.spec.adapters]
    print(
        f"serving {server.spec.base}"
        + (f" with {len(names)} adapter(s): {', '.join(names)}" if names else "")
        + f" ({server.engine}) at {server.base_url}"
        + (" (API key required)" if server.spec.api_key else ""),
        file=sys.stderr,
    )
    if server.spec.host not in ("127.0.0.1", "localhost", "::1") and not server.spec.api_key:
        print(
            f"warning: listening on {server.spec.host} without an API key: anyone who can reach "
            f"this machine can use it (set ${API_KEY_ENV})",
            file=sys.stderr,
        )
    print(server.base_url, flush=True)
    try:
        while not server.wait(1.0):
            pass
        print("the server stopped", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("stopping...", file=sys.stderr)
        return 0
    finally:
        server.close()

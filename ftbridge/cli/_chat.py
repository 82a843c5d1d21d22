"""``ftbridge chat JOB [MESSAGE]``: one reply, or a conversation when MESSAGE is left out."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .._api import get_job
from ._output import print_json, print_jsonl


def register(sub: Any) -> None:
    p = sub.add_parser("chat", help="talk to a job's fine-tuned model")
    p.add_argument("job")
    p.add_argument("message", nargs="?", help="the message; leave out for an interactive chat")
    p.add_argument("--system", help="a system message to start with")
    p.add_argument("--max-tokens", type=int, default=256)
    p.add_argument("--temperature", type=float)
    p.add_argument("--top-p", type=float)
    p.add_argument("--seed", type=int)
    p.add_argument("--stop", action="append", help="a stop sequence (repeatable)")
    p.add_argument("--no-stream", action="store_true", help="print the reply only when complete")
    p.add_argument(
        "--json",
        action="store_true",
        help="print the result as JSON (one line a reply without MESSAGE)",
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    job = get_job(args.job)
    params: dict[str, Any] = {
        "max_tokens": args.max_tokens,
        "temperature": args.temperature,
        "top_p": args.top_p,
        "seed": args.seed,
        "stop": args.stop,
    }
    history: list[dict[str, Any]] = []
    if args.system:
        history.append({"role": "system", "content": args.system})
    with job.model() as model:
        if args.message is not None:
            history.append({"role": "user", "content": args.message})
            if args.json:
                print_json(_result_json(model.chat(history, **params)))
            else:
                _reply(model, history, params, stream=not args.no_stream)
            return 0
        interactive = sys.stdin.isatty()
        if interactive:
            print(f"chatting with {model.name} (empty line or Ctrl-D to quit)", file=sys.stderr)
        while True:
            if interactive:
                print("> ", end="", flush=True, file=sys.stderr)
            line = sys.stdin.readline()
            if not line.strip():
                return 0
            history.append({"role": "user", "content": line.rstrip("\n")})
            if args.json:  # one compact JSON object per reply (JSON Lines), as events --json
                result = model.chat(history, **params)
                print_jsonl(_result_json(result))
                text = result.text
            else:
                text = _reply(model, history, params, stream=not args.no_stream)
            history.append({"role": "assistant", "content": text})


def _result_json(result: Any) -> dict[str, Any]:
    return {"text": result.text, "finish_reason": result.finish_reason, "usage": result.usage}


def _reply(
    model: Any, history: list[dict[str, Any]], params: dict[str, Any], *, stream: bool
) -> str:
    if not stream:
        text: str = model.chat(history, **params).text
        print(text)
        return text
    parts = []
    for delta in model.stream(history, **params):
        parts.append(delta)
        print(delta, end="", flush=True)
    print()
    return "".join(parts)

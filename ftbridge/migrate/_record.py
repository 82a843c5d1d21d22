"""``ftbridge.record``: a model's answers to a set of prompts, while it still answers.

    ftbridge.record("openai:ft:gpt-4o-mini-2024-07-18:acme::abc", data="prompts.jsonl",
                    out="golden.jsonl")

The output is chat JSONL, one line per prompt, whose final assistant message is the model's
answer, with ``{"model", "recorded_at", "generation"}`` under ``"metadata"``: at once a golden set
for a parity evaluation and, when the original training data is lost, training data.

- Prompts: every message before a record's final assistant message (``data=``), or the same from
  the job's own stored validation data, else its training data (``from_job=``); ``n`` samples
  that many, seeded, in file order.
- Resumable and never duplicated: prompts already in ``out`` are skipped; answers are appended
  as they arrive, and every answer is also in the generation cache, so a re-run after an
  interruption calls the model only for what is missing.
- Temperature 0 unless asked. A model past its shutdown date is refused before any call, saying
  what is still possible.
"""

from __future__ import annotations

import hashlib
import logging
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, NoReturn

import orjson

from .._exceptions import ConfigError, DatasetReadError
from .._provider import Generation, ModelHandle
from .._secrets import scrub
from ._closing import is_past, shut_down

log = logging.getLogger("ftbridge")
CHUNK = 32  # prompts generated between two writes of the output file


@dataclass
class RecordResult:
    """What one ``record`` call did."""

    out: Path
    model: str
    prompts: int
    already: int = 0
    written: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)
    estimate: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "out": str(self.out),
            "model": self.model,
            "prompts": self.prompts,
            "already_recorded": self.already,
            "written": self.written,
            "failed": self.failed,
            "errors": self.errors[:5],
            "estimate": self.estimate,
        }


def prompt_key(prompt: Sequence[Mapping[str, Any]]) -> str:
    """The identity of a prompt: its messages (role and content), as a digest."""
    body = orjson.dumps(
        [{"role": m.get("role"), "content": m.get("content")} for m in prompt],
        option=orjson.OPT_SORT_KEYS,
    )
    return hashlib.sha256(body).hexdigest()


def _prompt_of(record: Any) -> list[dict[str, Any]] | None:
    """The record's messages without a final assistant turn, or None when nothing is left."""
    messages = record.get("messages") if isinstance(record, Mapping) else None
    if not isinstance(messages, list) or not all(isinstance(m, Mapping) for m in messages):
        return None
    if messages and messages[-1].get("role") == "assistant":
        messages = messages[:-1]
    prompt = [{k: m[k] for k in ("role", "content", "name") if k in m} for m in messages]
    return prompt if prompt and prompt[-1].get("role") != "assistant" else None


def read_prompts(path: Path) -> list[list[dict[str, Any]]]:
    """The prompts of a chat JSONL file (final assistant turns dropped); errors named by line."""
    if path.is_char_device() or path.is_block_device():  # /dev/zero: read for ever
        raise DatasetReadError(f"{path} is a device, not a file; pass a .jsonl file")
    try:
        lines = path.read_bytes().splitlines()
    except FileNotFoundError:
        raise DatasetReadError(f"prompt file not found: {path}") from None
    except OSError as exc:
        raise DatasetReadError(f"cannot read {path}: {exc.strerror or exc}") from exc
    prompts, problems = [], []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError:
            problems.append(f"{path.name}:{number}: not a JSON object")
            continue
        prompt = _prompt_of(record)
        if prompt is None:
            problems.append(f"{path.name}:{number}: no messages to prompt with")
            continue
        prompts.append(prompt)
    if problems:
        shown = "\n  ".join(problems[:5])
        more = f"\n  ... and {len(problems) - 5} more" if len(problems) > 5 else ""
        raise DatasetReadError(f"{path} has records that cannot be prompts:\n  {shown}{more}")
    if not prompts:
        raise DatasetReadError(f"{path} holds no prompts")
    return prompts


def _job_data(from_job: Any) -> Path:
    from .._api import get_job
    from .._job import Job
    from ._inventory import stored_dataset

    job = from_job if isinstance(from_job, Job) else get_job(str(from_job))
    for ref in (job.spec.validation, job.spec.training):
        if ref is None:
            continue
        found = stored_dataset(ref.sha256, ref.path)
        if found is not None:
            return found
    raise ConfigError(
        f"the data of {job.id} is not on this machine (it was {job.spec.training.path}); "
        "pass the prompts with data=... (--data FILE)"
    )


def _sample(prompts: list[Any], n: int | None, seed: int) -> list[Any]:
    if n is None or n >= len(prompts):
        return prompts
    if n < 1:
        raise ConfigError(f"n must be at least 1, got {n}")
    keep = sorted(random.Random(seed).sample(range(len(prompts)), n))
    return [prompts[i] for i in keep]


def _recorded(out: Path, model: str) -> set[str]:
    """Prompt keys ``model`` already answered in ``out`` (a torn last line is dropped and
    rewritten). A file that is not a recording of ``model`` (a training file, another model's
    answers, any other file given by mistake) is refused before it is touched."""
    if not out.exists() or out.is_dir():
        return set()  # a directory: opening it for writing names it
    if not out.is_file():  # a device or a pipe (/dev/full reads zeros for ever)
        raise ConfigError(
            f"{out} is not a regular file; give --out (out=) a .jsonl file to write and resume"
        )
    raw = out.read_bytes()
    complete, _, torn = raw.rpartition(b"\n")
    if torn and not _RECORD_START.startswith(torn[: len(_RECORD_START)]):
        _not_a_recording(out, complete.count(b"\n") + 2 if complete else 1)
    done = set()
    for number, line in enumerate(complete.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError:
            record = None
        metadata = record.get("metadata") if isinstance(record, dict) else None
        messages = record.get("messages") if isinstance(record, dict) else None
        if not isinstance(metadata, dict) or not isinstance(messages, list) or not messages:
            _not_a_recording(out, number)
        if metadata.get("model") != model:
            raise ConfigError(
                f"{out} holds answers of {metadata.get('model')!r} (line {number}), not of "
                f"{model!r}; record each model into a file of its own"
            )
        if isinstance(messages[-1], dict) and messages[-1].get("role") == "assistant":
            done.add(prompt_key(messages[:-1]))
    if torn:  # interrupted mid-write: drop the partial line
        out.write_bytes(raw[: len(raw) - len(torn)])
    return done


# How every recorded line starts (orjson writes the keys in this order, without spaces).
_RECORD_START = b'{"messages":['


def _not_a_recording(out: Path, number: int) -> NoReturn:
    raise ConfigError(
        f"{out} is not a recording made by `ftbridge record` (line {number} is not a recorded "
        "answer), so it is left as it is; give --out (out=) a new file or an earlier recording"
    )


def _refuse_shut_down(handle: ModelHandle) -> None:
    when = getattr(handle, "shutdown_date", None)
    shutdown = when() if callable(when) else None
    if is_past(shutdown):
        provider = handle.name.split(":")[0] if ":" in handle.name else "its provider"
        raise shut_down(provider, handle.name, shutdown, None)


def _estimate(handle: ModelHandle, prompts: list[Any], gen: Generation) -> dict[str, Any] | None:
    """A cost estimate for the calls to make, from the handle's ``estimate_cost`` if it has one."""
    estimate = getattr(handle, "estimate_cost", None)
    if not callable(estimate):
        return None
    chars = sum(len(str(m.get("content") or "")) for p in prompts for m in p)
    return dict(
        estimate(
            prompt_tokens=chars // 4 + 4 * len(prompts),
            max_tokens=gen.max_tokens,
            calls=len(prompts),
        )
    )


def record(
    ref: Any,
    data: str | Path | None = None,
    *,
    from_job: Any = None,
    n: int | None = None,
    out: str | Path,
    generation: Generation | Mapping[str, Any] | None = None,
    concurrency: int = 8,
    seed: int = 0,
    max_cost: float | None = None,
    progress: bool | None = None,
) -> RecordResult:
    """Record ``ref``'s answers to the prompts of ``data`` (or of ``from_job``'s data) into
    ``out``. See the module docstring. ``max_cost`` (USD) refuses a run estimated above it.
    ``seed`` samples ``n`` prompts and is passed to the model, as ``evaluate`` passes its own,
    so an evaluation of the same model on the golden set reuses the recorded answers."""
    from .._open import open_model
    from ..eval._generate import generate, generation_of

    if max_cost is not None and (
        isinstance(max_cost, bool)
        or not isinstance(max_cost, (int, float))
        or not math.isfinite(max_cost)
        or max_cost < 0
    ):
        raise ConfigError(f"max_cost is a number of US dollars, 0 or more, not {max_cost!r}")
    if (data is None) == (from_job is None):
        raise ConfigError("give the prompts: data=FILE or from_job=JOB (one of them)")
    source = Path(data).expanduser() if data is not None else _job_data(from_job)
    prompts = _sample(read_prompts(source), n, seed)
    gen = generation_of(generation, seed=seed)  # as evaluate does: its cache is shared
    handle = open_model(ref)
    out_path = Path(out).expanduser()
    result = RecordResult(out=out_path, model=handle.name or str(ref), prompts=len(prompts))
    _refuse_shut_down(handle)
    done = _recorded(out_path, result.model)
    todo = [p for p in prompts if prompt_key(p) not in done]
    result.already = len(prompts) - len(todo)
    result.estimate = _estimate(handle, todo, gen) if todo else None
    cost = (result.estimate or {}).get("usd")
    if max_cost is not None and cost is not None and cost > max_cost:
        raise ConfigError(
            f"recording {len(todo)} prompts is estimated at ${cost:.2f}, above max_cost "
            f"${max_cost:.2f}; raise it or sample fewer with n=..."
        )
    settings = {k: v for k, v in vars(gen).items() if v not in (None, ())}
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with out_path.open("ab") as sink:
        for start in range(0, len(todo), CHUNK):
            chunk = todo[start : start + CHUNK]
            replies = generate(
                handle, chunk, gen, concurrency=concurrency, progress=progress, desc="recording"
            )
            stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
            for prompt, reply in zip(chunk, replies, strict=True):
                if reply.text is None:
                    result.failed += 1
                    result.errors.append(scrub(reply.error or "failed"))
                    continue
                line = {
                    "messages": [*prompt, {"role": "assistant", "content": reply.text}],
                    "metadata": {
                        "model": result.model,
                        "recorded_at": stamp,
                        "generation": settings,
                    },
                }
                sink.write(orjson.dumps(line) + b"\n")
                result.written += 1
            sink.flush()
    if result.failed:
        log.warning(
            "%d of %d prompts got no answer; run record again to retry them",
            result.failed,
            len(todo),
        )
    return result

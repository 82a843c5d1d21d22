"""A local job is a run directory; this module is its layout and its (atomic) file formats.

::

    $FTBRIDGE_HOME/runs/<run id>/
        spec.json            the JobSpec, as submitted
        train.jsonl          a copy of the validated dataset (resume trains on the same bytes)
        valid.jsonl          the validation file, when there is one
        dataset.sha256       the training file's sha256
        state.json           status, step, loss... (written whole, atomically, by the worker)
        process.json         the worker's pid and start time (written by the launcher)
        events.jsonl         one JSON event per line, appended by the worker (rank 0)
        worker.log           the worker's stdout and stderr
        cancel               present once cancellation was asked for
        checkpoints/checkpoint-N/   adapter, optimizer, scheduler, RNG and data position
        model/               the final adapter (safetensors), tokenizer and chat template

Readers never see half a ``state.json``: it is written to a temporary file and renamed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ftbridge._paths import subdir

COMPLETE_MARKER = "ftbridge_complete"
MODEL_META = "ftbridge_model.json"  # how the final model was trained (read by the handle)
# What a worker treats as "stop at the next step, save, and end cancelled".
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
_ID_RE = re.compile(r"^ft-[0-9a-f]{8,64}$")


def run_id_for(idempotency_key: str) -> str:
    """The run id a spec's idempotency key maps to (so a retried submit finds its run)."""
    return "ft-" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:16]


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat()


def write_json_atomic(path: Path, data: Any) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1, default=str)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_json(path: Path, default: Any = None) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return default


class RunDir:
    """Paths and small file operations of one run directory."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.id = path.name

    @classmethod
    def for_id(cls, run_id: str) -> RunDir:
        if not _ID_RE.match(run_id):
            raise ValueError(f"not a local run id: {run_id!r}")
        return cls(subdir("runs") / run_id)

    # -- paths --------------------------------------------------------------------------------

    @property
    def spec_file(self) -> Path:
        return self.path / "spec.json"

    @property
    def state_file(self) -> Path:
        return self.path / "state.json"

    @property
    def process_file(self) -> Path:
        return self.path / "process.json"

    @property
    def events_file(self) -> Path:
        return self.path / "events.jsonl"

    @property
    def log_file(self) -> Path:
        return self.path / "worker.log"

    @property
    def cancel_file(self) -> Path:
        return self.path / "cancel"

    @property
    def train_file(self) -> Path:
        return self.path / "train.jsonl"

    @property
    def valid_file(self) -> Path:
        return self.path / "valid.jsonl"

    @property
    def checkpoints(self) -> Path:
        return self.path / "checkpoints"

    @property
    def model_dir(self) -> Path:
        return self.path / "model"

    def exists(self) -> bool:
        return self.spec_file.is_file()

    # -- state --------------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        return dict(read_json(self.state_file, default={}) or {})

    def update_state(self, **changes: Any) -> dict[str, Any]:
        """Merge ``changes`` into ``state.json`` (one writer at a time: the worker's rank 0)."""
        state = self.state()
        state.update(changes)
        state["updated_at"] = now_iso()
        write_json_atomic(self.state_file, state)
        return state

    def process(self) -> dict[str, Any]:
        return dict(read_json(self.process_file, default={}) or {})

    def cancel_requested(self) -> bool:
        return self.cancel_file.exists()

    # -- checkpoints --------------------------------------------------------------------------

    def complete_checkpoints(self) -> list[tuple[int, Path]]:
        """Checkpoints whose save finished (marked after the trainer wrote every file)."""
        found = []
        if self.checkpoints.is_dir():
            for child in self.checkpoints.iterdir():
                match = re.fullmatch(r"checkpoint-(\d+)", child.name)
                if match and (child / COMPLETE_MARKER).is_file():
                    found.append((int(match.group(1)), child))
        return sorted(found)

    def last_checkpoint(self) -> tuple[int, Path] | None:
        done = self.complete_checkpoints()
        return done[-1] if done else None

    # -- events -------------------------------------------------------------------------------

    def read_events(self) -> list[dict[str, Any]]:
        """Every complete event line (a line still being written is skipped)."""
        events = []
        try:
            with open(self.events_file, encoding="utf-8") as fh:
                for line in fh:
                    if not line.endswith("\n"):
                        break
                    try:
                        events.append(json.loads(line))
                    except json.JSONDecodeError:
                        continue
        except FileNotFoundError:
            pass
        return events


class EventWriter:
    """Appends numbered events to ``events.jsonl``; numbering continues across resumes."""

    def __init__(self, run: RunDir) -> None:
        self.run = run
        existing = run.read_events()
        self._next = max((int(e["id"]) for e in existing), default=0) + 1

    def emit(
        self,
        message: str,
        *,
        level: str = "info",
        step: int | None = None,
        metrics: dict[str, float] | None = None,
    ) -> None:
        event = {
            "id": str(self._next),
            "time": now_iso(),
            "level": level,
            "message": message,
            "step": step,
            "metrics": metrics or {},
        }
        self._next += 1
        # One write call per line, flushed at once, so a reader sees whole lines only.
        with open(self.run.events_file, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(event) + "\n")

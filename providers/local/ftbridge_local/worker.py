"""The detached training process of one local job: ``python -m ftbridge_local.worker <run id>``.

Started by the provider (directly, or under ``torchrun`` for several processes); the run id on
the command line lets ``ps`` find it. It reads everything from the run directory and reports
through ``state.json`` and ``events.jsonl``. SIGTERM stops it at the next step boundary after a
checkpoint is saved, and the job ends ``cancelled``.

    python -m ftbridge_local.worker ft-0123456789abcdef [--resume]
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import traceback

# Only light imports up here: the stop signals are caught before torch loads, so a cancel that
# arrives during the imports is still honoured (the job then stops before its first step).
from ._runs import STOP_SIGNALS


class _EarlyFlag:
    requested = False


def _early_handler(signum: int, frame: object) -> None:
    _EarlyFlag.requested = True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ftbridge_local.worker")
    parser.add_argument("run_id")
    parser.add_argument("--resume", action="store_true", help="continue from the last checkpoint")
    ns = parser.parse_args(argv)

    from ._callbacks import StopFlag
    from ._runs import EventWriter, RunDir, now_iso

    flag = StopFlag()
    flag.requested = _EarlyFlag.requested
    flag.install()

    run = RunDir.for_id(ns.run_id)
    is_main = int(os.environ.get("RANK", "0")) == 0
    events = EventWriter(run)
    if is_main:
        run.update_state(
            status="running", raw_status="loading", pid=os.getpid(), error=None, finished_at=None
        )
    try:
        from ._recipe import train

        outcome = train(run, resume=ns.resume, flag=flag, events=events)
    except BaseException as exc:  # report every failure, including a KeyboardInterrupt
        if is_main:
            last = run.last_checkpoint()
            hint = f"; resumable from checkpoint {last[0]}" if last else ""
            message = f"{type(exc).__name__}: {exc}{hint}"
            events.emit(f"training failed: {message}", level="error")
            traceback.print_exc()
            run.update_state(
                status="failed",
                raw_status="error",
                finished_at=now_iso(),
                error={"code": type(exc).__name__, "message": message},
            )
        return 1
    if is_main:
        if outcome.cancelled_at is not None:
            last = run.last_checkpoint()
            where = f"; resumable from checkpoint {last[0]}" if last else ""
            events.emit(
                f"cancelled at step {outcome.cancelled_at}{where}",
                level="warning",
                step=outcome.cancelled_at,
            )
            run.update_state(
                status="cancelled",
                raw_status="cancelled",
                finished_at=now_iso(),
                step=outcome.cancelled_at,
            )
        else:
            events.emit("training succeeded", step=outcome.steps)
            run.update_state(
                status="succeeded",
                raw_status="succeeded",
                finished_at=now_iso(),
                step=outcome.steps,
                model=str(run.model_dir),
                trained_tokens=outcome.trained_tokens,
                estimated_finish=None,
            )
    return 0


if __name__ == "__main__":
    for _sig in STOP_SIGNALS:
        signal.signal(_sig, _early_handler)
    sys.exit(main())

"""Starting, finding and signalling the worker process of a run.

The worker is detached (its own session, output to ``worker.log``), so ``submit`` returns at
once and the training outlives the submitting process. Several processes go through
``torchrun`` (never a home-made launcher); its command line still carries the run id.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from typing import Any

import psutil

from ._runs import RunDir, now_iso, write_json_atomic

# Children started by this process, kept so that they are reaped (no zombies) once they end.
_CHILDREN: dict[str, subprocess.Popen[bytes]] = {}


def worker_command(run_id: str, processes: int, *, resume: bool) -> list[str]:
    tail = ["-m", "ftbridge_local.worker", run_id, *(["--resume"] if resume else [])]
    if processes <= 1:
        return [sys.executable, *tail]
    return [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        f"--nproc-per-node={processes}",
        "--max-restarts=0",
        *tail,
    ]


def _worker_env(processes: int) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    env["PYTHONUNBUFFERED"] = "1"
    if processes > 1 and "OMP_NUM_THREADS" not in env:
        # Each rank gets its share of the cores instead of all of them (oversubscription
        # makes CPU DDP several times slower).
        env["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // processes))
    return env


def spawn(run: RunDir, processes: int, *, resume: bool) -> dict[str, Any]:
    """Start the worker for ``run`` and record its pid and start time in ``process.json``."""
    command = worker_command(run.id, processes, resume=resume)
    with open(run.log_file, "ab") as log:
        proc = subprocess.Popen(
            command,
            cwd=run.path,
            env=_worker_env(processes),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C in the submitting shell does not reach it
            close_fds=True,
        )
    _CHILDREN[run.id] = proc
    try:
        created = psutil.Process(proc.pid).create_time()
    except psutil.NoSuchProcess:
        created = None
    info = {
        "pid": proc.pid,
        "create_time": created,
        "launcher": "torchrun" if processes > 1 else "python",
        "command": command,
        "started_at": now_iso(),
    }
    write_json_atomic(run.process_file, info)
    return info


def _process(run: RunDir) -> psutil.Process | None:
    info = run.process()
    pid = info.get("pid")
    if not pid:
        return None
    child = _CHILDREN.get(run.id)
    if child is not None and child.pid == pid:
        child.poll()  # reaps it if it has ended
    try:
        proc = psutil.Process(int(pid))
        created = info.get("create_time")
        # A recycled pid belongs to another process: compare start times.
        if created is not None and abs(proc.create_time() - float(created)) > 1.0:
            return None
        if proc.status() == psutil.STATUS_ZOMBIE:
            return None
        return proc
    except psutil.NoSuchProcess:
        return None


def is_alive(run: RunDir) -> bool:
    return _process(run) is not None


def signal_workers(run: RunDir, sig: int = signal.SIGTERM) -> int:
    """Send ``sig`` to the training processes (the ranks, not torchrun); how many got it."""
    proc = _process(run)
    if proc is None:
        return 0
    targets = [proc]
    if run.process().get("launcher") == "torchrun":
        # torchrun would answer SIGTERM by killing its ranks after a grace period; the ranks
        # themselves stop cleanly at the next step.
        try:
            targets = proc.children(recursive=True) or [proc]
        except psutil.NoSuchProcess:
            return 0
    sent = 0
    for target in targets:
        try:
            target.send_signal(sig)
            sent += 1
        except psutil.NoSuchProcess:
            continue
    return sent

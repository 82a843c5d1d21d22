"""Pieces several commands share: JSON output of jobs, a human summary, argument helpers."""

from __future__ import annotations

import argparse
import math
from typing import Any

from .._job import Job


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")


def seconds(text: str) -> float:
    """An argparse type: a finite number of seconds, zero or more (``--timeout``)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(
            f"expected a number of seconds, zero or more, got {text!r}"
        )
    return value


def whole(low: int, high: int | None = None) -> Any:
    """An argparse type: a whole number from ``low`` (to ``high``), refused while the command
    line is read, before anything slow (loading a model) starts."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < low or (high is not None and value > high):
            span = f"from {low} to {high}" if high is not None else f"of {low} or more"
            raise argparse.ArgumentTypeError(f"expected a whole number {span}, got {text!r}")
        return value

    return parse


def check_provider_filter(name: str | None) -> None:
    """For ``--provider P`` of a listing that came back empty: a name no provider has is a
    typo to point out (exit 2), not "no jobs"."""
    if name is None:
        return
    from .._exceptions import ProviderNotInstalledError
    from .._registry import provider_class

    try:
        provider_class(name)
    except ProviderNotInstalledError:
        return  # a provider ftbridge knows, only not installed here: truly none of its jobs


def job_json(job: Job) -> dict[str, Any]:
    snap = job.snapshot
    return {
        "id": job.id,
        "provider": job.provider,
        "status": snap.status.value,
        "raw_status": snap.raw_status,
        "model": job.spec.model,
        "fine_tuned_model": snap.model,
        "step": snap.step,
        "total_steps": snap.total_steps,
        "loss": snap.loss,
        "error": snap.error.model_dump() if snap.error else None,
        "created_at": snap.created_at.isoformat() if snap.created_at else None,
        "finished_at": snap.finished_at.isoformat() if snap.finished_at else None,
        "details": snap.details,
        "retrained_from": job.retrained_from,
    }


def job_summary(job: Job) -> str:
    snap = job.snapshot
    lines = [
        f"job       {job.id}",
        f"status    {job.progress_line().split('  ', 1)[1]}",
        f"model     {job.spec.model}",
    ]
    if snap.model:
        lines.append(f"result    {snap.model}")
    if job.retrained_from:
        lines.append(f"from      {job.retrained_from} (retrained)")
    if snap.error:
        code = f"{snap.error.code}: " if snap.error.code else ""
        lines.append(f"error     {code}{snap.error.message}")
    return "\n".join(lines)

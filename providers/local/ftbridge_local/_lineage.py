"""``options={"from_job": ...}``: a run that continues the model of an earlier local job.

DPO usually starts from a model already fine-tuned with SFT on the same kind of conversations;
``from_job`` names that job (``"local:ft-..."`` or its run id). The earlier run must have
succeeded on the same base model; its adapter (or, for a full run, its weights) is where training
starts and what the DPO reference model is. Nothing here imports torch.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._runs import MODEL_META, RunDir


@dataclass(frozen=True)
class EarlierModel:
    run_id: str
    model_dir: Path
    meta: dict[str, Any]

    @property
    def tuning(self) -> str:
        return str(self.meta.get("method", "full"))


def run_id_of(ref: str) -> str:
    provider, sep, native = ref.partition(":")
    if sep and provider != "local":
        raise ValueError(f"from_job {ref!r} is a {provider} job; it must be a local job")
    return native if sep else ref


def earlier_model(ref: str) -> EarlierModel:
    """The trained model of the job ``ref``; ValueError says what is wrong with it."""
    run_id = run_id_of(ref)
    try:
        run = RunDir.for_id(run_id)
    except ValueError as exc:
        raise ValueError(f"from_job {ref!r}: {exc}") from exc
    if not run.exists():
        raise ValueError(f"from_job {ref!r}: no local run {run_id} in {run.path.parent}")
    status = run.state().get("status")
    meta_file = run.model_dir / MODEL_META
    if status != "succeeded" or not meta_file.is_file():
        raise ValueError(
            f"from_job {ref!r} is {status or 'unfinished'}: only a succeeded run has a model"
        )
    return EarlierModel(run_id, run.model_dir, json.loads(meta_file.read_text(encoding="utf-8")))


def same_model(a: str, b: str) -> bool:
    """Whether two model names (hub ids or directories) name the same base."""
    pa, pb = Path(a).expanduser(), Path(b).expanduser()
    if pa.is_dir() and pb.is_dir():
        return pa.resolve() == pb.resolve()
    return a == b


def problems(spec: Any, tuning_given: str | None, ref: str) -> list[str]:
    """What stops a run that continues ``ref`` (empty when it can start)."""
    if spec.method != "dpo":
        return ["options from_job continues an earlier job with DPO; it needs a preference dataset"]
    try:
        earlier = earlier_model(ref)
    except ValueError as exc:
        return [str(exc)]
    found: list[str] = []
    base = str(earlier.meta.get("base_model", ""))
    if earlier.tuning != "full" and not same_model(base, spec.model):
        found.append(
            f"from_job {ref!r} was trained on {base}, not on {spec.model}: pass model={base!r}"
        )
    if tuning_given is not None and tuning_given != earlier.tuning:
        found.append(
            f"from_job {ref!r} trained with tuning {earlier.tuning!r}; DPO continues it the same "
            f"way: drop tuning={tuning_given!r} or set {earlier.tuning!r}"
        )
    return found

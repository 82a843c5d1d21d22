"""A job's cost estimate before it starts, and its metrics file once it has one.

The estimate multiplies the dataset's tokens by the epochs and a list price per million
training tokens by model size. It is an estimate: ftbridge's token count may be approximate
(``tokens_exact``), and the prices are the ones ftbridge knows, which Fireworks can change (the
estimate names the page to check). Fireworks puts its own estimate on the job once it exists
(``estimatedCost``: the snapshot's ``details["estimated_cost_usd"]``).

Metrics: an SFT job's ``metricsFileSignedUrl``, or a DPO job's ``:getMetricsFileEndpoint``,
is a JSONL file (``firectl download dpo-job-metrics`` saves it as ``metrics.jsonl``), one row
per step. The rows' keys are not documented; numeric fields become metric values, ``step`` and
``epoch`` place them, ``loss``/``train/loss`` is read as ``train_loss``.
"""

from __future__ import annotations

from typing import Any

import httpx
import orjson

from ftbridge._exceptions import TransientProviderError
from ftbridge._models import JobSpec, MetricPoint

from ._errors import PROVIDER

PRICING_URL = "https://fireworks.ai/pricing"
# (largest parameter count, USD per 1M training tokens): the tiers ftbridge knows.
PRICE_TIERS = ((16e9, 0.50), (80e9, 3.00))

_NAMES = {
    "loss": "train_loss",
    "train/loss": "train_loss",
    "train_loss": "train_loss",
    "eval/loss": "valid_loss",
    "eval_loss": "valid_loss",
    "learning_rate": "learning_rate",
    "train/learning_rate": "learning_rate",
    "lr": "learning_rate",
}
_STEP = ("step", "global_step", "train/global_step")
_EPOCH = ("epoch", "train/epoch")


def _price_per_million(info: dict[str, Any] | None) -> float | None:
    details = (info or {}).get("baseModelDetails") or {}
    try:
        params = float(details.get("parameterCount") or 0)
    except (TypeError, ValueError):
        return None
    if params <= 0:
        return None
    return next((price for limit, price in PRICE_TIERS if params <= limit), None)


def estimate(spec: JobSpec, info: dict[str, Any] | None, stats: Any) -> dict[str, Any]:
    """What ``Preflight.estimates`` shows: tokens, and a price where ftbridge knows one."""
    epochs = spec.hyperparameters.epochs or 1  # Fireworks' default is 1 epoch
    per_epoch = int(getattr(stats, "total_tokens", 0) or 0)
    out: dict[str, Any] = {
        "train_tokens_per_epoch": per_epoch,
        "epochs": epochs,
        "train_tokens": per_epoch * epochs,
        "tokens_exact": bool(getattr(stats, "tokens_exact", False)),
    }
    price = _price_per_million(info)
    if price is None or not per_epoch:
        out["price_note"] = f"no price estimate for this model; see {PRICING_URL}"
        return out
    if spec.method == "dpo":
        out["price_note"] = (
            f"no price estimate for DPO (priced differently from SFT); see {PRICING_URL}"
        )
        return out
    out["price_usd"] = round(per_epoch * epochs * price / 1e6, 4)
    out["price_note"] = (
        f"an estimate: {out['train_tokens']} tokens x ${price:.2f} per million training tokens "
        f"(the list price ftbridge knows for the model's size); check {PRICING_URL}"
    )
    return out


def read(url: str, *, timeout: float) -> list[MetricPoint]:
    """Download a metrics file from its signed URL (no Fireworks credentials) and parse it."""
    try:
        response = httpx.get(url, timeout=timeout, follow_redirects=True)
    except httpx.TransportError as exc:
        raise TransientProviderError(
            f"Fireworks: read the metrics file: {type(exc).__name__} ({exc})", provider=PROVIDER
        ) from exc
    if response.status_code == 404:
        return []  # not written yet
    if response.status_code >= 400:
        raise TransientProviderError(
            f"Fireworks: read the metrics file: HTTP {response.status_code}",
            provider=PROVIDER,
            status_code=response.status_code,
        )
    return parse(response.content)


def parse(data: bytes) -> list[MetricPoint]:
    by_step: dict[int, tuple[float | None, dict[str, float]]] = {}
    for line in data.splitlines():
        if not line.strip():
            continue
        try:
            row = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue  # a partly written last line
        if not isinstance(row, dict):
            continue
        step = next((row[k] for k in _STEP if isinstance(row.get(k), (int, float))), None)
        if step is None:
            continue
        epoch = next((float(row[k]) for k in _EPOCH if isinstance(row.get(k), (int, float))), None)
        values = {
            _NAMES.get(name, name.replace("/", "_")): float(value)
            for name, value in row.items()
            if name not in _STEP
            and name not in _EPOCH
            and isinstance(value, (int, float))
            and not isinstance(value, bool)
        }
        old_epoch, old = by_step.get(int(step), (None, {}))
        by_step[int(step)] = (epoch if epoch is not None else old_epoch, {**old, **values})
    return [
        MetricPoint(step=step, epoch=epoch, values=values)
        for step, (epoch, values) in sorted(by_step.items())
        if values
    ]

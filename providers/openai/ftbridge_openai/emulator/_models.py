"""``/v1/models`` with shutdown dates, and the switches that play a provider closing down.

- ``shutdowns``: base model family -> shutdown date (default: OpenAI's announced dates, from
  ``ftbridge_openai._inventory.CLOSING``); every
  fine-tune inherits its base's date, as OpenAI's ``GET /v1/models/{id}`` reports it.
- ``today``: the emulator's calendar (default: the real date); a model past its date answers
  chat like a removed model (404 ``model_not_found``).
- ``closed``: job creation is refused the way a closed account is (403).
"""

from __future__ import annotations

import time
from datetime import date
from typing import Any

from ftbridge.testing.emulator import ApiError, Request, Response

CLOSED_MESSAGE = (
    "Fine-tuning is no longer available for your organization. Existing fine-tuned models can "
    "still be used until their shutdown date."
)


class ModelsMixin:
    """Needs ``jobs`` (id -> JobRecord), ``clock`` and ``base_models`` (name -> snapshot)."""

    jobs: dict[str, Any]
    clock: Any
    closed: bool = False
    today: date | None = None
    shutdowns: dict[str, date]

    def _today(self) -> date:
        return self.today or date.today()

    def shutdown_of(self, model: str) -> date | None:
        name = model.removeprefix("ft:").split(":")[0]
        for family in sorted(self.shutdowns, key=len, reverse=True):
            if name == family or name.startswith(family + "-2"):
                return self.shutdowns[family]
        return None

    def is_shut_down(self, model: str) -> bool:
        day = self.shutdown_of(model)
        return day is not None and day <= self._today()

    def refuse_if_closed(self) -> None:
        if self.closed:
            raise ApiError(403, CLOSED_MESSAGE, code="fine_tuning_unavailable")

    def _model_object(self, model: str, created: int, owner: str) -> dict[str, Any]:
        day = self.shutdown_of(model)
        return {
            "id": model,
            "object": "model",
            "created": created,
            "owned_by": owner,
            "shutdown_date": day.isoformat() if day else None,
        }

    def _all_models(self) -> dict[str, dict[str, Any]]:
        out = {
            name: self._model_object(name, 1_700_000_000, "system")
            for name in self.base_models.values()
        }
        for job in self.jobs.values():
            self.clock.advance(job)
            if job.fine_tuned_model:
                out[job.fine_tuned_model] = self._model_object(
                    job.fine_tuned_model, job.finished_at or int(time.time()), "ftbridge-emulator"
                )
        return out

    base_models: dict[str, str]

    def _list_models(self, request: Request) -> Response:
        return Response(json={"object": "list", "data": list(self._all_models().values())})

    def _retrieve_model(self, request: Request) -> Response:
        model = request.params["model"]
        found = self._all_models().get(model)
        if found is None:
            raise ApiError(
                404,
                f"The model '{model}' does not exist",
                param="model",
                code="model_not_found",
            )
        return Response(json=found)

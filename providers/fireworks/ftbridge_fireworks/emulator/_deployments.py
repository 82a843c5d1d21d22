"""Deployment routes of the emulator: a dedicated deployment, and LoRA models loaded onto it.

``POST /deployments?deploymentId=`` (``baseModel``: a base model, or a fine-tuned model as in
``firectl create deployment <model>``) is ``CREATING`` for ``READY_TAKES`` seconds at pace 1,
then ``READY``. ``POST /deployedModels`` (``model``, ``deployment``) loads a LoRA model onto a
ready deployment of its base model that has ``enableAddons``; chat then reaches it as
``<model>#<deployment>``.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from ftbridge.testing.emulator import ApiError, Request, Response

from ._datasets import ID_PATTERN
from ._wire import iso

READY_TAKES = 1.0


@dataclass
class Deployment:
    name: str
    body: dict[str, Any]
    created: float
    pace: float
    loaded: set[str] = field(default_factory=set)

    def state(self, now: float) -> str:
        return "READY" if now >= self.created + READY_TAKES * self.pace else "CREATING"

    def to_json(self, now: float) -> dict[str, Any]:
        return {
            "name": self.name,
            "displayName": self.body.get("displayName") or self.name.rsplit("/", 1)[-1],
            "createTime": iso(self.created),
            "updateTime": iso(min(now, self.created + READY_TAKES * self.pace)),
            "state": self.state(now),
            "status": {"code": "OK", "message": ""},
            "baseModel": self.body["baseModel"],
            "enableAddons": bool(self.body.get("enableAddons")),
            "minReplicaCount": int(self.body.get("minReplicaCount") or 0),
            "maxReplicaCount": int(self.body.get("maxReplicaCount") or 1),
            "acceleratorType": self.body.get("acceleratorType") or "NVIDIA_H100_80GB",
        }


class DeploymentRoutes:
    """Mixin of ``FireworksEmulator``: ``/deployments`` and ``/deployedModels``."""

    pace: float
    models: dict[str, Any]
    deployments: dict[str, set[str]]
    _lock: threading.RLock
    _dedicated: dict[str, Deployment]
    _deployed: dict[str, dict[str, Any]]

    def _now(self) -> float:
        return time.time()

    def _fine_tuned(self, name: str) -> Any:
        raise NotImplementedError  # provided by the server

    def _base_name(self, model: str) -> str | None:
        """The base model a model runs on (itself for a base model), or None if unknown."""
        if model in self.models:
            return model
        job = self._fine_tuned(model)
        return job.base.name if job is not None and job.base is not None else None

    def _create_deployment(self, request: Request) -> Response:
        body = request.json()
        if not isinstance(body, dict) or not body.get("baseModel"):
            raise ApiError(400, "baseModel is required", code="INVALID_ARGUMENT")
        model = str(body["baseModel"])
        if self._base_name(model) is None:
            raise ApiError(404, f"Model {model!r} not found", code="NOT_FOUND")
        ident = request.query_one("deploymentId") or f"dep-{len(self._dedicated) + 1}"
        if not ID_PATTERN.fullmatch(ident):
            raise ApiError(400, f"deploymentId {ident!r} is not valid", code="INVALID_ARGUMENT")
        name = f"accounts/{request.params['acct']}/deployments/{ident}"
        if name in self._dedicated:
            raise ApiError(409, f"deployment {ident!r} already exists", code="ALREADY_EXISTS")
        deployment = Deployment(name, body, self._now(), self.pace)
        self._dedicated[name] = deployment
        self.deployments.setdefault(name, set()).add(model)
        return Response(json=deployment.to_json(self._now()))

    def _deployment(self, request: Request) -> Deployment:
        name = f"accounts/{request.params['acct']}/deployments/{request.params['id']}"
        found = self._dedicated.get(name)
        if found is None:
            raise ApiError(404, f"deployment {request.params['id']!r} not found", code="NOT_FOUND")
        return found

    def _get_deployment(self, request: Request) -> Response:
        return Response(json=self._deployment(request).to_json(self._now()))

    def _load_lora(self, request: Request) -> Response:
        body = request.json()
        if not isinstance(body, dict) or not body.get("model"):
            raise ApiError(400, "model is required", code="INVALID_ARGUMENT")
        model = str(body["model"])
        job = self._fine_tuned(model)
        if job is None or job.base is None:
            raise ApiError(404, f"Model {model!r} not found", code="NOT_FOUND")
        target = body.get("deployment")
        if not target:
            if not (job.base.serverless and job.base.supports_lora):
                raise ApiError(
                    400,
                    f"{job.base.name} has no serverless LoRA: give a deployment",
                    code="FAILED_PRECONDITION",
                )
            serverless = True
        else:
            serverless = False
            deployment = self._dedicated.get(str(target))
            if deployment is None:
                raise ApiError(404, f"deployment {target!r} not found", code="NOT_FOUND")
            if deployment.state(self._now()) != "READY":
                raise ApiError(
                    400, f"deployment {target!r} is not ready", code="FAILED_PRECONDITION"
                )
            if (
                not deployment.body.get("enableAddons")
                or deployment.body["baseModel"] != job.base.name
            ):
                raise ApiError(
                    400,
                    f"deployment {target!r} does not take addons of {job.base.name}",
                    code="FAILED_PRECONDITION",
                )
            deployment.loaded.add(model)
            self.deployments.setdefault(str(target), set()).add(model)
        ident = f"{model.rsplit('/', 1)[-1]}-{len(self._deployed) + 1}"
        name = f"accounts/{request.params['acct']}/deployedModels/{ident}"
        row: dict[str, Any] = {
            "name": name,
            "displayName": ident,
            "createTime": iso(self._now()),
            "model": model,
            "deployment": target or "",
            "default": bool(body.get("default")),
            "state": "DEPLOYED",
            "serverless": serverless,
            "status": {"code": "OK", "message": ""},
            "public": bool(body.get("public")),
        }
        self._deployed[name] = row
        return Response(json=row)

    def _get_deployed_model(self, request: Request) -> Response:
        name = f"accounts/{request.params['acct']}/deployedModels/{request.params['id']}"
        row = self._deployed.get(name)
        if row is None:
            raise ApiError(
                404, f"deployed model {request.params['id']!r} not found", code="NOT_FOUND"
            )
        return Response(json=row)

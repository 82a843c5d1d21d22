"""The Together emulator: files, fine-tunes and chat completions, as the ``together`` SDK speaks them.

from ftbridge_together.emulator import TogetherEmulator

with TogetherEmulator(pace=0.05) as server:      # 20x faster than the default timeline
    os.environ["TOGETHER_BASE_URL"] = server.base_url
    ...
"""

from __future__ import annotations

import hashlib
import json
import random
import threading
import time
import uuid
from typing import Any

from ftbridge.testing.emulator import ApiError, EmulatorServer, Request, Response

from . import _chat
from ._catalog import DEFAULT_MODELS, BaseModel
from ._files import FileRoutes, StoredFile
from ._jobs import Job, iso


class TogetherEmulator(FileRoutes, EmulatorServer):
    """A Together API on loopback. Give ``server.base_url`` to the SDK (``TOGETHER_BASE_URL``).

    Switches for tests: ``reject_next_file(message)`` makes Together's validation refuse the
    next uploaded file; ``fail_next_job(message)`` makes the next job end in ``error``;
    ``add_endpoint(name, model)`` serves a fine-tune on a dedicated endpoint. ``bodies(method,
    path_regex)`` returns the JSON bodies of the requests received.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        pace: float = 1.0,
        seed: int | None = 0,
        models: tuple[BaseModel, ...] = DEFAULT_MODELS,
    ) -> None:
        # The SDK's paths start with /v1, so its base URL is the bare server URL.
        super().__init__(host=host, port=port, pace=pace, seed=seed, api_prefix="")
        self.models = {m.name: m for m in models}
        self.files: dict[str, StoredFile] = {}
        self.jobs: dict[str, Job] = {}
        self.endpoints: dict[str, str] = {}
        self._lock = threading.RLock()
        self._ids = random.Random(seed)
        self._bodies: list[tuple[str, str, Any]] = []
        self._reject_files: list[str] = []
        self._fail_jobs: list[str] = []
        self._parts: dict[str, dict[int, bytes]] = {}
        routes = [
            ("POST", r"/v1/files", self._create_file),
            ("PUT", r"/_upload/(?P<id>[^/]+)", self._put_bytes),
            ("POST", r"/v1/files/(?P<id>[^/]+)/preprocess", self._preprocess),
            ("POST", r"/v1/files/multipart/initiate", self._multipart_initiate),
            ("PUT", r"/_upload/(?P<id>[^/]+)/parts/(?P<part>\d+)", self._multipart_put),
            ("POST", r"/v1/files/multipart/complete", self._multipart_complete),
            ("POST", r"/v1/files/multipart/abort", self._multipart_abort),
            ("GET", r"/v1/files", self._list_files),
            ("GET", r"/v1/files/(?P<id>[^/]+)", self._get_file),
            ("GET", r"/v1/files/(?P<id>[^/]+)/content", self._file_content),
            ("DELETE", r"/v1/files/(?P<id>[^/]+)", self._delete_file),
            ("GET", r"/v1/fine-tunes/models/limits", self._limits),
            ("GET", r"/v1/fine-tunes/models/supported", self._supported),
            ("POST", r"/v1/fine-tunes/estimate-price", self._estimate),
            ("POST", r"/v1/fine-tunes", self._create_job),
            ("GET", r"/v1/fine-tunes", self._list_jobs),
            ("GET", r"/v1/fine-tunes/(?P<id>[^/]+)", self._get_job),
            ("DELETE", r"/v1/fine-tunes/(?P<id>[^/]+)", self._delete_job),
            ("POST", r"/v1/fine-tunes/(?P<id>[^/]+)/cancel", self._cancel_job),
            ("GET", r"/v1/fine-tunes/(?P<id>[^/]+)/events", self._events),
            ("GET", r"/v1/fine-tunes/(?P<id>[^/]+)/checkpoints", self._checkpoints),
            ("GET", r"/v1/fine-tunes/(?P<id>[^/]+)/metrics", self._metrics),
            ("POST", r"/v1/chat/completions", self._chat),
        ]
        for method, path, handler in routes:
            self.add_route(method, path, self._recording(handler))

    # -- switches and inspection ----------------------------------------------------------

    def reject_next_file(self, message: str = "Invalid format: rejected by the emulator.") -> None:
        """Together's validation will mark the next uploaded file ``INVALID_FORMAT``."""
        with self._lock:
            self._reject_files.append(message)

    def fail_next_job(self, message: str = "Training failed: out of memory.") -> None:
        """The next job created fails halfway through training (status ``error``)."""
        with self._lock:
            self._fail_jobs.append(message)

    def add_endpoint(self, name: str, model: str) -> None:
        """Serve ``model`` (an output model name) on the dedicated endpoint ``name``."""
        with self._lock:
            self.endpoints[name] = model

    def bodies(self, method: str, path: str) -> list[Any]:
        """JSON bodies received for exactly ``method path`` (``None`` for non-JSON bodies)."""
        with self._lock:
            return [b for m, p, b in self._bodies if m == method.upper() and p == path]

    def error_body(
        self, status: int, message: str, code: str | None = None, param: str | None = None
    ) -> dict[str, Any]:
        kind = "invalid_request_error" if status < 500 else "server_error"
        if status == 429:
            kind = "rate_limit_exceeded"
        return {"error": {"message": message, "type": kind, "param": param, "code": code}}

    def _recording(self, handler: Any) -> Any:
        def handle(request: Request) -> Response:
            body: Any = None
            if request.headers.get("content-type", "").startswith("application/json"):
                try:
                    body = json.loads(request.body or b"null")
                except ValueError:
                    body = None
            with self._lock:
                self._bodies.append((request.method, request.path, body))
                return handler(request)

        return handle

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}-{uuid.UUID(int=self._ids.getrandbits(128), version=4)}"

    def _now(self) -> float:
        return time.time()

    # -- models and prices ----------------------------------------------------------------

    def _model(self, name: str | None, status: int = 404) -> BaseModel:
        model = self.models.get(name or "")
        if model is None:
            raise ApiError(
                status, f"Model {name!r} is not available for fine-tuning.", code="model_not_found"
            )
        return model

    def _limits(self, request: Request) -> Response:
        name = request.query_one("model_name")
        if name not in self.models:
            return Response(status=404, json={"message": f"Model {name!r} is not supported."})
        return Response(json=self.models[str(name)].limits())

    def _supported(self, request: Request) -> Response:
        return Response(json={"models": sorted(self.models)})

    def _estimate(self, request: Request) -> Response:
        body = request.json() or {}
        file = self.files.get(str(body.get("training_file")))
        if file is None or file.data is None:
            raise ApiError(404, "Training file not found.", param="training_file")
        status = self._file_status(file)
        if status != "COMPLETED":
            reason = (
                "train_file_invalid" if status == "INVALID_FORMAT" else "train_file_not_validated"
            )
            return Response(json={"estimation_available": False, "unavailable_reason": reason})
        model = self.models.get(str(body.get("model"))) or next(iter(self.models.values()))
        training = (body.get("training_type") or {}).get("type", "Lora")
        tokens = len(file.data) // 4 * int(body.get("n_epochs") or 1)
        price = tokens * model.price_per_million.get(training, 0.5) / 1_000_000
        return Response(
            json={
                "estimation_available": True,
                "allowed_to_proceed": price <= 100.0,
                "estimated_total_price": round(price, 6),
                "estimated_train_token_count": tokens,
                "estimated_eval_token_count": 0,
                "user_limit": 100.0,
            }
        )

    # -- fine-tuning jobs -----------------------------------------------------------------

    def _create_job(self, request: Request) -> Response:
        from ._validate import check_create

        body = request.json()
        if not isinstance(body, dict):
            raise ApiError(400, "The request body must be a JSON object.")
        base_name, parent = check_create(self, body)
        base = self._model(base_name, status=400)
        train = self.files[body["training_file"]]
        report = train.report or {}
        job_id = self._new_id("ft")
        suffix = body.get("suffix")
        short = base.name.rsplit("/", 1)[-1]
        tail = hashlib.sha256(job_id.encode()).hexdigest()[:8]
        output = (
            f"emulator-user/{short}-{suffix}-{tail}" if suffix else f"emulator-user/{short}-{tail}"
        )
        if parent is not None and body.get("training_type") is None:
            body = {**body, "training_type": parent.training_type}
        job = Job(
            id=job_id,
            body=body,
            base=base,
            output_name=output,
            created=self._now(),
            pace=self.pace,
            examples=int(report.get("nlines") or 1),
            tokens=max(1, len(train.data or b"") // 4),
            dataset_format=report.get("dataset_format"),
            fail_message=self._fail_jobs.pop(0) if self._fail_jobs else None,
        )
        job.plan()
        self.jobs[job_id] = job
        return Response(json=job.to_json(self._now(), truncated=True))

    def _job(self, job_id: str) -> Job:
        job = self.jobs.get(job_id)
        if job is None:
            raise ApiError(404, f"Fine-tune job {job_id} not found.", code="not_found")
        return job

    def _list_jobs(self, request: Request) -> Response:
        now = self._now()
        jobs = sorted(self.jobs.values(), key=lambda j: j.created, reverse=True)
        return Response(json={"data": [j.to_json(now, truncated=True) for j in jobs]})

    def _get_job(self, request: Request) -> Response:
        return Response(json=self._job(request.params["id"]).to_json(self._now()))

    def _delete_job(self, request: Request) -> Response:
        job = self._job(request.params["id"])
        del self.jobs[job.id]
        return Response(json={"message": f"Fine-tune job {job.id} deleted."})

    def _cancel_job(self, request: Request) -> Response:
        job = self._job(request.params["id"])
        now = self._now()
        status = job.status_at(now)
        if status in ("cancel_requested", "cancelled", "error", "completed", "user_error"):
            raise ApiError(400, f"Job {job.id} cannot be cancelled: its status is {status}.")
        job.cancel(now)
        return Response(json=job.to_json(now, truncated=True))

    def _events(self, request: Request) -> Response:
        return Response(json={"data": self._job(request.params["id"]).events(self._now())})

    def _checkpoints(self, request: Request) -> Response:
        return Response(json={"data": self._job(request.params["id"]).checkpoints(self._now())})

    def _metrics(self, request: Request) -> Response:
        rows = self._job(request.params["id"]).metrics(self._now())
        low, high = request.query_one("global_step_from"), request.query_one("global_step_to")

        def step(row: dict[str, float]) -> float:
            return row.get("train/global_step", row.get("eval/global_step", 0))

        if low is not None:
            rows = [r for r in rows if step(r) >= int(low)]
        if high is not None:
            rows = [r for r in rows if step(r) <= int(high)]
        return Response(json={"metrics": rows})

    # -- inference ------------------------------------------------------------------------

    def _chat(self, request: Request) -> Response:
        body = request.json()
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            raise ApiError(400, "'messages' is required and must be a list.", param="messages")
        name = str(body.get("model") or "")
        served = self._servable(name)
        if body.get("stream"):
            return Response(stream=_chat.sse(_chat.chunks(served, body)))
        return Response(json=_chat.completion(served, body))

    def _servable(self, name: str) -> str:
        if name in self.endpoints or name in self.models:
            return name
        now = self._now()
        job = next((j for j in self.jobs.values() if j.output_name == name), None)
        if job is None or job.status_at(now) != "completed":
            raise ApiError(
                404, f"Unable to access model {name}. Model not found.", code="model_not_found"
            )
        if not (job.lora and job.base.serverless_lora):
            raise ApiError(
                400,
                f"Unable to access non-serverless model {name}. Please visit "
                f"https://api.together.ai/models/{name} to create and start a new dedicated "
                "endpoint for the model.",
                code="model_not_available",
            )
        return name


__all__ = ["TogetherEmulator", "iso"]

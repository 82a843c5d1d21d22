"""The OpenAI emulator: files, uploads, fine-tuning jobs and chat completions on loopback."""

from __future__ import annotations

import hashlib
import random
import threading
import time
from datetime import date
from typing import Any

from ftbridge.testing.emulator import ApiError, EmulatorServer, Request, Response

from .._inventory import CLOSING
from . import _schemas
from ._chat import completion
from ._files import FilesMixin, cursor_page
from ._jobs import TERMINAL, JobClock, JobRecord, job_object
from ._models import ModelsMixin

# Base models accepted for fine-tuning, with the snapshot a job reports.
BASE_MODELS = {
    "gpt-4o-mini": "gpt-4o-mini-2024-07-18",
    "gpt-4o-mini-2024-07-18": "gpt-4o-mini-2024-07-18",
    "gpt-4o": "gpt-4o-2024-08-06",
    "gpt-4o-2024-08-06": "gpt-4o-2024-08-06",
    "gpt-4.1": "gpt-4.1-2025-04-14",
    "gpt-4.1-2025-04-14": "gpt-4.1-2025-04-14",
    "gpt-4.1-mini": "gpt-4.1-mini-2025-04-14",
    "gpt-4.1-mini-2025-04-14": "gpt-4.1-mini-2025-04-14",
    "gpt-4.1-nano": "gpt-4.1-nano-2025-04-14",
    "gpt-4.1-nano-2025-04-14": "gpt-4.1-nano-2025-04-14",
    "gpt-3.5-turbo": "gpt-3.5-turbo-0125",
    "babbage-002": "babbage-002",
    "davinci-002": "davinci-002",
}
_ERROR_TYPES = {401: "invalid_request_error", 403: "invalid_request_error", 429: "requests"}


class OpenAIEmulator(ModelsMixin, FilesMixin, EmulatorServer):
    """OpenAI's fine-tuning API on loopback, for the official ``openai`` SDK.

    >>> with OpenAIEmulator(pace=0.05) as server:          # jobs finish in a fraction of a second
    ...     client = openai.OpenAI(base_url=server.base_url, api_key="sk-test", max_retries=0)

    ``api_key``: when set, only that key is accepted (401 otherwise); any non-empty key by
    default. ``reject_training``: when set, every job's file validation fails with that message.
    Jobs take about 3.5 s × ``pace``. ``closed``, ``today`` and ``shutdowns`` play a provider
    that winds fine-tuning down (see ``_models.py``).
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        pace: float = 1.0,
        seed: int | None = 0,
        api_key: str | None = None,
        reject_training: str | None = None,
        closed: bool = False,
        today: date | None = None,
        shutdowns: dict[str, date] | None = None,
    ) -> None:
        super().__init__(host=host, port=port, pace=pace, seed=seed)
        self.closed = closed
        self.today = today
        self.base_models = BASE_MODELS
        self.shutdowns = dict(CLOSING.model_shutdowns if shutdowns is None else shutdowns)
        self._api_key_digest = _digest(api_key) if api_key else None
        self.reject_training = reject_training
        self._lock = threading.RLock()
        self._rng = random.Random(seed)
        self.files = {}
        self.uploads = {}
        self.jobs: dict[str, JobRecord] = {}
        self.clock = JobClock(pace, self._rng, self._new_id, self._add_result_file, self._rejection)
        route = self.add_route
        job = r"/v1/fine_tuning/jobs/(?P<job_id>[^/]+)"
        route("POST", r"/v1/files", self._create_file)
        route("GET", r"/v1/files", self._list_files)
        route("GET", r"/v1/files/(?P<file_id>[^/]+)", self._retrieve_file)
        route("DELETE", r"/v1/files/(?P<file_id>[^/]+)", self._delete_file)
        route("GET", r"/v1/files/(?P<file_id>[^/]+)/content", self._file_content)
        route("POST", r"/v1/uploads", self._create_upload)
        route("POST", r"/v1/uploads/(?P<upload_id>[^/]+)/parts", self._add_part)
        route("POST", r"/v1/uploads/(?P<upload_id>[^/]+)/complete", self._complete_upload)
        route("POST", r"/v1/uploads/(?P<upload_id>[^/]+)/cancel", self._cancel_upload)
        route("POST", r"/v1/fine_tuning/jobs", self._create_job)
        route("GET", r"/v1/fine_tuning/jobs", self._list_jobs)
        route("GET", job, self._retrieve_job)
        route("GET", job + "/events", self._list_events)
        route("GET", job + "/checkpoints", self._list_checkpoints)
        route("POST", job + "/cancel", self._cancel_job)
        route("POST", job + "/pause", self._pause_job)
        route("POST", job + "/resume", self._resume_job)
        route("POST", r"/v1/chat/completions", self._chat)
        route("GET", r"/v1/models", self._list_models)
        route("GET", r"/v1/models/(?P<model>[^/]+)", self._retrieve_model)

    # -- envelope, auth ------------------------------------------------------------------------

    def error_body(
        self, status: int, message: str, code: str | None = None, param: str | None = None
    ) -> dict[str, Any]:
        kind = _ERROR_TYPES.get(
            status, "server_error" if status >= 500 else "invalid_request_error"
        )
        return {"error": {"message": message, "type": kind, "param": param, "code": code}}

    def dispatch(self, request: Request) -> Response:
        auth = request.headers.get("authorization", "")
        key = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
        if not key:
            return self.error(
                401,
                "You didn't provide an API key. You need to provide your API key in an "
                "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
            )
        if self._api_key_digest is not None and _digest(key) != self._api_key_digest:
            # Never echo the key back: the message would end up in logs.
            return self.error(401, "Incorrect API key provided.", code="invalid_api_key")
        with self._lock:
            return super().dispatch(request)

    # -- helpers -------------------------------------------------------------------------------

    def _new_id(self, prefix: str) -> str:
        with self._lock:
            token = "".join(
                self._rng.choices(
                    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", k=22
                )
            )
        separator = "_" if prefix in ("ftckpt", "upload", "part") else "-"
        return f"{prefix}{separator}{token}"

    def _rejection(self) -> str | None:
        return self.reject_training

    def _job(self, job_id: str) -> JobRecord:
        job = self.jobs.get(job_id)
        if job is None:
            raise ApiError(404, f"Could not find fine-tune: {job_id}", param="fine_tuning_job_id")
        self.clock.advance(job)
        return job

    # -- fine-tuning jobs ----------------------------------------------------------------------

    def _create_job(self, request: Request) -> Response:
        body = request.json()
        _schemas.check("CreateFineTuningJobRequest", body)
        self.refuse_if_closed()
        model = body["model"]
        resolved = BASE_MODELS.get(model)
        if resolved is None and not any(j.fine_tuned_model == model for j in self.jobs.values()):
            raise ApiError(
                400,
                f"Model {model} is not available for fine-tuning or does not exist.",
                param="model",
                code="model_not_available",
            )
        training = self._file(body["training_file"], "training_file")
        validation = (
            self._file(body["validation_file"], "validation_file")
            if body.get("validation_file")
            else None
        )
        for stored, param in ((training, "training_file"), (validation, "validation_file")):
            if stored is not None and stored.purpose != "fine-tune":
                raise ApiError(
                    400, f"File {stored.id} does not have purpose 'fine-tune'.", param=param
                )
        method = dict(body.get("method") or {"type": "supervised"})
        if method["type"] == "reinforcement":
            raise ApiError(
                400, "This emulator does not run reinforcement fine-tuning.", param="method.type"
            )
        legacy = body.get("hyperparameters")
        if legacy and not method.get(method["type"]):
            method[method["type"]] = {"hyperparameters": legacy}
        suffix = body.get("suffix")
        tag = "".join(self._rng.choices("abcdefghijklmnopqrstuvwxyz0123456789", k=8))
        base = resolved or model
        job = JobRecord(
            id=self._new_id("ftjob"),
            created_at=int(time.time()),
            model=base,
            training_file=training.id,
            training_content=training.content,
            validation_file=validation.id if validation else None,
            validation_content=validation.content if validation else None,
            method=method,
            suffix=suffix,
            seed=body["seed"] if body.get("seed") is not None else self._rng.randrange(2**31),
            metadata=body.get("metadata"),
            integrations=body.get("integrations"),
            fine_tuned_name=f"ft:{base}:ftbridge-emulator:{suffix or ''}:{tag}",
        )
        self.jobs[job.id] = job
        self.clock.start(job)
        return Response(json=job_object(job))

    def _list_jobs(self, request: Request) -> Response:
        wanted = {
            key[len("metadata[") : -1]: values[0]
            for key, values in request.query.items()
            if key.startswith("metadata[") and key.endswith("]")
        }
        null_only = request.query_one("metadata") == "null"
        jobs = []
        for job in reversed(list(self.jobs.values())):  # newest first
            if null_only and job.metadata:
                continue
            if any((job.metadata or {}).get(k) != v for k, v in wanted.items()):
                continue
            self.clock.advance(job)
            jobs.append(job_object(job))
        return Response(json=cursor_page(jobs, request, 20))

    def _retrieve_job(self, request: Request) -> Response:
        return Response(json=job_object(self._job(request.params["job_id"])))

    def _list_events(self, request: Request) -> Response:
        job = self._job(request.params["job_id"])
        return Response(json=cursor_page(list(reversed(job.events)), request, 20))

    def _list_checkpoints(self, request: Request) -> Response:
        job = self._job(request.params["job_id"])
        page = cursor_page(list(reversed(job.checkpoints)), request, 10)
        page["first_id"] = page["data"][0]["id"] if page["data"] else None
        page["last_id"] = page["data"][-1]["id"] if page["data"] else None
        return Response(json=page)

    def _cancel_job(self, request: Request) -> Response:
        job = self._job(request.params["job_id"])
        if job.status in TERMINAL:
            raise ApiError(400, f"Job {job.id} has already {job.status}; it cannot be cancelled.")
        self.clock.cancel(job)
        return Response(json=job_object(job))

    def _pause_job(self, request: Request) -> Response:
        job = self._job(request.params["job_id"])
        if job.status != "running":
            raise ApiError(400, f"Job {job.id} is {job.status}; only a running job can be paused.")
        self.clock.pause(job)
        return Response(json=job_object(job))

    def _resume_job(self, request: Request) -> Response:
        job = self._job(request.params["job_id"])
        if job.status != "paused":
            raise ApiError(400, f"Job {job.id} is {job.status}; only a paused job can be resumed.")
        self.clock.resume(job)
        return Response(json=job_object(job))

    # -- inference -----------------------------------------------------------------------------

    def _chat(self, request: Request) -> Response:
        body = request.json()
        _schemas.check("CreateChatCompletionRequest", body)
        model = body["model"]
        known = False
        for job in self.jobs.values():
            self.clock.advance(job)
            if job.fine_tuned_model == model or any(
                c["fine_tuned_model_checkpoint"] == model for c in job.checkpoints
            ):
                known = True
                break
        if not known or self.is_shut_down(model):
            raise ApiError(
                404,
                f"The model `{model}` does not exist or you do not have access to it.",
                param="model",
                code="model_not_found",
            )
        return completion(body, self._new_id("chatcmpl"))


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()

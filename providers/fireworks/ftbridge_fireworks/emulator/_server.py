"""The Fireworks emulator: datasets, SFT and DPO jobs, models and chat, as the SDK speaks them.

    from ftbridge_fireworks.emulator import FireworksEmulator

    with FireworksEmulator(pace=0.05) as server:      # 20x faster than the default timeline
        os.environ["FIREWORKS_BASE_URL"] = server.base_url
        ...

With its base URL overridden the SDK sends every route, inference included, to
``<base_url>/v1/...``, so one server answers both planes. Control-plane errors use the gRPC
gateway envelope ``{"code": <int>, "message", "details"}``; inference errors the OpenAI-style
``{"error": {"object", "type", "code", "message"}}``.
"""

from __future__ import annotations

import json
import random
import threading
from typing import Any

from ftbridge.testing.emulator import ApiError, EmulatorServer, Request, Response

from . import _chat
from ._catalog import DEFAULT_MODELS, BaseModel
from ._datasets import ID_PATTERN, DatasetRoutes, StoredDataset
from ._deployments import Deployment, DeploymentRoutes
from ._jobs import RESUMABLE, TERMINAL, Job
from ._wire import grpc_code, iso

A = r"/v1/accounts/(?P<acct>[^/]+)"
ID = r"(?P<id>[^/:]+)"
MAX_PAGE = 200
DEFAULT_PAGE = 50

# The create fields each route takes (the SDK's params, camelCase); anything else is refused.
_TRAINING = {
    "baseModel", "warmStartFrom", "outputModel", "epochs", "learningRate", "loraRank",
    "batchSize", "batchSizeSamples", "maxContextLength", "learningRateWarmupSteps",
    "gradientAccumulationSteps", "optimizerWeightDecay", "jinjaTemplate", "region",
    "samplerCheckpointSaveIntervalSteps",
}  # fmt: skip
_SFT_FIELDS = _TRAINING | {
    "dataset", "awsS3Config", "azureBlobStorageConfig", "displayName", "earlyStop",
    "evalAutoCarveout", "evaluationDataset", "isTurbo", "metricsFileSignedUrl", "mtpEnabled",
    "mtpFreezeBaseModel", "mtpNumDraftTokens", "nodes", "rendererHuggingFaceRepoId",
    "usePurpose", "reservationTarget", "useReservation", "wandbConfig",
}  # fmt: skip
_DPO_FIELDS = {
    "dataset", "awsS3Config", "azureBlobStorageConfig", "displayName", "lossConfig",
    "rendererHuggingFaceRepoId", "reservationTarget", "trainingConfig", "useReservation",
    "wandbConfig",
}  # fmt: skip
_COLLECTIONS = {"supervisedFineTuningJobs": "sft", "dpoJobs": "dpo"}
_ID_PARAM = {"sft": "supervisedFineTuningJobId", "dpo": "dpoJobId"}


class FireworksEmulator(DatasetRoutes, DeploymentRoutes, EmulatorServer):
    """A Fireworks API on loopback. Give ``server.base_url`` to the SDK (``FIREWORKS_BASE_URL``).

    Switches for tests: ``reject_next_dataset(message)`` makes the next uploaded dataset fail
    processing; ``fail_next_job(message)`` makes the next job fail halfway through training;
    ``add_deployment(id, model, account)`` serves a model on a deployment at once (the
    ``/deployments`` and ``/deployedModels`` routes do the same the way Fireworks does). ``bodies(method,
    path)`` returns the JSON bodies received; ``jobs`` and ``datasets`` hold the state.
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
        self.datasets: dict[tuple[str, str], StoredDataset] = {}
        self.jobs: dict[tuple[str, str, str], Job] = {}  # (account, kind, id)
        self.deployments: dict[str, set[str]] = {}  # deployment name -> models it serves
        self._dedicated: dict[str, Deployment] = {}  # created through the API
        self._deployed: dict[str, dict[str, Any]] = {}  # deployedModels (LoRA loads)
        self._lock = threading.RLock()
        self._ids = random.Random(seed)
        self._bodies: list[tuple[str, str, Any]] = []
        self._reject_datasets: list[str] = []
        self._fail_jobs: list[str] = []
        self._where = threading.local()
        routes: list[tuple[str, str, Any]] = [
            ("POST", rf"{A}/datasets", self._create_dataset),
            ("GET", rf"{A}/datasets", self._list_datasets),
            ("GET", rf"{A}/datasets/{ID}", self._get_dataset),
            ("DELETE", rf"{A}/datasets/{ID}", self._delete_dataset),
            ("POST", rf"{A}/datasets/{ID}:upload", self._upload_dataset),
            ("POST", rf"{A}/datasets/{ID}:getUploadEndpoint", self._upload_endpoint),
            ("POST", rf"{A}/datasets/{ID}:validateUpload", self._validate_upload),
            ("GET", rf"{A}/models", self._list_models),
            ("GET", rf"{A}/models/{ID}", self._get_model),
            ("GET", rf"{A}/dpoJobs/{ID}:getMetricsFileEndpoint", self._metrics_endpoint),
            ("POST", rf"{A}/deployments", self._create_deployment),
            ("GET", rf"{A}/deployments/{ID}", self._get_deployment),
            ("POST", rf"{A}/deployedModels", self._load_lora),
            ("GET", rf"{A}/deployedModels/{ID}", self._get_deployed_model),
            ("POST", r"/v1/chat/completions", self._chat),
        ]
        for collection in _COLLECTIONS:
            c = rf"{A}/(?P<coll>{collection})"
            routes += [
                ("POST", c, self._create_job),
                ("GET", c, self._list_jobs),
                ("GET", rf"{c}/{ID}", self._get_job),
                ("DELETE", rf"{c}/{ID}", self._delete_job),
                ("POST", rf"{c}/{ID}:cancel", self._cancel_job),
                ("POST", rf"{c}/{ID}:resume", self._resume_job),
            ]
        for method, path, handler in routes:
            self.add_route(method, path, self._api(handler))
        # Signed URLs and files: storage, not the API (no Fireworks key, no gateway envelope).
        signed = r"/_signed/(?P<acct>[^/]+)/(?P<id>[^/]+)/(?P<file>[^/?]+)"
        self.add_route("PUT", signed, self._locked(self._signed_put))
        metrics = r"/_files/metrics/(?P<acct>[^/]+)/(?P<kind>sft|dpo)/(?P<id>[^/]+)\.jsonl"
        self.add_route("GET", metrics, self._locked(self._metrics_file))

    # -- switches and inspection ----------------------------------------------------------

    def reject_next_dataset(self, message: str = "Line 1: the dataset is not valid.") -> None:
        """The next dataset whose bytes arrive fails processing with ``message``."""
        with self._lock:
            self._reject_datasets.append(message)

    def fail_next_job(self, message: str = "Training failed: CUDA out of memory.") -> None:
        """The next job created fails halfway through training."""
        with self._lock:
            self._fail_jobs.append(message)

    def add_deployment(self, deployment: str, model: str, account: str = "emulator") -> str:
        """Serve ``model`` on the deployment ``deployment``; returns the deployment's name."""
        name = (
            deployment
            if deployment.startswith("accounts/")
            else (f"accounts/{account}/deployments/{deployment}")
        )
        with self._lock:
            self.deployments.setdefault(name, set()).add(model)
        return name

    def bodies(self, method: str, path: str) -> list[Any]:
        """JSON bodies received for exactly ``method path`` (``None`` for non-JSON bodies)."""
        with self._lock:
            return [b for m, p, b in self._bodies if m == method.upper() and p == path]

    def job(self, job_id: str) -> Job:
        """The job with this id, whatever its account and kind."""
        with self._lock:
            return next(j for (_, _, i), j in self.jobs.items() if i == job_id)

    # -- plumbing -------------------------------------------------------------------------

    def _serve(self, request: Request) -> Response:
        self._where.inference = request.path.startswith("/v1/chat/") or request.path.startswith(
            "/v1/completions"
        )
        return super()._serve(request)

    def error_body(
        self, status: int, message: str, code: str | None = None, param: str | None = None
    ) -> dict[str, Any]:
        if getattr(self._where, "inference", False):
            kind = "invalid_request_error" if status < 500 else "internal_server_error"
            if status == 429:
                kind = "rate_limit_error"
            return {"error": {"object": "error", "type": kind, "code": code, "message": message}}
        return {"code": grpc_code(status, code), "message": message, "details": []}

    def _api(self, handler: Any) -> Any:
        def handle(request: Request) -> Response:
            auth = request.headers.get("authorization", "")
            if not auth.startswith("Bearer ") or not auth.removeprefix("Bearer ").strip():
                raise ApiError(401, "unauthenticated: missing API key", code="UNAUTHENTICATED")
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

    def _locked(self, handler: Any) -> Any:
        def handle(request: Request) -> Response:
            with self._lock:
                return handler(request)

        return handle

    def _page(self, request: Request, items: list[dict[str, Any]], key: str) -> Response:
        """One page of ``items`` as ``{<key>: [...], nextPageToken, totalSize}``."""
        try:
            size = int(request.query_one("pageSize") or DEFAULT_PAGE)
            start = int((request.query_one("pageToken") or "o0").removeprefix("o"))
        except ValueError:
            raise ApiError(400, "invalid pageSize or pageToken", code="INVALID_ARGUMENT") from None
        size = min(MAX_PAGE, size) if size > 0 else DEFAULT_PAGE
        if (request.query_one("orderBy") or "").replace(" ", "") == "createTimedesc":
            items = sorted(items, key=lambda i: str(i.get("createTime")), reverse=True)
        chunk = items[start : start + size]
        out: dict[str, Any] = {key: chunk, "totalSize": len(items)}
        if start + size < len(items):
            out["nextPageToken"] = f"o{start + size}"
        return Response(json=out)

    def _new_id(self) -> str:
        return "".join(self._ids.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(12))

    # -- jobs -----------------------------------------------------------------------------

    def _ready_dataset(self, name: Any, account: str, field: str) -> StoredDataset:
        parts = str(name or "").split("/")
        stored = None
        if len(parts) == 4 and parts[0] == "accounts" and parts[2] == "datasets":
            stored = self.datasets.get((parts[1], parts[3]))
        if stored is None:
            raise ApiError(400, f"{field} {name!r} not found", code="INVALID_ARGUMENT")
        if stored.state(self._now()) != "READY":
            raise ApiError(
                400, f"{field} {name!r} is not ready (state UPLOADING)", code="FAILED_PRECONDITION"
            )
        return stored

    def _base_of(self, config: dict[str, Any]) -> BaseModel:
        start = [k for k in ("baseModel", "warmStartFrom") if config.get(k)]
        if len(start) != 1:
            raise ApiError(
                400,
                "exactly one of baseModel or warmStartFrom must be set",
                code="INVALID_ARGUMENT",
            )
        if start[0] == "warmStartFrom":
            parent = self._fine_tuned(str(config["warmStartFrom"]))
            if parent is None or parent.base is None:
                raise ApiError(
                    400, f"warmStartFrom {config['warmStartFrom']!r} not found", code="NOT_FOUND"
                )
            return parent.base
        base = self.models.get(str(config["baseModel"]))
        if base is None:
            raise ApiError(404, f"Model {config['baseModel']!r} not found", code="NOT_FOUND")
        if not base.tunable:
            raise ApiError(400, f"Model {base.name} is not tunable", code="FAILED_PRECONDITION")
        return base

    def _create_job(self, request: Request) -> Response:
        kind = _COLLECTIONS[request.params["coll"]]
        account = request.params["acct"]
        body = request.json()
        if not isinstance(body, dict):
            raise ApiError(400, "The request body must be a JSON object", code="INVALID_ARGUMENT")
        unknown = set(body) - (_DPO_FIELDS if kind == "dpo" else _SFT_FIELDS)
        if unknown:
            raise ApiError(400, f"unknown field {sorted(unknown)[0]!r}", code="INVALID_ARGUMENT")
        config = body.get("trainingConfig") or {} if kind == "dpo" else body
        if kind == "dpo" and set(config) - _TRAINING:
            extra = sorted(set(config) - _TRAINING)[0]
            raise ApiError(400, f"unknown field 'trainingConfig.{extra}'", code="INVALID_ARGUMENT")
        base = self._base_of(config)
        rank = config.get("loraRank")
        if rank is not None and (
            not isinstance(rank, int) or rank < 1 or rank > 64 or rank & (rank - 1)
        ):
            raise ApiError(400, "loraRank must be a power of 2 up to 64", code="INVALID_ARGUMENT")
        epochs = config.get("epochs")
        if epochs is not None and (not isinstance(epochs, int) or epochs < 1):
            raise ApiError(400, "epochs must be a positive int32", code="INVALID_ARGUMENT")
        dataset = self._ready_dataset(body.get("dataset"), account, "dataset")
        if body.get("evaluationDataset"):
            self._ready_dataset(body["evaluationDataset"], account, "evaluationDataset")
        job_id = request.query_one(_ID_PARAM[kind]) or self._new_id()
        if not ID_PATTERN.fullmatch(job_id):
            raise ApiError(
                400, f"job id {job_id!r} is not a valid resource id", code="INVALID_ARGUMENT"
            )
        key = (account, kind, job_id)
        if key in self.jobs:
            raise ApiError(409, f"job {job_id!r} already exists", code="ALREADY_EXISTS")
        job = Job(
            kind=kind,
            account=account,
            id=job_id,
            body=body,
            base=base,
            examples=int(dataset.body.get("exampleCount") or 1),
            created=self._now(),
            pace=self.pace,
            fail_message=self._fail_jobs.pop(0) if self._fail_jobs else None,
        )
        self.jobs[key] = job
        return Response(json=self._job_json(job))

    def _job(self, request: Request) -> Job:
        kind = _COLLECTIONS[request.params["coll"]] if "coll" in request.params else "dpo"
        job = self.jobs.get((request.params["acct"], kind, request.params["id"]))
        if job is None:
            raise ApiError(404, f"job {request.params['id']!r} not found", code="NOT_FOUND")
        return job

    def _job_json(self, job: Job) -> dict[str, Any]:
        url = f"{self.url}/_files/metrics/{job.account}/{job.kind}/{job.id}.jsonl"
        return job.to_json(self._now(), metrics_url=url)

    def _get_job(self, request: Request) -> Response:
        return Response(json=self._job_json(self._job(request)))

    def _list_jobs(self, request: Request) -> Response:
        kind = _COLLECTIONS[request.params["coll"]]
        rows = [
            self._job_json(j)
            for (a, k, _), j in sorted(self.jobs.items())
            if a == request.params["acct"] and k == kind
        ]
        return self._page(request, rows, request.params["coll"])

    def _delete_job(self, request: Request) -> Response:
        job = self._job(request)
        del self.jobs[(job.account, job.kind, job.id)]
        return Response(json={})

    def _cancel_job(self, request: Request) -> Response:
        job = self._job(request)
        state = job.state(self._now())
        if state in TERMINAL:
            raise ApiError(
                400,
                f"job {job.id!r} is {state} and cannot be cancelled",
                code="FAILED_PRECONDITION",
            )
        if state != "JOB_STATE_CANCELLING":
            job.cancel(self._now())
        return Response(json={})

    def _resume_job(self, request: Request) -> Response:
        job = self._job(request)
        state = job.state(self._now())
        if state not in RESUMABLE:
            raise ApiError(
                400,
                f"job {job.id!r} is {state}; only a failed, cancelled or paused job resumes",
                code="FAILED_PRECONDITION",
            )
        job.resume(self._now())
        return Response(json=self._job_json(job))

    def _metrics_endpoint(self, request: Request) -> Response:
        job = self._job(request)
        return Response(
            json={"signedUrl": f"{self.url}/_files/metrics/{job.account}/dpo/{job.id}.jsonl"}
        )

    def _metrics_file(self, request: Request) -> Response:
        job = self.jobs.get((request.params["acct"], request.params["kind"], request.params["id"]))
        if job is None:
            return Response(status=404, body=b"<Error><Code>NoSuchKey</Code></Error>")
        rows = job.metrics_rows(self._now())
        return Response(body=b"".join(json.dumps(r).encode() + b"\n" for r in rows))

    # -- models ---------------------------------------------------------------------------

    def _fine_tuned(self, name: str) -> Job | None:
        """The completed job whose output model is ``name``."""
        now = self._now()
        return next(
            (
                j
                for j in self.jobs.values()
                if j.output_model == name and j.state(now) == "JOB_STATE_COMPLETED"
            ),
            None,
        )

    def _model_json(self, job: Job) -> dict[str, Any]:
        assert job.base is not None
        return {
            "name": job.output_model,
            "displayName": job.output_model.rsplit("/", 1)[-1],
            "createTime": iso(job.created),
            "state": "READY",
            "status": {"code": "OK", "message": ""},
            "kind": "HF_PEFT_ADDON",
            "peftDetails": {
                "baseModel": job.base.name,
                "r": int(job.config.get("loraRank") or 8),
                "targetModules": ["q_proj", "k_proj", "v_proj", "o_proj"],
            },
            "fineTuningJob": job.name,
            "contextLength": job.base.context_length,
            "supportsServerless": job.base.serverless,
        }

    def _get_model(self, request: Request) -> Response:
        name = f"accounts/{request.params['acct']}/models/{request.params['id']}"
        if name in self.models:
            return Response(json=self.models[name].to_json())
        job = self._fine_tuned(name)
        if job is None:
            raise ApiError(404, f"Model {name!r} not found", code="NOT_FOUND")
        return Response(json=self._model_json(job))

    def _list_models(self, request: Request) -> Response:
        acct = request.params["acct"]
        if acct == "fireworks":
            rows = [m.to_json() for _, m in sorted(self.models.items())]
        else:
            now = self._now()
            rows = [
                self._model_json(j)
                for (a, _, _), j in sorted(self.jobs.items())
                if a == acct and j.state(now) == "JOB_STATE_COMPLETED"
            ]
        return self._page(request, rows, "models")

    # -- inference ------------------------------------------------------------------------

    def _chat(self, request: Request) -> Response:
        body = request.json()
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            raise ApiError(400, "'messages' is required and must be a list", code="invalid_request")
        served = self._servable(str(body.get("model") or ""))
        if body.get("stream"):
            return Response(stream=_chat.sse(_chat.chunks(served, body)))
        return Response(json=_chat.completion(served, body))

    def _servable(self, target: str) -> str:
        model, _, deployment = target.partition("#")
        not_found = ApiError(
            404,
            f"Model not found, inaccessible, and/or not deployed: {target}",
            code="NOT_FOUND",
        )
        if deployment:
            created = self._dedicated.get(deployment)
            if created is not None and created.state(self._now()) != "READY":
                raise not_found
            if model not in self.deployments.get(deployment, set()):
                raise not_found
            return target
        base = self.models.get(model)
        if base is not None:
            if not base.serverless:
                raise not_found
            return model
        job = self._fine_tuned(model)
        if job is None or job.base is None or not (job.base.serverless and job.base.supports_lora):
            raise not_found
        return model


__all__ = ["FireworksEmulator"]

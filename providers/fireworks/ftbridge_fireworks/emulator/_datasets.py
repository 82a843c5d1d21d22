"""Dataset routes of the emulator: the record, direct and signed-URL uploads, processing.

A dataset is ``UPLOADING`` from its creation until its bytes have arrived and been processed
(``PROCESS_TAKES`` seconds at pace 1); then ``READY``, or still ``UPLOADING`` with a ``status``
whose code is ``INVALID_ARGUMENT`` when the emulator's checks (Fireworks' documented data
rules) or ``reject_next_dataset`` refused it.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from ftbridge.testing.emulator import ApiError, Request, Response

from ._wire import GRPC, iso

PROCESS_TAKES = 0.5
DIRECT_LIMIT = 150 * 1000 * 1000
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_ROLES = {"system", "user", "assistant"}


@dataclass
class StoredDataset:
    account: str
    id: str
    body: dict[str, Any]
    created: float
    files: dict[str, bytes] = field(default_factory=dict)
    expected: dict[str, int] = field(default_factory=dict)  # signed uploads: name -> size
    processed_at: float | None = None
    problem: str | None = None

    @property
    def name(self) -> str:
        return f"accounts/{self.account}/datasets/{self.id}"

    def data(self) -> bytes:
        return b"".join(self.files[name] for name in sorted(self.files))

    def state(self, now: float) -> str:
        if self.processed_at is not None and now >= self.processed_at and self.problem is None:
            return "READY"
        return "UPLOADING"

    def to_json(self, now: float) -> dict[str, Any]:
        rejected = self.processed_at is not None and now >= self.processed_at and self.problem
        out: dict[str, Any] = {
            "name": self.name,
            "displayName": self.body.get("displayName") or self.id,
            "createTime": iso(self.created),
            "updateTime": iso(
                self.processed_at
                if self.processed_at and now >= self.processed_at
                else self.created
            ),
            "state": self.state(now),
            "status": {"code": "INVALID_ARGUMENT", "message": self.problem}
            if rejected
            else {"code": "OK", "message": ""},
            "exampleCount": str(self.body.get("exampleCount") or "0"),
            "userUploaded": {},
            "format": self.body.get("format") or "FORMAT_UNSPECIFIED",
            "createdBy": "emulator@example.com",
        }
        if self.state(now) == "READY":
            out["estimatedTokenCount"] = str(max(1, len(self.data()) // 4))
        return out


def check_rows(data: bytes, expected_count: int) -> str | None:
    """The first problem with the bytes under Fireworks' documented rules, or None."""
    lines = [line for line in data.splitlines() if line.strip()]
    if len(lines) < 3:
        return f"The dataset has {len(lines)} examples; at least 3 are required."
    if expected_count and expected_count != len(lines):
        return f"exampleCount is {expected_count} but the file has {len(lines)} examples."
    for number, line in enumerate(lines, 1):
        try:
            row = json.loads(line)
        except ValueError:
            return f"Line {number} is not valid JSON."
        if not isinstance(row, dict):
            return f"Line {number} is not a JSON object."
        if "input" in row and "preferred_output" in row:
            messages = (row.get("input") or {}).get("messages")
            if not isinstance(messages, list) or not row.get("non_preferred_output"):
                return (
                    f"Line {number}: a preference example needs input.messages, "
                    "preferred_output and non_preferred_output."
                )
            continue
        messages = row.get("messages")
        if not isinstance(messages, list) or not messages:
            return f"Line {number}: 'messages' must be a non-empty list."
        for index, message in enumerate(messages):
            role = message.get("role") if isinstance(message, dict) else None
            if role not in _ROLES and role != "tool":
                return f"Line {number}: messages[{index}].role {role!r} is not supported."
            if role == "system" and index:
                return f"Line {number}: a system message must come first."
            if "weight" in message and message["weight"] not in (0, 1):
                return f"Line {number}: messages[{index}].weight must be 0 or 1."
    return None


class DatasetRoutes:
    """Mixin of ``FireworksEmulator``: everything under ``/v1/accounts/{a}/datasets``."""

    datasets: dict[tuple[str, str], StoredDataset]
    pace: float
    _lock: threading.RLock
    _reject_datasets: list[str]
    url: str

    def _now(self) -> float:
        return time.time()

    def _page(self, request: Request, items: list[dict[str, Any]], key: str) -> Response:
        raise NotImplementedError  # provided by the server

    def _dataset(self, request: Request) -> StoredDataset:
        found = self.datasets.get((request.params["acct"], request.params["id"]))
        if found is None:
            raise ApiError(404, f"Dataset {request.params['id']!r} not found", code="NOT_FOUND")
        return found

    def _create_dataset(self, request: Request) -> Response:
        body = request.json()
        if not isinstance(body, dict):
            raise ApiError(400, "The request body must be a JSON object", code="INVALID_ARGUMENT")
        unknown = set(body) - {"dataset", "datasetId", "sourceDatasetId", "filter"}
        if unknown:
            raise ApiError(400, f"unknown field {sorted(unknown)[0]!r}", code="INVALID_ARGUMENT")
        ident = body.get("datasetId")
        if not isinstance(ident, str) or not ID_PATTERN.fullmatch(ident):
            raise ApiError(
                400, f"datasetId {ident!r} is not a valid resource id", code="INVALID_ARGUMENT"
            )
        dataset = body.get("dataset")
        if not isinstance(dataset, dict) or "userUploaded" not in dataset:
            raise ApiError(400, "dataset.userUploaded is required", code="INVALID_ARGUMENT")
        count = dataset.get("exampleCount")
        if count is not None and not (isinstance(count, str) and count.isdigit()):
            raise ApiError(
                400, "dataset.exampleCount must be an int64 string", code="INVALID_ARGUMENT"
            )
        key = (request.params["acct"], ident)
        if key in self.datasets:
            raise ApiError(409, f"Dataset {ident!r} already exists", code="ALREADY_EXISTS")
        stored = StoredDataset(request.params["acct"], ident, dataset, self._now())
        self.datasets[key] = stored
        return Response(json=stored.to_json(self._now()))

    def _get_dataset(self, request: Request) -> Response:
        return Response(json=self._dataset(request).to_json(self._now()))

    def _list_datasets(self, request: Request) -> Response:
        now = self._now()
        acct = request.params["acct"]
        rows = [d.to_json(now) for (a, _), d in sorted(self.datasets.items()) if a == acct]
        return self._page(request, rows, "datasets")

    def _delete_dataset(self, request: Request) -> Response:
        stored = self._dataset(request)
        del self.datasets[(stored.account, stored.id)]
        return Response(json={})

    def _process(self, stored: StoredDataset) -> None:
        """The bytes are all there: check them and schedule READY (or the refusal)."""
        stored.processed_at = self._now() + PROCESS_TAKES * self.pace
        count = int(stored.body.get("exampleCount") or 0)
        stored.problem = self._reject_datasets.pop(0) if self._reject_datasets else None
        if stored.problem is None:
            stored.problem = check_rows(stored.data(), count)

    def _upload_dataset(self, request: Request) -> Response:
        stored = self._dataset(request)
        if stored.state(self._now()) == "READY":
            raise ApiError(
                400, f"Dataset {stored.id!r} is already uploaded", code="FAILED_PRECONDITION"
            )
        if len(request.body) > DIRECT_LIMIT + 4096:
            raise ApiError(
                413,
                "Files over 150MB must be uploaded through getUploadEndpoint",
                code="INVALID_ARGUMENT",
            )
        upload = request.form().get("file")
        if upload is None:
            raise ApiError(400, "the multipart field 'file' is required", code="INVALID_ARGUMENT")
        filename = upload.filename or "dataset.jsonl"
        stored.files = {filename: upload.data}
        self._process(stored)
        return Response(
            json={
                "id": stored.id,
                "object": "file",
                "bytes": len(upload.data),
                "created_at": int(self._now()),
                "filename": filename,
                "purpose": "fine-tune",
            }
        )

    def _upload_endpoint(self, request: Request) -> Response:
        stored = self._dataset(request)
        body = request.json() or {}
        sizes = body.get("filenameToSize")
        if not isinstance(sizes, dict) or not sizes:
            raise ApiError(400, "filenameToSize is required", code="INVALID_ARGUMENT")
        try:
            stored.expected = {str(k): int(v) for k, v in sizes.items()}
        except (TypeError, ValueError):
            raise ApiError(400, "sizes must be int64 strings", code="INVALID_ARGUMENT") from None
        stored.files = {}
        base = f"{self.url}/_signed/{stored.account}/{stored.id}"
        return Response(
            json={
                "filenameToSignedUrls": {
                    name: f"{base}/{name}?X-Goog-Signature=emulator&size={size}"
                    for name, size in stored.expected.items()
                }
            }
        )

    def _signed_put(self, request: Request) -> Response:
        stored = self.datasets.get((request.params["acct"], request.params["id"]))
        name = request.params["file"]
        if stored is None or name not in stored.expected:
            return Response(status=403, body=b"<Error><Code>SignatureDoesNotMatch</Code></Error>")
        if "authorization" in request.headers:
            # A signed URL never gets the API key; the real storage refuses mixed auth too.
            return Response(status=400, body=b"<Error><Code>InvalidAuthentication</Code></Error>")
        size = stored.expected[name]
        if (
            request.headers.get("content-type") != "application/octet-stream"
            or request.headers.get("x-goog-content-length-range") != f"{size},{size}"
        ):
            return Response(status=403, body=b"<Error><Code>SignatureDoesNotMatch</Code></Error>")
        if len(request.body) != size:
            return Response(status=400, body=b"<Error><Code>EntityTooSmall</Code></Error>")
        stored.files[name] = request.body
        return Response(status=200, body=b"")

    def _validate_upload(self, request: Request) -> Response:
        stored = self._dataset(request)
        missing = sorted(set(stored.expected) - set(stored.files))
        if not stored.expected or missing:
            raise ApiError(
                400,
                f"upload is incomplete: {', '.join(missing) or 'no files registered'}",
                code="FAILED_PRECONDITION",
            )
        self._process(stored)
        return Response(json={})


__all__ = ["GRPC", "DatasetRoutes", "StoredDataset", "check_rows"]

"""The emulator's file routes: Together's upload flows and its asynchronous validation.

Small files: ``POST /v1/files`` (multipart form with the sha256, no bytes) answered by a 302 to a
presigned URL, ``PUT`` of the bytes there, ``POST /v1/files/{id}/preprocess``. Files past 5 GiB:
``/v1/files/multipart/initiate``, a ``PUT`` per part (answered with an ``ETag``), ``complete``.
A checksum the account already holds is answered 409 with its file id. Validation then takes a
moment: ``processing_status`` goes PENDING, RUNNING, then COMPLETED or INVALID_FORMAT.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ftbridge.testing.emulator import ApiError, Request, Response

from . import _rules

FILE_PENDING, FILE_RUNNING = 0.2, 0.4  # seconds (pace 1) in PENDING, then RUNNING


@dataclass
class StoredFile:
    id: str
    filename: str
    purpose: str
    file_type: str
    checksum: str
    created: float
    data: bytes | None = None  # None until the PUT arrives
    preprocessed_at: float | None = None
    report: dict[str, Any] | None = None


class FileRoutes:
    """Route handlers for ``/v1/files``; mixed into the emulator, whose state they use."""

    files: dict[str, StoredFile]
    pace: float
    url: str
    _reject_files: list[str]
    _parts: dict[str, dict[int, bytes]]
    _new_id: Callable[[str], str]  # provided by the emulator class

    def _now(self) -> float:
        return time.time()

    # -- upload ----------------------------------------------------------------------------

    def _create_file(self, request: Request) -> Response:
        form = request.form()
        missing = [k for k in ("purpose", "file_name", "checksum") if k not in form]
        if missing:
            raise ApiError(400, f"Missing form field(s): {', '.join(missing)}", param=missing[0])
        checksum = form["checksum"].text
        existing = self._existing(checksum)
        if existing is not None:
            return existing
        file = StoredFile(
            id=self._new_id("file"),
            filename=form["file_name"].text,
            purpose=form["purpose"].text,
            file_type=form["file_type"].text if "file_type" in form else "jsonl",
            checksum=checksum,
            created=self._now(),
        )
        self.files[file.id] = file
        return Response(
            status=302,
            json={},
            headers={"Location": f"{self.url}/_upload/{file.id}", "X-Together-File-Id": file.id},
        )

    def _put_bytes(self, request: Request) -> Response:
        file = self.files.get(request.params["id"])
        if file is None:
            raise ApiError(404, "No upload with that id.")
        if hashlib.sha256(request.body).hexdigest() != file.checksum:
            raise ApiError(400, "The uploaded bytes do not match the declared checksum.")
        file.data = request.body
        return Response(status=200, body=b"")

    def _preprocess(self, request: Request) -> Response:
        file = self._file(request.params["id"])
        self._start_validation(file)
        return Response(json=self._file_json(file))

    def _start_validation(self, file: StoredFile) -> None:
        assert file.data is not None
        if file.preprocessed_at is None:
            file.preprocessed_at = self._now()
            report = _rules.validate(file.data, file.id)
            if self._reject_files and report["valid"]:
                report = {**report, "valid": False, "error": self._reject_files.pop(0)}
                report["error_type"] = "INVALID_FORMAT"
            file.report = report

    # Files past 5 GiB: the SDK initiates a multipart upload, PUTs the parts, completes it.

    def _existing(self, checksum: str) -> Response | None:
        for file in self.files.values():
            if file.checksum == checksum and file.preprocessed_at is not None:
                # The SDK reads file_id from this body and fetches that file instead.
                return Response(
                    status=409,
                    json={"file_id": file.id, "message": f"File already exists: {file.id}"},
                )
        return None

    def _multipart_initiate(self, request: Request) -> Response:
        body = request.json() or {}
        missing = [k for k in ("file_name", "num_parts", "purpose", "checksum") if k not in body]
        if missing:
            raise ApiError(400, f"Missing field(s): {', '.join(missing)}", param=missing[0])
        existing = self._existing(str(body["checksum"]))
        if existing is not None:
            return existing
        file = StoredFile(
            id=self._new_id("file"),
            filename=str(body["file_name"]),
            purpose=str(body["purpose"]),
            file_type=str(body.get("file_type") or "jsonl"),
            checksum=str(body["checksum"]),
            created=self._now(),
        )
        self.files[file.id] = file
        self._parts[file.id] = {}
        upload_id = self._new_id("upload")
        parts = [
            {"PartNumber": n, "URL": f"{self.url}/_upload/{file.id}/parts/{n}", "Headers": {}}
            for n in range(1, int(body["num_parts"]) + 1)
        ]
        return Response(json={"upload_id": upload_id, "file_id": file.id, "parts": parts})

    def _multipart_put(self, request: Request) -> Response:
        parts = self._parts.get(request.params["id"])
        if parts is None:
            raise ApiError(404, "No multipart upload with that id.")
        parts[int(request.params["part"])] = request.body
        return Response(headers={"ETag": f'"{hashlib.md5(request.body).hexdigest()}"'})

    def _multipart_complete(self, request: Request) -> Response:
        body = request.json() or {}
        file_id = str(body.get("file_id"))
        parts = self._parts.pop(file_id, None)
        file = self.files.get(file_id)
        if parts is None or file is None:
            raise ApiError(404, "No multipart upload with that id.")
        listed = [int(p["part_number"]) for p in body.get("parts", [])]
        if sorted(listed) != sorted(parts):
            raise ApiError(400, "The parts listed do not match the parts uploaded.")
        data = b"".join(parts[n] for n in sorted(parts))
        if hashlib.sha256(data).hexdigest() != file.checksum:
            raise ApiError(400, "The uploaded bytes do not match the declared checksum.")
        file.data = data
        self._start_validation(file)
        return Response(json={"file": self._file_json(file)})

    def _multipart_abort(self, request: Request) -> Response:
        body = request.json() or {}
        self._parts.pop(str(body.get("file_id")), None)
        self.files.pop(str(body.get("file_id")), None)
        return Response(json={"aborted": True})

    def _file(self, file_id: str) -> StoredFile:
        file = self.files.get(file_id)
        if file is None or file.data is None:
            raise ApiError(404, f"File {file_id} not found.", code="file_not_found")
        return file

    def _file_status(self, file: StoredFile) -> str:
        if file.preprocessed_at is None or file.report is None:
            return "PENDING"
        elapsed = (self._now() - file.preprocessed_at) / self.pace
        if elapsed < FILE_PENDING:
            return "PENDING"
        if elapsed < FILE_RUNNING:
            return "RUNNING"
        return "COMPLETED" if file.report["valid"] else "INVALID_FORMAT"

    def _file_json(self, file: StoredFile) -> dict[str, Any]:
        status = self._file_status(file)
        body: dict[str, Any] = {
            "id": file.id,
            "object": "file",
            "created_at": int(file.created),
            "filename": file.filename,
            "bytes": len(file.data or b""),
            "purpose": file.purpose,
            "FileType": file.file_type,
            "Processed": status == "COMPLETED",
            "processing_status": status,
        }
        if status in ("COMPLETED", "INVALID_FORMAT") and file.report is not None:
            body["validation_report"] = file.report
        return body

    def _get_file(self, request: Request) -> Response:
        return Response(json=self._file_json(self._file(request.params["id"])))

    def _list_files(self, request: Request) -> Response:
        files = [self._file_json(f) for f in self.files.values() if f.data is not None]
        return Response(json={"data": files})

    def _file_content(self, request: Request) -> Response:
        return Response(body=self._file(request.params["id"]).data or b"")

    def _delete_file(self, request: Request) -> Response:
        file = self._file(request.params["id"])
        del self.files[file.id]
        return Response(json={"id": file.id, "deleted": True})

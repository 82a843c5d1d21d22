"""Files and the Uploads API (create, parts, complete) inside the OpenAI emulator."""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ftbridge.testing.emulator import ApiError, Request, Response

from . import _schemas

MAX_FILE_BYTES = 512 * 1024 * 1024
MAX_PART_BYTES = 64 * 1024 * 1024


@dataclass
class StoredFile:
    id: str
    filename: str
    purpose: str
    content: bytes
    created_at: int

    def as_json(self) -> dict[str, Any]:
        return {
            "object": "file",
            "id": self.id,
            "bytes": len(self.content),
            "created_at": self.created_at,
            "filename": self.filename,
            "purpose": self.purpose,
            "status": "processed",
        }


@dataclass
class PendingUpload:
    id: str
    filename: str
    purpose: str
    size: int
    mime_type: str
    created_at: int
    parts: dict[str, bytes]
    status: str = "pending"
    file: StoredFile | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "object": "upload",
            "id": self.id,
            "created_at": self.created_at,
            "expires_at": self.created_at + 3600,
            "filename": self.filename,
            "bytes": self.size,
            "purpose": self.purpose,
            "status": self.status,
            "file": self.file.as_json() if self.file else None,
        }


class FilesMixin:
    """The ``/v1/files`` and ``/v1/uploads`` routes; the emulator registers them."""

    files: dict[str, StoredFile]
    uploads: dict[str, PendingUpload]
    _rng: random.Random
    _new_id: Callable[[str], str]  # provided by the emulator class

    def _file(self, file_id: str, param: str | None = None) -> StoredFile:
        found = self.files.get(file_id)
        if found is None:
            status = 400 if param else 404
            raise ApiError(status, f"No such File object: {file_id}", param=param or "id")
        return found

    def _add_result_file(self, job_id: str, content: bytes) -> str:
        stored = StoredFile(
            self._new_id("file"),
            f"{job_id}-results.csv",
            "fine-tune-results",
            content,
            int(time.time()),
        )
        self.files[stored.id] = stored
        return stored.id

    # -- files ---------------------------------------------------------------------------------

    def _create_file(self, request: Request) -> Response:
        form = request.form()
        if "purpose" not in form:
            raise ApiError(400, "Missing required parameter: 'purpose'.", param="purpose")
        if "file" not in form:
            raise ApiError(400, "Missing required parameter: 'file'.", param="file")
        purpose = form["purpose"].text
        allowed = _schemas.schema_document()["components"]["schemas"]["CreateFileRequest"]
        choices = allowed["properties"]["purpose"]["enum"]
        if purpose not in choices:
            raise ApiError(
                400,
                f"Invalid value for 'purpose': {purpose!r}. Supported values are: {', '.join(choices)}.",
                param="purpose",
                code="invalid_value",
            )
        content = form["file"].data
        if len(content) > MAX_FILE_BYTES:
            raise ApiError(
                413, "File is too large: use the Uploads API above 512 MB.", param="file"
            )
        stored = self._store_file(form["file"].filename or "upload", purpose, content)
        return Response(json=stored.as_json())

    def _store_file(self, filename: str, purpose: str, content: bytes) -> StoredFile:
        if purpose == "fine-tune":
            check_jsonl(content)
        stored = StoredFile(self._new_id("file"), filename, purpose, content, int(time.time()))
        self.files[stored.id] = stored
        return stored

    def _list_files(self, request: Request) -> Response:
        purpose = request.query_one("purpose")
        files = [f.as_json() for f in self.files.values() if purpose in (None, f.purpose)]
        if request.query_one("order", "desc") == "desc":
            files.reverse()
        page = cursor_page(files, request, 10_000)
        page["first_id"] = page["data"][0]["id"] if page["data"] else None
        page["last_id"] = page["data"][-1]["id"] if page["data"] else None
        return Response(json=page)

    def _retrieve_file(self, request: Request) -> Response:
        return Response(json=self._file(request.params["file_id"]).as_json())

    def _delete_file(self, request: Request) -> Response:
        stored = self._file(request.params["file_id"])
        del self.files[stored.id]
        return Response(json={"id": stored.id, "object": "file", "deleted": True})

    def _file_content(self, request: Request) -> Response:
        stored = self._file(request.params["file_id"])
        return Response(body=stored.content, headers={"Content-Type": "application/octet-stream"})

    # -- uploads -------------------------------------------------------------------------------

    def _create_upload(self, request: Request) -> Response:
        body = request.json()
        _schemas.check("CreateUploadRequest", body)
        if body["bytes"] > 8 * 1024**3:
            raise ApiError(400, "An Upload can hold at most 8 GB.", param="bytes")
        upload = PendingUpload(
            self._new_id("upload"),
            body["filename"],
            body["purpose"],
            body["bytes"],
            body["mime_type"],
            int(time.time()),
            {},
        )
        self.uploads[upload.id] = upload
        return Response(json=upload.as_json())

    def _upload(self, upload_id: str) -> PendingUpload:
        upload = self.uploads.get(upload_id)
        if upload is None:
            raise ApiError(404, f"No such Upload: {upload_id}", param="upload_id")
        if upload.status != "pending":
            raise ApiError(400, f"Upload {upload_id} is already {upload.status}.")
        return upload

    def _add_part(self, request: Request) -> Response:
        upload = self._upload(request.params["upload_id"])
        form = request.form()
        if "data" not in form:
            raise ApiError(400, "Missing required parameter: 'data'.", param="data")
        if len(form["data"].data) > MAX_PART_BYTES:
            raise ApiError(400, "A part can be at most 64 MB.", param="data")
        part_id = self._new_id("part")
        upload.parts[part_id] = form["data"].data
        return Response(
            json={
                "object": "upload.part",
                "id": part_id,
                "created_at": int(time.time()),
                "upload_id": upload.id,
            }
        )

    def _complete_upload(self, request: Request) -> Response:
        upload = self._upload(request.params["upload_id"])
        body = request.json()
        _schemas.check("CompleteUploadRequest", body)
        unknown = [p for p in body["part_ids"] if p not in upload.parts]
        if unknown:
            raise ApiError(400, f"Unknown part ids: {', '.join(unknown)}", param="part_ids")
        content = b"".join(upload.parts[p] for p in body["part_ids"])
        if len(content) != upload.size:
            raise ApiError(
                400,
                f"The Upload expected {upload.size} bytes but its parts hold {len(content)}.",
                param="part_ids",
            )
        if "md5" in body and hashlib.md5(content).hexdigest() != body["md5"]:
            raise ApiError(400, "The md5 checksum does not match the uploaded bytes.", param="md5")
        upload.file = self._store_file(upload.filename, upload.purpose, content)
        upload.status = "completed"
        return Response(json=upload.as_json())

    def _cancel_upload(self, request: Request) -> Response:
        upload = self._upload(request.params["upload_id"])
        upload.status = "cancelled"
        return Response(json=upload.as_json())


def check_jsonl(content: bytes) -> None:
    """What the upload itself rejects: lines that are not JSON objects (content is checked later)."""
    for number, line in enumerate(content.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            ok = isinstance(json.loads(line), dict)
        except ValueError:
            ok = False
        if not ok:
            raise ApiError(
                400,
                "Expected file to have JSONL format, where every line is a valid JSON dictionary. "
                f"Line {number} is not a dictionary.",
                param="file",
                code="invalid_file_format",
            )


def cursor_page(
    items: list[dict[str, Any]], request: Request, default_limit: int
) -> dict[str, Any]:
    """A cursor page: items after the id ``after``, at most ``limit``."""
    limit_text = request.query_one("limit") or str(default_limit)
    try:
        limit = int(limit_text)
    except ValueError:
        raise ApiError(400, f"Invalid value for 'limit': {limit_text!r}.", param="limit") from None
    if not 1 <= limit <= 10_000:
        raise ApiError(400, "'limit' must be between 1 and 10000.", param="limit")
    after = request.query_one("after")
    start = 0
    if after:
        ids = [item["id"] for item in items]
        start = ids.index(after) + 1 if after in ids else len(items)
    data = items[start : start + limit]
    return {"object": "list", "data": data, "has_more": start + limit < len(items)}

"""Getting a dataset onto Together: the SDK's upload, then the server's own validation.

``client.files.upload`` does Together's flow: ``POST /v1/files`` with the file's sha256 (answered
by a redirect to a presigned URL), ``PUT`` of the bytes, ``POST /v1/files/{id}/preprocess``; past
5 GiB it switches to multipart by itself. When the account already holds a file with the same
sha256 the server answers 409 with its id and the SDK returns that file: the same bytes are
never sent twice.

Together then validates the file asynchronously (``processing_status``); a job created on a file
that fails that validation is cancelled, so we wait for ``COMPLETED`` before going on.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import together

from ftbridge._exceptions import RequestRejectedError, TransientProviderError
from ftbridge._models import DatasetRef
from ftbridge._paths import subdir
from ftbridge._upload_progress import upload_progress

from ._errors import PROVIDER, sdk_errors
from ._status import wire

READY = "COMPLETED"
REJECTED = ("INVALID_FORMAT", "FAILED")


class FileRejectedError(RequestRejectedError):
    """Together's own validation refused an uploaded file; ``.server_report`` is its report."""

    def __init__(self, message: str, *, file_id: str, server_report: dict[str, Any], **kw: Any):
        super().__init__(message, **kw)
        self.file_id = file_id
        self.server_report = server_report


def _jsonl_path(ref: DatasetRef) -> Path:
    """A path ending in ``.jsonl``: the SDK infers the file type from the extension."""
    path = Path(ref.path)
    if path.suffix == ".jsonl":
        return path
    # Same bytes under a content-addressed name; a hard link costs nothing, a copy is the fallback.
    target = subdir("together-uploads") / f"{ref.sha256[:16]}.jsonl"
    if not target.exists():
        try:
            os.link(path, target)
        except OSError:
            target.write_bytes(path.read_bytes())
    return target


def upload(client: together.Together, ref: DatasetRef) -> dict[str, Any]:
    """Upload ``ref`` (or find the same bytes already there) and return the file object."""
    path = _jsonl_path(ref)
    with sdk_errors(f"upload {path.name}"), upload_progress(path) as bar:
        # check=False: ftbridge validated the file already, more thoroughly than the SDK's
        # structural check_file (which reads the whole file twice).
        result = client.files.upload(
            path,
            purpose="fine-tune",
            check=False,
            progress_callback=lambda sent: bar.set(sent.uploaded_bytes, sent.total_bytes),
        )
    return wire(result)


def wait_until_processed(
    client: together.Together,
    file: dict[str, Any],
    *,
    timeout: float,
    interval: float = 0.1,
    max_interval: float = 5.0,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Poll the file until Together's validation is done; raise if it refused the file."""
    deadline = time.monotonic() + timeout
    file_id = str(file["id"])
    while True:
        status = file.get("processing_status")
        # A file without a processing_status predates asynchronous validation: usable as is.
        if status in (None, READY):
            return file
        if status in REJECTED:
            raise _rejected(file)
        if time.monotonic() >= deadline:
            raise TransientProviderError(
                f"Together is still validating file {file_id} after {timeout:.0f}s "
                f"(status {status}); it will be checked again",
                retry_after=30,
                provider=PROVIDER,
            )
        sleep(interval)
        interval = min(max_interval, interval * 1.5)
        with sdk_errors(f"check file {file_id}"):
            file = wire(client.files.retrieve(file_id))


def _rejected(file: dict[str, Any]) -> FileRejectedError:
    report = file.get("validation_report") or {}
    status = str(file.get("processing_status"))
    lines = [
        f"Together refused file {file['id']} ({file.get('filename', 'dataset')}): "
        f"processing_status {status}."
    ]
    if report.get("error"):
        lines.append(f"Server validation report: {report['error']}")
    for key in ("error_type", "dataset_format", "nlines"):
        if report.get(key) is not None:
            lines.append(f"  {key}: {report[key]}")
    if status == "FAILED" and not report.get("error"):
        lines.append("Together could not process the file; try again later or contact support.")
    else:
        lines.append(
            "Fix the dataset and submit again; Together's rules: "
            "https://docs.together.ai/docs/fine-tuning-data-preparation"
        )
    return FileRejectedError(
        "\n".join(lines),
        file_id=str(file["id"]),
        server_report=dict(report),
        provider=PROVIDER,
        code=status,
    )

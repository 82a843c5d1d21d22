"""Sending a training file to OpenAI once.

Files up to ``upload_threshold`` (512 MB) go in one ``files.create``; larger ones through the
Uploads API (create, parts, complete). A file already uploaded with the same sha256 to the same
account and base URL, and still there, is reused: a small cache maps sha256 to file id under
``$FTBRIDGE_HOME/openai/``, keyed by a digest of base URL and API key that reveals neither.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import openai

from ftbridge._exceptions import ProviderNotFoundError
from ftbridge._paths import subdir
from ftbridge._upload_progress import upload_progress

from ._errors import mapped
from ._options import OpenAIOptions

log = logging.getLogger("ftbridge.openai")


def account_digest(base_url: str, api_key: str) -> str:
    """Who the files belong to, as a digest that cannot be turned back into the key."""
    key_digest = hashlib.sha256(api_key.encode()).hexdigest()
    return hashlib.sha256(f"{base_url.rstrip('/')}\n{key_digest}".encode()).hexdigest()[:32]


class UploadCache:
    """sha256 → file id, per account. A cache: losing it only costs an upload."""

    def __init__(self, account: str, path: Path | None = None) -> None:
        self.account = account
        self.path = path or subdir("openai") / "uploads.json"

    def _read(self) -> dict[str, dict[str, str]]:
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def get(self, sha256: str) -> str | None:
        found = self._read().get(self.account, {}).get(sha256)
        return found if isinstance(found, str) else None

    def put(self, sha256: str, file_id: str | None) -> None:
        data = self._read()
        entries = data.setdefault(self.account, {})
        if file_id is None:
            entries.pop(sha256, None)
        else:
            entries[sha256] = file_id
        # Write then rename, so a concurrent reader never sees half a file.
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".uploads-")
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle)
        os.replace(tmp, self.path)


def upload(
    client: openai.OpenAI, path: Path, sha256: str, options: OpenAIOptions, cache: UploadCache
) -> str:
    """The id of a ``fine-tune`` file holding ``path``'s bytes, uploading them if needed."""
    size = path.stat().st_size
    if options.reuse_uploads:
        reused = _reusable(client, cache, sha256, size)
        if reused is not None:
            log.info("reusing uploaded file %s for %s", reused, path.name)
            return reused
    if size > options.upload_threshold:
        file_id = _upload_in_parts(client, path, size, options.upload_part_size)
    else:
        with (
            mapped(f"uploading {path.name}"),
            path.open("rb") as handle,
            upload_progress(path, size) as bar,
        ):
            sent = (path.name, bar.reader(handle))
            file_id = client.files.create(file=sent, purpose="fine-tune").id
    cache.put(sha256, file_id)
    return file_id


def _reusable(client: openai.OpenAI, cache: UploadCache, sha256: str, size: int) -> str | None:
    file_id = cache.get(sha256)
    if file_id is None:
        return None
    try:
        with mapped(f"checking uploaded file {file_id}"):
            found: Any = client.files.retrieve(file_id)
    except ProviderNotFoundError:
        found = None
    if found is None or found.bytes != size or found.purpose != "fine-tune":
        cache.put(sha256, None)
        return None
    if getattr(found, "status", None) == "error":
        return None
    return file_id


def _upload_in_parts(client: openai.OpenAI, path: Path, size: int, part_size: int) -> str:
    with mapped(f"starting an upload of {path.name}"):
        pending = client.uploads.create(
            bytes=size, filename=path.name, mime_type="text/jsonl", purpose="fine-tune"
        )
    md5 = hashlib.md5()
    part_ids: list[str] = []
    try:
        with path.open("rb") as handle, upload_progress(path, size) as bar:
            while chunk := handle.read(part_size):
                md5.update(chunk)
                with mapped(f"uploading part {len(part_ids) + 1} of {path.name}"):
                    part_ids.append(client.uploads.parts.create(pending.id, data=chunk).id)
                bar.update(len(chunk))
        with mapped(f"completing the upload of {path.name}"):
            done = client.uploads.complete(pending.id, part_ids=part_ids, md5=md5.hexdigest())
    except BaseException:
        # Leave nothing half-done on the account; the next attempt starts a new Upload.
        with contextlib.suppress(Exception):
            client.uploads.cancel(pending.id)
        raise
    if done.file is None:
        raise ProviderNotFoundError(
            f"OpenAI completed the upload of {path.name} without a file", provider="openai"
        )
    return done.file.id

"""Getting a dataset onto Fireworks: the dataset record, the bytes, then wait until READY.

1. ``POST /datasets`` with ``datasetId`` = ``ftb-`` + the file's sha256 (its first 56 hex
   digits) and the example count (Fireworks wants the client to give it).
2. The bytes: ``POST /datasets/{id}:upload`` (multipart) up to 150 MB, the limit the upload page
   gives; past it, ``:getUploadEndpoint`` for a signed URL, a ``PUT`` of the bytes to it (with
   no Fireworks credentials, the headers the SDK's own helper sends), and ``:validateUpload``.
3. Poll ``GET /datasets/{id}`` until ``state`` is ``READY``; a ``status`` other than ``OK``
   is Fireworks refusing the file.

Because the id is the content's, a dataset with the same bytes already on the account is found
by step 1's ``GET`` and reused: the bytes are never sent twice. A record left ``UPLOADING`` by an
interrupted upload gets its bytes again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import fireworks
import httpx

from ftbridge._exceptions import RequestRejectedError, TransientProviderError
from ftbridge._models import DatasetRef
from ftbridge._polling import retry_after
from ftbridge._progress import progress

from . import _request
from ._errors import PROVIDER, sdk_errors, translate
from ._status import wire

DIRECT_UPLOAD_LIMIT = 150 * 1000 * 1000  # bytes: "up to 150Mb" (upload-dataset-files)
READY = "READY"
_LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
_CHUNK = 1 << 20


class DatasetRejectedError(RequestRejectedError):
    """Fireworks refused an uploaded dataset; ``.server_status`` is what it said."""

    def __init__(self, message: str, *, dataset: str, server_status: dict[str, Any], **kw: Any):
        super().__init__(message, **kw)
        self.dataset = dataset
        self.server_status = server_status


def _rejected(data: dict[str, Any]) -> bool:
    code = (data.get("status") or {}).get("code")
    return code not in (None, "", "OK")


def _rejection(data: dict[str, Any]) -> DatasetRejectedError:
    status = dict(data.get("status") or {})
    return DatasetRejectedError(
        f"Fireworks refused dataset {data.get('name')}: {status.get('code')}: "
        f"{status.get('message') or 'no reason given'}.\nFix the dataset and submit again; "
        "Fireworks' rules: https://docs.fireworks.ai/fine-tuning/fine-tuning-models",
        dataset=str(data.get("name")),
        server_status=status,
        provider=PROVIDER,
        code=str(status.get("code")),
    )


class Uploader:
    """Uploads datasets for one account; ``ensure(ref)`` returns the dataset's name."""

    def __init__(
        self,
        client: fireworks.Fireworks,
        account: str,
        *,
        direct_limit: int = DIRECT_UPLOAD_LIMIT,
        timeout: float = 900.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client = client
        self.account = account
        self.direct_limit = direct_limit
        self.timeout = timeout
        self._sleep = sleep
        self._ready: dict[str, str] = {}  # sha256 -> dataset name, READY

    def name(self, ref: DatasetRef) -> str:
        return f"accounts/{self.account}/datasets/{_request.dataset_id(ref.sha256)}"

    def ensure(self, ref: DatasetRef) -> str:
        """The dataset holding ``ref``'s bytes, uploaded if the account does not have it."""
        if ref.sha256 in self._ready:
            return self._ready[ref.sha256]
        ident = _request.dataset_id(ref.sha256)
        data = self._get(ident)
        if data is None:
            data = self._create(ident, ref)
        if data.get("state") != READY:
            if _rejected(data):
                raise _rejection(data)
            self._send(ident, ref)
            data = self._wait(ident)
        self._ready[ref.sha256] = str(data.get("name") or self.name(ref))
        return self._ready[ref.sha256]

    # -- steps ------------------------------------------------------------------------------

    def _get(self, ident: str) -> dict[str, Any] | None:
        try:
            return wire(self._client.datasets.get(ident, account_id=self.account))
        except fireworks.NotFoundError:
            return None
        except fireworks.FireworksError as exc:
            raise translate(exc, f"read dataset {ident}") from exc

    def _create(self, ident: str, ref: DatasetRef) -> dict[str, Any]:
        dataset: dict[str, Any] = {
            "user_uploaded": {},
            "example_count": str(ref.example_count),
            "display_name": Path(ref.path).name[:200],
        }
        if ref.format == "chat":
            dataset["format"] = "CHAT"
        try:
            created = self._client.datasets.create(
                account_id=self.account,
                dataset_id=ident,
                dataset=dataset,  # type: ignore[arg-type]
            )
        except fireworks.ConflictError:
            # Created meanwhile (another process, or our own create whose answer was lost).
            found = self._get(ident)
            if found is not None:
                return found
            raise TransientProviderError(
                f"Fireworks: dataset {ident} exists but cannot be read yet", provider=PROVIDER
            ) from None
        except fireworks.FireworksError as exc:
            raise translate(exc, f"create dataset {ident}") from exc
        return wire(created)

    def _send(self, ident: str, ref: DatasetRef) -> None:
        path = Path(ref.path)
        size = path.stat().st_size
        filename = path.name if path.suffix == ".jsonl" else f"{path.stem or 'dataset'}.jsonl"
        if size <= self.direct_limit:
            with path.open("rb") as handle, sdk_errors(f"upload {filename}"):
                self._client.datasets.upload(
                    ident, account_id=self.account, file=(filename, handle, "application/jsonl")
                )
            return
        with sdk_errors(f"ask for an upload URL for {filename}"):
            answer = self._client.datasets.get_upload_endpoint(
                ident, account_id=self.account, filename_to_size={filename: str(size)}
            )
        url = (answer.filename_to_signed_urls or {}).get(filename)
        if not url:
            raise TransientProviderError(
                f"Fireworks gave no upload URL for {filename}", provider=PROVIDER
            )
        put_signed(url, path, size, timeout=max(60.0, self.timeout))
        with sdk_errors(f"validate the upload of {filename}"):
            self._client.datasets.validate_upload(ident, account_id=self.account, body={})

    def _wait(self, ident: str) -> dict[str, Any]:
        deadline = time.monotonic() + self.timeout
        interval = 0.05
        while True:
            data = self._get(ident)
            if data is None:
                raise TransientProviderError(
                    f"Fireworks: dataset {ident} disappeared while it was being processed",
                    provider=PROVIDER,
                )
            if data.get("state") == READY and not _rejected(data):
                return data
            if _rejected(data):
                raise _rejection(data)
            if time.monotonic() >= deadline:
                raise TransientProviderError(
                    f"Fireworks is still processing dataset {ident} after {self.timeout:.0f}s "
                    f"(state {data.get('state')}); it will be checked again",
                    retry_after=30,
                    provider=PROVIDER,
                )
            self._sleep(interval)
            interval = min(5.0, interval * 1.5)


def put_signed(url: str, path: Path, size: int, *, timeout: float) -> None:
    """PUT a file to a signed URL with a plain client: the URL must never see the API key."""
    parsed = httpx.URL(url)
    if parsed.scheme != "https" and parsed.host not in _LOOPBACK:
        raise RequestRejectedError(
            f"Fireworks gave a non-https upload URL ({parsed.scheme}://{parsed.host}); refusing "
            "to send the dataset over it",
            provider=PROVIDER,
        )
    headers = {
        # Both are part of the URL's signature (as the SDK's upload helper sends them).
        "Content-Type": "application/octet-stream",
        "X-Goog-Content-Length-Range": f"{size},{size}",
        "Content-Length": str(size),
    }
    with progress(total=size, desc=f"uploading {path.name}", unit="B") as bar:

        def chunks() -> Iterator[bytes]:
            with path.open("rb") as handle:
                while block := handle.read(_CHUNK):
                    bar.update(len(block))
                    yield block

        try:
            with httpx.Client(timeout=httpx.Timeout(timeout, connect=30.0)) as http:
                response = http.put(url, content=chunks(), headers=headers)
        except httpx.TransportError as exc:
            raise TransientProviderError(
                f"Fireworks: upload {path.name}: {type(exc).__name__} ({exc})", provider=PROVIDER
            ) from exc
    if response.status_code == 429 or response.status_code >= 500:
        raise TransientProviderError(
            f"Fireworks: upload {path.name}: HTTP {response.status_code} from the upload URL",
            retry_after=retry_after(response.headers),
            provider=PROVIDER,
            status_code=response.status_code,
        )
    if response.status_code >= 400:
        raise RequestRejectedError(
            f"Fireworks: upload {path.name}: the upload URL answered HTTP "
            f"{response.status_code}: {response.text[:300]}",
            provider=PROVIDER,
            status_code=response.status_code,
        )

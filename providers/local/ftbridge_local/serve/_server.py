"""The transformers engine's server: uvicorn on a thread, the model loading beside it.

The socket is bound first (so ``port=0`` gets a free port and ``/health`` answers 503 while the
model loads), then the model loads on its own thread, and ``wait_ready`` returns once it is in
memory, or raises with the reason it could not be.
"""

from __future__ import annotations

import socket
import threading
import time

from ftbridge._exceptions import ConfigError, FtbridgeError, InferenceError
from ftbridge._serving import ServeSpec

from ._adapters import AdapterRefused
from ._app import App
from ._service import Service


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def url_for(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    shown = "[::1]" if shown == "::" else (f"[{shown}]" if ":" in shown else shown)
    return f"http://{shown}:{port}"


class TransformersServer:
    """One base model and its adapters in this process, served over HTTP."""

    def __init__(self, spec: ServeSpec) -> None:
        import uvicorn

        self.service = Service(spec)
        self._sock = bind(spec.host, spec.port)
        port = self._sock.getsockname()[1]
        self.url = url_for(spec.host, port)
        config = uvicorn.Config(
            App(self.service).asgi(),
            log_config=None,  # leave the application's logging as it is
            access_log=False,  # request lines say nothing the server's own log does not
            timeout_graceful_shutdown=5,
            lifespan="off",
        )
        self._server = uvicorn.Server(config)
        self._http = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )
        self._loader = threading.Thread(target=self.service.load, daemon=True)
        self._closed = threading.Event()
        self._http.start()
        self._loader.start()

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        if not self.service.ready.wait(timeout):
            raise InferenceError(f"the model did not load within {timeout:.0f}s")
        error = self.service.error
        if isinstance(error, AdapterRefused):
            raise ConfigError(str(error)) from error
        if isinstance(error, FtbridgeError):
            raise error
        if error is not None:
            raise InferenceError(
                f"the model could not be loaded: {type(error).__name__}: {error}"
            ) from error
        while not self._server.started and time.monotonic() < deadline:
            if not self._http.is_alive():
                raise InferenceError(f"the HTTP server at {self.url} stopped while starting")
            time.sleep(0.01)

    def join(self, timeout: float | None = None) -> bool:
        self._http.join(timeout)
        return not self._http.is_alive()

    def close(self) -> None:
        if self._closed.is_set():
            return
        self._server.should_exit = True
        self._http.join(timeout=15)
        self._loader.join(timeout=60)
        self.service.close()
        self._sock.close()
        self._closed.set()

"""A small threaded HTTP server that provider emulators build on (standard library only).

An emulator is a real server on loopback that a provider's official SDK talks to through its
base-URL setting. This module holds what every emulator needs and nothing provider-specific:
routing by method and path regex, JSON and streaming (SSE) responses, an error envelope hook,
fault injection (429/5xx with ``Retry-After``, dropped connections, slow replies) and a request
log that tests assert on ("exactly one create").

Usage::

    from ftbridge.testing.emulator import EmulatorServer, Request, Response

    class EchoEmulator(EmulatorServer):
        def __init__(self, **kw):
            super().__init__(**kw)
            self.add_route("POST", r"/v1/echo/(?P<name>[^/]+)", self._echo)

        def _echo(self, request: Request) -> Response:
            return Response(json={"name": request.params["name"], "body": request.json()})

    with EchoEmulator() as server:            # port 0: the OS picks a free port
        server.faults.inject("POST", r"/v1/echo/.*", status=429, retry_after=1, times=1)
        ...                                   # point an SDK at server.base_url
        assert server.count("POST", r"/v1/echo/.*") == 2

Paths and fault/count patterns are matched with ``re.fullmatch`` against the path without the
query string.
"""

from __future__ import annotations

import argparse
import re
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from http import HTTPStatus
from typing import Any, TypeVar

from ftbridge.testing._emulator_faults import FaultInjector, FaultRule, parse_fault
from ftbridge.testing._emulator_messages import (
    ApiError,
    FormField,
    Handler,
    Headers,
    LoggedRequest,
    Request,
    Response,
)
from ftbridge.testing._emulator_wire import Dropped, Server, close_quietly, make_handler

_Server = TypeVar("_Server", bound="EmulatorServer")

__all__ = [
    "ApiError",
    "EmulatorServer",
    "FaultInjector",
    "FaultRule",
    "FormField",
    "Headers",
    "LoggedRequest",
    "Request",
    "Response",
    "parse_fault",
    "run_cli",
]


class EmulatorServer:
    """Base class of provider emulators: a ``ThreadingHTTPServer`` on a background thread.

    Subclasses register routes with :meth:`add_route` in ``__init__`` and override
    :meth:`error_body` to produce their provider's error envelope. ``pace`` scales simulated
    durations (a subclass multiplies its delays by it: 0.1 is ten times faster).
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        pace: float = 1.0,
        seed: int | None = 0,
        api_prefix: str = "/v1",
    ) -> None:
        self.host = host
        self.pace = pace
        self.seed = seed
        self.api_prefix = api_prefix
        self.faults = FaultInjector(seed)
        self._requested_port = port
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self._log: list[LoggedRequest] = []
        self._log_lock = threading.Lock()
        self._httpd: Server | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()
        self._conn_lock = threading.Lock()

    # -- routing -------------------------------------------------------------------------------

    def add_route(self, method: str, path_regex: str, handler: Handler) -> None:
        """Serve ``handler`` for ``method`` and paths matching ``path_regex`` (named groups
        become ``request.params``)."""
        self._routes.append((method.upper(), re.compile(path_regex), handler))

    def error_body(
        self, status: int, message: str, code: str | None = None, param: str | None = None
    ) -> dict[str, Any]:
        """The JSON body of an error response. Override for the provider's envelope."""
        return {"error": {"message": message, "code": code, "param": param}}

    def error(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        """An error :class:`Response` in this emulator's envelope."""
        return Response(
            status=status,
            json=self.error_body(status, message, code, param),
            headers=dict(headers or {}),
        )

    def dispatch(self, request: Request) -> Response:
        """Find the route for ``request`` and run it, turning errors into error responses."""
        for method, pattern, handler in self._routes:
            if method != request.method:
                continue
            match = pattern.fullmatch(request.path)
            if match is None:
                continue
            request.params = {k: v for k, v in match.groupdict().items() if v is not None}
            try:
                return handler(request)
            except ApiError as exc:
                return self.error(
                    exc.status, exc.message, code=exc.code, param=exc.param, headers=exc.headers
                )
            except Exception as exc:  # an emulator bug must still answer, not hang the client
                return self.error(500, f"The emulator failed: {type(exc).__name__}: {exc}")
        return self.error(404, f"Invalid URL ({request.method} {request.path})", code="not_found")

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self: _Server) -> _Server:
        """Bind and serve on a background thread; returns ``self``."""
        if self._httpd is not None:
            return self
        self._httpd = Server((self.host, self._requested_port), make_handler(self))
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"{type(self).__name__}:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close every open connection (idempotent)."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        with self._conn_lock:
            connections = list(self._connections)
            self._connections.clear()
        for conn in connections:
            close_quietly(conn)
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self: _Server) -> _Server:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the emulator is not started")
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """``http://HOST:PORT`` of the running server."""
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The URL to give an SDK as its base URL (``url`` + the API prefix, ``/v1``)."""
        return self.url + self.api_prefix

    # -- request log ---------------------------------------------------------------------------

    @property
    def request_log(self) -> list[LoggedRequest]:
        """A copy of every request answered so far, oldest first."""
        with self._log_lock:
            return list(self._log)

    def count(self, method: str, path_regex: str, *, handled: bool | None = None) -> int:
        """How many requests matched; ``handled=True`` counts only those whose handler ran."""
        pattern = re.compile(path_regex)
        return sum(
            1
            for entry in self.request_log
            if method.upper() in ("*", entry.method)
            and pattern.fullmatch(entry.path)
            and (handled is None or entry.handled == handled)
        )

    def clear_log(self) -> None:
        with self._log_lock:
            self._log.clear()

    def _record(self, method: str, path: str, status: int, handled: bool) -> None:
        with self._log_lock:
            self._log.append(LoggedRequest(method, path, status, time.time(), handled))

    def _track(self, conn: socket.socket, add: bool) -> None:
        with self._conn_lock:
            if add:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    # -- one request ---------------------------------------------------------------------------

    def _serve(self, request: Request) -> Response:
        """Apply faults around :meth:`dispatch`; raises ``_Dropped`` to drop the connection."""
        fault = self.faults.take(request.method, request.path)
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        handled = False
        if fault is None or fault.after_handling or (fault.status is None and not fault.drop):
            response = self.dispatch(request)
            handled = True
        if fault is not None and (fault.drop or fault.status is not None):
            if fault.drop:
                self._record(request.method, request.path, 0, handled)
                raise Dropped
            assert fault.status is not None
            response = self._fault_response(fault)
        self._record(request.method, request.path, response.status, handled)
        return response

    def _fault_response(self, fault: FaultRule) -> Response:
        assert fault.status is not None
        headers: dict[str, str] = {}
        if fault.retry_after is not None:
            headers["Retry-After"] = _format_seconds(fault.retry_after)
        if fault.body is not None:
            if isinstance(fault.body, bytes):
                return Response(status=fault.status, body=fault.body, headers=headers)
            return Response(status=fault.status, json=fault.body, headers=headers)
        phrase = _reason(fault.status)
        code = "rate_limit_exceeded" if fault.status == 429 else None
        return self.error(fault.status, f"{phrase} (injected fault).", code=code, headers=headers)


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP {status}"


def _format_seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


# -- command line ------------------------------------------------------------------------------


def run_cli(
    factory: Callable[..., EmulatorServer],
    argv: Sequence[str] | None = None,
    description: str = "Run an API emulator on loopback.",
) -> int:
    """Command-line entry point shared by emulators: ``python -m <pkg>.emulator --port 8080``.

    ``factory(host=, port=, pace=, seed=)`` builds the server. Prints the base URL, serves until
    Ctrl-C or SIGTERM.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default loopback)")
    parser.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    parser.add_argument(
        "--pace", type=float, default=1.0, help="scale of simulated durations (0.1 = 10x faster)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed for random faults")
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="'METHOD PATH_REGEX=STATUS[,retry_after=S][,times=N][,rate=P][,drop][,delay=S]'",
        help="inject a fault (repeatable)",
    )
    args = parser.parse_args(argv)
    try:
        faults = [parse_fault(spec) for spec in args.fault]
    except (ValueError, re.error) as exc:
        parser.error(str(exc))
    server = factory(host=args.host, port=args.port, pace=args.pace, seed=args.seed)
    for fault in faults:
        server.faults.inject(fault.pop("method"), fault.pop("path_regex"), **fault)
    stop = threading.Event()

    def _on_signal(signum: int, frame: object) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, _on_signal)
    server.start()
    print(server.base_url, flush=True)
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        signal.signal(signal.SIGTERM, previous)
        print("emulator stopped", file=sys.stderr, flush=True)
    return 0

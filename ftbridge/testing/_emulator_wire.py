"""The HTTP side of emulators: a threaded server and a handler that speaks HTTP/1.1
(keep-alive, chunked request bodies, chunked SSE responses, dropped connections)."""

from __future__ import annotations

import contextlib
import json
import socket
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from ftbridge.testing._emulator_messages import Headers, Request, Response


class Dropped(Exception):
    """Raised by an emulator to close the connection without a response."""


class Serving(Protocol):
    def _serve(self, request: Request) -> Response: ...

    def _track(self, conn: socket.socket, add: bool) -> None: ...


class Server(ThreadingHTTPServer):
    daemon_threads = True
    # Keep-alive connections idle in readline(): never wait for them when closing.
    block_on_close = False
    allow_reuse_address = True


def make_handler(emulator: Serving) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "ftbridge-emulator"
        sys_version = ""

        def setup(self) -> None:
            super().setup()
            emulator._track(self.connection, True)

        def finish(self) -> None:
            try:
                super().finish()
            finally:
                emulator._track(self.connection, False)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the request log replaces stderr noise

        def _handle(self) -> None:
            split = urlsplit(self.path)
            try:
                body = self._read_body()
            except (ValueError, OSError):
                self.close_connection = True
                self.send_error(400, "Bad request body")
                return
            request = Request(
                method=self.command,
                path=split.path,
                query=parse_qs(split.query, keep_blank_values=True),
                headers=Headers(self.headers.items()),
                body=body,
            )
            try:
                response = emulator._serve(request)
            except Dropped:
                self.close_connection = True
                close_quietly(self.connection)
                return
            try:
                self._write(response)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

        do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = _handle

        def _read_body(self) -> bytes:
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                chunks: list[bytes] = []
                while True:
                    size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                    if size == 0:
                        # Trailers end with an empty line.
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass
                        return b"".join(chunks)
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _write(self, response: Response) -> None:
            headers = dict(response.headers or {})
            if response.stream is not None:
                self.send_response(response.status)
                headers.setdefault("Content-Type", "text/event-stream")
                headers["Transfer-Encoding"] = "chunked"
                headers.setdefault("Cache-Control", "no-cache")
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                for chunk in response.stream:
                    if chunk:
                        self.wfile.write(f"{len(chunk):X}\r\n".encode() + chunk + b"\r\n")
                        self.wfile.flush()
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
                return
            if response.json is not None:
                payload = json.dumps(response.json).encode("utf-8")
                headers.setdefault("Content-Type", "application/json")
            else:
                payload = response.body
                headers.setdefault("Content-Type", "application/octet-stream")
            self.send_response(response.status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)
            self.wfile.flush()

    return _Handler


def close_quietly(conn: socket.socket) -> None:
    with contextlib.suppress(OSError):
        conn.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        conn.close()

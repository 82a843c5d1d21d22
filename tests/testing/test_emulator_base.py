"""The shared emulator base: routing, error envelopes, faults, request log, streaming, CLI."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from ftbridge.testing.emulator import ApiError, EmulatorServer, Request, Response, parse_fault


class EchoEmulator(EmulatorServer):
    def __init__(self, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.created = 0
        self.add_route("POST", r"/v1/things", self._create)
        self.add_route("GET", r"/v1/things/(?P<thing_id>[^/]+)", self._get)
        self.add_route("POST", r"/v1/upload", self._upload)
        self.add_route("GET", r"/v1/stream", self._stream)

    def error_body(
        self, status: int, message: str, code: str | None = None, param: str | None = None
    ) -> dict[str, object]:
        return {"oops": {"status": status, "message": message, "code": code, "param": param}}

    def _create(self, request: Request) -> Response:
        body = request.json()
        if not isinstance(body, dict) or "name" not in body:
            raise ApiError(400, "'name' is required", param="name")
        self.created += 1
        return Response(json={"id": f"thing-{self.created}", "name": body["name"]})

    def _get(self, request: Request) -> Response:
        return Response(
            json={"id": request.params["thing_id"], "limit": request.query_one("limit")}
        )

    def _upload(self, request: Request) -> Response:
        form = request.form()
        return Response(
            json={
                "purpose": form["purpose"].text,
                "filename": form["file"].filename,
                "content": form["file"].text,
            }
        )

    def _stream(self, request: Request) -> Response:
        def events() -> Iterator[bytes]:
            for i in range(3):
                yield f"data: {i}\n\n".encode()
            yield b"data: [DONE]\n\n"

        return Response(stream=events())


@pytest.fixture
def server() -> Iterator[EchoEmulator]:
    with EchoEmulator(seed=1) as emulator:
        yield emulator  # type: ignore[misc]


@pytest.fixture
def client(server: EchoEmulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=5) as c:
        yield c


def test_routes_params_query_and_json(client: httpx.Client, server: EchoEmulator) -> None:
    assert server.base_url == server.url + "/v1"
    assert client.post("/things", json={"name": "a"}).json() == {"id": "thing-1", "name": "a"}
    assert client.get("/things/abc", params={"limit": "3"}).json() == {"id": "abc", "limit": "3"}


def test_bad_body_and_unknown_route_use_the_subclass_envelope(client: httpx.Client) -> None:
    missing = client.post("/things", json={})
    assert missing.status_code == 400
    assert missing.json()["oops"]["param"] == "name"
    not_json = client.post("/things", content=b"{nope")
    assert not_json.status_code == 400
    assert "JSON" in not_json.json()["oops"]["message"]
    unknown = client.delete("/things/abc")
    assert unknown.status_code == 404
    assert "oops" in unknown.json()


def test_multipart_form_keeps_bytes_exactly(client: httpx.Client) -> None:
    content = '{"a": 1}\r\n{"b": "é"}\n'
    reply = client.post(
        "/upload",
        data={"purpose": "fine-tune"},
        files={"file": ("data.jsonl", content.encode(), "application/jsonl")},
    )
    assert reply.json() == {"purpose": "fine-tune", "filename": "data.jsonl", "content": content}


def test_status_fault_with_retry_after_then_recovers(
    client: httpx.Client, server: EchoEmulator
) -> None:
    server.faults.inject("POST", r"/v1/things", status=429, retry_after=2, times=2)
    first = client.post("/things", json={"name": "a"})
    assert first.status_code == 429
    assert first.headers["retry-after"] == "2"
    assert first.json()["oops"]["status"] == 429
    assert client.post("/things", json={"name": "a"}).status_code == 429
    assert client.post("/things", json={"name": "a"}).status_code == 200
    assert server.created == 1
    assert server.count("POST", r"/v1/things") == 3
    assert server.count("POST", r"/v1/things", handled=True) == 1
    assert [e.status for e in server.request_log] == [429, 429, 200]


def test_drop_closes_without_response_and_after_handling_loses_the_reply(
    client: httpx.Client, server: EchoEmulator
) -> None:
    server.faults.inject("POST", r"/v1/things", drop=True, times=1)
    with pytest.raises(httpx.RemoteProtocolError):
        client.post("/things", json={"name": "a"})
    assert server.created == 0
    server.faults.inject("POST", r"/v1/things", drop=True, times=1, after_handling=True)
    with pytest.raises(httpx.RemoteProtocolError):
        client.post("/things", json={"name": "a"})
    assert server.created == 1  # the server acted, the client never heard
    assert client.post("/things", json={"name": "a"}).json()["id"] == "thing-2"
    assert [e.status for e in server.request_log] == [0, 0, 200]


def test_delay_slows_then_handles(client: httpx.Client, server: EchoEmulator) -> None:
    server.faults.inject("GET", r"/v1/things/.*", delay=0.3, times=1)
    start = time.monotonic()
    assert client.get("/things/x").status_code == 200
    assert time.monotonic() - start >= 0.3
    with pytest.raises(httpx.ReadTimeout):
        server.faults.inject("GET", r"/v1/things/.*", delay=0.5, times=1)
        client.get("/things/x", timeout=0.1)


def test_rate_is_seeded_and_clear_removes_faults(server: EchoEmulator) -> None:
    def statuses(seed: int) -> list[int]:
        with EchoEmulator(seed=seed) as other, httpx.Client(base_url=other.base_url) as c:
            other.faults.inject("GET", r"/v1/things/.*", status=503, rate=0.5)
            return [c.get("/things/x").status_code for _ in range(20)]

    first = statuses(7)
    assert first == statuses(7)
    assert {200, 503} == set(first)
    server.faults.inject("GET", r".*", status=500)
    server.faults.clear()
    with httpx.Client(base_url=server.base_url) as c:
        assert c.get("/things/x").status_code == 200


def test_streaming_response_is_chunked_sse(client: httpx.Client) -> None:
    with client.stream("GET", "/stream") as reply:
        assert reply.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in reply.iter_lines() if line]
    assert lines == ["data: 0", "data: 1", "data: 2", "data: [DONE]"]


def test_concurrent_requests_are_all_logged(server: EchoEmulator) -> None:
    import threading

    def worker() -> None:
        with httpx.Client(base_url=server.base_url) as c:
            for _ in range(10):
                c.post("/things", json={"name": "x"})

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert server.created == 40
    assert len({e for e in server.request_log}) == 40


def test_stop_closes_keep_alive_connections(server: EchoEmulator) -> None:
    client = httpx.Client(base_url=server.base_url, timeout=2)
    assert client.get("/things/x").status_code == 200
    server.stop()
    with pytest.raises(httpx.TransportError):
        client.get("/things/x")
    client.close()


def test_parse_fault() -> None:
    assert parse_fault("post /v1/fine_tuning/jobs=429,retry_after=2,times=3") == {
        "method": "POST",
        "path_regex": "/v1/fine_tuning/jobs",
        "status": 429,
        "retry_after": 2.0,
        "times": 3,
    }
    assert parse_fault("GET /v1/files/.*=drop,after,rate=0.5") == {
        "method": "GET",
        "path_regex": "/v1/files/.*",
        "drop": True,
        "after_handling": True,
        "rate": 0.5,
    }
    assert parse_fault("GET /v1/x=delay=1.5")["delay"] == 1.5
    with pytest.raises(ValueError, match="cannot read option 'bogus'"):
        parse_fault("GET /v1/x=500,bogus")
    with pytest.raises(ValueError, match="expected"):
        parse_fault("GET")


def test_run_cli_serves_and_injects_faults(tmp_path: object) -> None:
    code = (
        "import sys\n"
        "from ftbridge.testing.emulator import EmulatorServer, run_cli\n"
        "sys.exit(run_cli(EmulatorServer, sys.argv[1:], 'test'))\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "--port", "0", "--fault", "GET /v1/ping=503,times=1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        base_url = proc.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/v1")
        with httpx.Client(base_url=base_url) as c:
            assert c.get("/ping").status_code == 503
            missing = c.get("/ping")
            assert missing.status_code == 404
            assert json.loads(missing.text)["error"]["message"]
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0


def test_run_cli_rejects_a_bad_fault() -> None:
    with pytest.raises(SystemExit) as exc:
        from ftbridge.testing.emulator import run_cli

        run_cli(EmulatorServer, ["--fault", "GET /x=teapot"])
    assert exc.value.code == 2

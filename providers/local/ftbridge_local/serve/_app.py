"""The HTTP side: a Starlette app with OpenAI's routes and vLLM's adapter routes.

``GET /health`` needs no key; every other route needs ``Authorization: Bearer <key>`` when the
server has one (compared with :func:`hmac.compare_digest`). Bodies are read up to a cap; a
streaming client that disconnects cancels its row, which leaves its batch at the next step.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from ._protocol import (
    APIError,
    ChatRequest,
    LoadAdapterRequest,
    UnloadAdapterRequest,
    chunk,
    completion,
    completion_id,
    error_body,
    model_list,
    parse,
)
from ._service import Service

log = logging.getLogger("ftbridge.serve")


def _error(exc: APIError) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    return JSONResponse(exc.body(), status_code=exc.status, headers=headers)


class App:
    """Routes bound to one :class:`Service`."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.spec = service.spec
        self._key = self.spec.api_key.encode() if self.spec.api_key else None

    def asgi(self) -> Starlette:
        routes = [
            Route("/health", self.health, methods=["GET"]),
            Route("/v1/models", self.models, methods=["GET"]),
            Route("/v1/models/{name:path}", self.one_model, methods=["GET"]),
            Route("/v1/chat/completions", self.chat, methods=["POST"]),
            Route("/v1/load_lora_adapter", self.load_adapter, methods=["POST"]),
            Route("/v1/unload_lora_adapter", self.unload_adapter, methods=["POST"]),
        ]

        async def http_error(request: Request, exc: Exception) -> Response:
            assert isinstance(exc, HTTPException)
            return JSONResponse(error_body(exc.status_code, str(exc.detail)), exc.status_code)

        return Starlette(routes=routes, exception_handlers={HTTPException: http_error})

    # -- request helpers ----------------------------------------------------------------------

    def _check_key(self, request: Request) -> None:
        if self._key is None:
            return
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        given = token.strip().encode() if scheme.lower() == "bearer" else b""
        if not hmac.compare_digest(given, self._key):
            raise APIError(401, "invalid or missing API key (send Authorization: Bearer <key>)")

    async def _json(self, request: Request) -> Any:
        cap = self.spec.max_body_bytes
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > cap:
            raise APIError(400, f"request body over {cap} bytes", code="request_too_large")
        body = bytearray()
        async for piece in request.stream():
            body += piece
            if len(body) > cap:
                raise APIError(400, f"request body over {cap} bytes", code="request_too_large")
        try:
            return json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise APIError(
                400,
                f"the request body is not valid JSON: {exc.msg if hasattr(exc, 'msg') else exc}",
            ) from None

    # -- routes -------------------------------------------------------------------------------

    async def health(self, request: Request) -> Response:
        """200 with what is loaded and how batching goes once ready; 503 before."""
        try:
            registry = self.service.require_ready()
        except APIError as exc:
            return _error(exc)
        assert self.service.scheduler is not None
        try:
            self._check_key(request)
        except APIError:  # without the key: up or not, nothing about what is served
            return JSONResponse({"status": "ok"})
        return JSONResponse(
            {"status": "ok", "loaded": registry.loaded(), **self.service.scheduler.stats()}
        )

    async def models(self, request: Request) -> Response:
        try:
            self._check_key(request)
            return JSONResponse(model_list(self.service.models(), self.service.base_name))
        except APIError as exc:
            return _error(exc)

    async def one_model(self, request: Request) -> Response:
        try:
            self._check_key(request)
            name = self.service.model(request.path_params["name"])
            return JSONResponse(model_list([name], self.service.base_name)["data"][0])
        except APIError as exc:
            return _error(exc)

    async def load_adapter(self, request: Request) -> Response:
        try:
            self._check_key(request)
            body = parse(LoadAdapterRequest, await self._json(request))
            await run_in_threadpool(self.service.load_adapter, body.lora_name, body.lora_path)
        except APIError as exc:
            return _error(exc)
        return PlainTextResponse(f"Success: LoRA adapter '{body.lora_name}' added successfully.")

    async def unload_adapter(self, request: Request) -> Response:
        try:
            self._check_key(request)
            body = parse(UnloadAdapterRequest, await self._json(request))
            await run_in_threadpool(self.service.unload_adapter, body.lora_name)
        except APIError as exc:
            return _error(exc)
        return PlainTextResponse(f"Success: LoRA adapter '{body.lora_name}' removed successfully.")

    async def chat(self, request: Request) -> Response:
        started = time.perf_counter()
        events: asyncio.Queue[tuple[Any, ...]] = asyncio.Queue()
        loop = asyncio.get_running_loop()

        def emit(event: tuple[Any, ...]) -> None:  # called from the batch thread
            try:
                loop.call_soon_threadsafe(events.put_nowait, event)
            except RuntimeError:  # the event loop is gone (shutting down): nobody to tell
                row.cancelled.set()

        try:
            self._check_key(request)
            body = parse(ChatRequest, await self._json(request))
            row = self.service.row_for(body, emit)
        except APIError as exc:
            return _error(exc)
        if self.spec.log_prompts:
            log.info(
                "prompt for %s: %s", body.model, json.dumps([m.as_dict() for m in body.messages])
            )
        self.service.submit(row)
        cid = completion_id()

        def finished(finish: str, usage: dict[str, int]) -> None:
            log.info(
                "chat model=%s prompt_tokens=%d completion_tokens=%d finish=%s %.2fs",
                body.model,
                usage["prompt_tokens"],
                usage["completion_tokens"],
                finish,
                time.perf_counter() - started,
            )

        if body.stream:
            include_usage = bool(body.stream_options and body.stream_options.include_usage)
            return StreamingResponse(
                self._sse(row, events, cid, body.model, include_usage, finished),
                media_type="text/event-stream",
                headers={"Cache-Control": "no-cache"},
            )
        try:
            parts: list[str] = []
            while True:
                try:
                    event = await asyncio.wait_for(events.get(), timeout=0.5)
                except asyncio.TimeoutError:
                    if await request.is_disconnected():
                        row.cancelled.set()
                        return Response(status_code=499)
                    continue
                if event[0] == "delta":
                    parts.append(event[1])
                elif event[0] == "done":
                    finished(event[1], event[2])
                    return JSONResponse(
                        completion(cid, body.model, "".join(parts), event[1], event[2])
                    )
                else:
                    return _error(APIError(event[1], event[2]))
        except BaseException:
            row.cancelled.set()
            raise

    async def _sse(
        self,
        row: Any,
        events: asyncio.Queue[tuple[Any, ...]],
        cid: str,
        model: str,
        include_usage: bool,
        finished: Any,
    ) -> AsyncIterator[str]:
        def data(obj: Any) -> str:
            return f"data: {json.dumps(obj, separators=(',', ':'))}\n\n"

        try:
            yield data(chunk(cid, model, {"role": "assistant", "content": ""}))
            while True:
                event = await events.get()
                if event[0] == "delta":
                    yield data(chunk(cid, model, {"content": event[1]}))
                elif event[0] == "done":
                    finished(event[1], event[2])
                    yield data(chunk(cid, model, {}, event[1]))
                    if include_usage:
                        yield data(chunk(cid, model, None, usage=event[2]))
                    break
                else:
                    yield data(error_body(event[1], event[2]))
                    break
            yield "data: [DONE]\n\n"
        finally:
            row.cancelled.set()  # a client that went away frees its place in the batch

"""Latency and fault injection, and request counters, for one mock upstream.

Wrapped around each mock app as ASGI middleware. Tests hold the `UpstreamControl`
object and change its `faults` or read its `requests` while the mock runs.

`hang` and `reset` behave over a real socket as they say: a hung call holds nothing once
its client has gone, and a reset is a TCP reset (not the server's 500 for an exception),
where the server's connection is known (`expose_connection`, outermost).
"""

from __future__ import annotations

import asyncio
import random
import socket
import struct
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send


@dataclass
class Faults:
    """What the upstream does wrong. Every field off by default."""

    latency_ms: float = 0.0  # added before every response
    jitter_ms: float = 0.0  # uniform extra latency, 0..jitter_ms
    error_rate: float = 0.0  # share of requests answered with `error_status`
    error_status: int = 503
    # the injected error's body and content type; None: a FHIR OperationOutcome as JSON
    # (set both to answer like a proxy's error page, e.g. an HTML 502)
    error_body: bytes | None = None
    error_content_type: str | None = None
    retry_after: int | None = None  # seconds, sent with injected errors
    hang: bool = False  # never answer (until the client gives up)
    reset: bool = False  # drop the connection without a response
    malformed: bool = False  # answer 200 with a body that is not JSON
    seed: int = 1
    fail_first: int = 0  # answer this many of the next requests with `error_status`
    truncated: bool = False  # send only the first half of the real answer's body
    slow_drip_ms: float = 0.0  # send the real body in small chunks, pausing between them
    drip_chunk_bytes: int = 256
    oversized_bytes: int = 0  # when set, answer 200 with a JSON body this large
    redirect_to: str | None = None  # answer 302 to this origin (another host)
    content_type: str | None = None  # label the real answer with this content type instead


@dataclass
class UpstreamControl:
    """Faults to inject and requests counted, for one named upstream."""

    name: str
    faults: Faults = field(default_factory=Faults)
    requests: Counter[str] = field(default_factory=Counter)  # by "METHOD /path"
    # (start, end) on the system-wide monotonic clock of each call answered, while not None
    calls: list[tuple[float, float]] | None = None

    def __post_init__(self) -> None:
        self._rng = random.Random(self.faults.seed)

    @property
    def total(self) -> int:
        """Requests served since the last reset."""
        return sum(self.requests.values())

    def reset(self) -> None:
        """Forget counted requests and clear all faults."""
        self.requests.clear()
        self.faults = Faults()

    def wrap(self, app: ASGIApp) -> ASGIApp:
        """The app with this control's faults and counting in front of it."""

        async def controlled(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            self.requests[f"{scope['method']} {scope['path']}"] += 1
            if self.calls is not None:
                send = _timed(send, self.calls)
            faults = self.faults
            delay = faults.latency_ms + (
                self._rng.uniform(0, faults.jitter_ms) if faults.jitter_ms else 0.0
            )
            if delay:
                await asyncio.sleep(delay / 1000)
            if faults.hang:
                await _until_disconnected(receive)
                return
            if faults.reset:
                await _reset(scope, receive)
                return
            if faults.fail_first > 0:
                faults.fail_first -= 1
                await _send_error(send, faults, self.name)
                return
            if faults.error_rate and self._rng.random() < faults.error_rate:
                await _send_error(send, faults, self.name)
                return
            if faults.malformed:
                await _send_raw(
                    send, 200, b'{"resourceType": "Bundle", "entry": [', b"application/json"
                )
                return
            if faults.redirect_to is not None:
                location = faults.redirect_to.rstrip("/") + scope["path"]
                await _send_raw(send, 302, b"", b"text/plain", [(b"location", location.encode())])
                return
            if faults.oversized_bytes:
                await _send_oversized(send, faults.oversized_bytes)
                return
            if faults.content_type is not None:
                send = _relabelled(send, faults.content_type)
            if faults.truncated or faults.slow_drip_ms:
                await _send_altered(app, scope, receive, send, faults)
                return
            await app(scope, receive, send)

        return controlled


CONNECTION = "helsegraf.mocks.connection"  # scope extension: the server's transport


def expose_connection(app: ASGIApp) -> ASGIApp:
    """`app` with the server's connection (its asyncio transport) in every HTTP scope's
    extensions, where the reset fault finds it. uvicorn's `send` is a method of its
    per-request cycle, which holds the transport; other servers and in-process
    transports have none, and a reset there is an exception the transport surfaces."""

    async def exposed(scope: Scope, receive: Receive, send: Send) -> None:
        transport = getattr(getattr(send, "__self__", None), "transport", None)
        if scope["type"] == "http" and _is_transport(transport):
            extensions = {**scope.get("extensions", {}), CONNECTION: transport}
            scope = {**scope, "extensions": extensions}
        await app(scope, receive, send)

    return exposed


def _is_transport(candidate: object) -> bool:
    """Looks like an asyncio transport (uvloop's are not `asyncio.Transport` subclasses)."""
    return all(callable(getattr(candidate, name, None)) for name in ("abort", "get_extra_info"))


async def _until_disconnected(receive: Receive) -> None:
    """Wait, answering nothing, until the client has gone."""
    while (await receive())["type"] != "http.disconnect":
        pass


async def _reset(scope: Scope, receive: Receive) -> None:
    """Drop the connection with a TCP reset, before any response."""
    transport = scope.get("extensions", {}).get(CONNECTION)
    if not _is_transport(transport):
        raise ConnectionResetError("mock upstream dropped the connection")
    sock = transport.get_extra_info("socket")
    if sock is not None:  # linger 0: close sends RST, not FIN
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
    await _until_disconnected(receive)  # the server then sends nothing more


def _timed(send: Send, calls: list[tuple[float, float]]) -> Send:
    """`send`, appending (start, end) to `calls` when the last body message has gone."""
    started = time.monotonic()

    async def timed(message: Message) -> None:
        await send(message)
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            calls.append((started, time.monotonic()))

    return timed


def _relabelled(send: Send, content_type: str) -> Send:
    """`send`, with the answer's content type replaced by `content_type`."""

    async def relabelled(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = [
                (k, v) for k, v in message.get("headers", []) if k.lower() != b"content-type"
            ]
            headers.append((b"content-type", content_type.encode("latin-1")))
            message = {**message, "headers": headers}
        await send(message)

    return relabelled


async def _send_raw(
    send: Send,
    status: int,
    body: bytes,
    content_type: bytes,
    extra: list[tuple[bytes, bytes]] | None = None,
) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    await send(
        {"type": "http.response.start", "status": status, "headers": headers + (extra or [])}
    )
    await send({"type": "http.response.body", "body": body})


async def _send_oversized(send: Send, size: int) -> None:
    """A valid JSON object of `size` bytes, streamed without a content-length."""
    head, tail = b'{"resourceType": "Bundle", "padding": "', b'"}'
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/fhir+json")],
        }
    )
    await send({"type": "http.response.body", "body": head, "more_body": True})
    left = max(0, size - len(head) - len(tail))
    while left:
        step = min(left, 64 * 1024)
        await send({"type": "http.response.body", "body": b"x" * step, "more_body": True})
        left -= step
    await send({"type": "http.response.body", "body": tail})


async def _send_altered(
    app: ASGIApp, scope: Scope, receive: Receive, send: Send, faults: Faults
) -> None:
    """The app's real answer, cut in half (`truncated`) and/or dripped out slowly."""
    start: dict[str, Any] = {}
    body = bytearray()

    async def capture(message: Message) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
        elif message["type"] == "http.response.body":
            body.extend(message.get("body", b""))

    await app(scope, receive, capture)
    data = bytes(body[: len(body) // 2]) if faults.truncated else bytes(body)
    headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
    headers.append((b"content-length", str(len(data)).encode()))
    await send({"type": "http.response.start", "status": start["status"], "headers": headers})
    step = max(1, faults.drip_chunk_bytes) if faults.slow_drip_ms else max(1, len(data))
    for offset in range(0, len(data), step):
        if faults.slow_drip_ms and offset:
            await asyncio.sleep(faults.slow_drip_ms / 1000)
        more = offset + step < len(data)
        await send(
            {"type": "http.response.body", "body": data[offset : offset + step], "more_body": more}
        )
    if not data:
        await send({"type": "http.response.body", "body": b""})


async def _send_error(send: Send, faults: Faults, name: str) -> None:
    """An injected error: `faults.error_status`, with `error_body` (or an OperationOutcome)."""
    body = faults.error_body
    content_type = (faults.error_content_type or "application/fhir+json").encode()
    if body is None:
        body = _outcome(name)
    retry_after = faults.retry_after
    extra = [(b"retry-after", str(retry_after).encode())] if retry_after is not None else []
    await _send_raw(send, faults.error_status, body, content_type, extra)


def _outcome(name: str) -> bytes:
    return orjson.dumps(
        {
            "resourceType": "OperationOutcome",
            "issue": [
                {
                    "severity": "error",
                    "code": "transient",
                    "diagnostics": f"{name} is temporarily unavailable (injected fault)",
                }
            ],
        }
    )

"""One request's answer, in the negotiated media type, and its access-log line."""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response

from gateway.graphql_http import json_response
from gateway.logs import NATIONAL_ID_RUN, REQUEST_ID
from gateway.overload import InFlightLimit
from gateway.responses import error_body
from resolvers.core.errors import ErrorCode
from resolvers.core.i18n import Language
from sources.waiting import WAITS

access_log = logging.getLogger("helsegraf.access")
_log = logging.getLogger("helsegraf.http")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
_OPERATION_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


def request_id_of(request: Request) -> str:
    """The caller's request id when well-formed, else a new one; never one that looks
    like it holds a national identity number, so logs need not redact request ids."""
    supplied = request.headers.get("x-request-id", "")
    if _REQUEST_ID.match(supplied) and not NATIONAL_ID_RUN.search(supplied):
        return supplied
    while NATIONAL_ID_RUN.search(made := os.urandom(16).hex()):
        pass
    return made


REFUSAL_LANGUAGE: Language = "en"  # refusals are not translated (resolvers.core.i18n)


@dataclass
class Exchange:
    """One request's answer in the negotiated media type, and the facts its access log
    line reports: no personal data, no query text, no variables.

    Every answer may hold personal data, so none may be stored by a browser or a shared
    cache (`Cache-Control: no-store`); each names the request headers it depends on
    (`Vary`: `vary`, plus `Accept-Language` for a result) and the language of its words
    (`Content-Language`: `language` for a result, English for a refusal).
    """

    request_id: str
    media_type: str
    vary: str = "Accept, Authorization"
    language: Language | None = None  # the negotiated language of an executed result
    operation: str | None = None
    principal: str | None = None
    client: str | None = None
    codes: set[str] = field(default_factory=set)

    def _headers(self, extra: dict[str, str] | None, *, translated: bool) -> dict[str, str]:
        sent = {**(extra or {}), "x-request-id": self.request_id, "cache-control": "no-store"}
        if translated and self.language is not None:
            sent["vary"] = f"{self.vary}, Accept-Language"
            sent["content-language"] = self.language
        else:
            sent["vary"] = self.vary
            sent["content-language"] = REFUSAL_LANGUAGE
        return sent

    def respond(
        self, payload: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
    ) -> Response:
        """`payload`, a refusal in English; its error codes go to the access log."""
        self.codes.update(e["extensions"]["code"] for e in payload.get("errors", ()))
        sent = self._headers(headers, translated=False)
        return json_response(payload, media_type=self.media_type, status=status, headers=sent)

    def respond_body(
        self,
        body: bytes,
        status: int = 200,
        codes: list[str] | None = None,
        after: Callable[[], Awaitable[None]] | None = None,
    ) -> Response:
        """An already serialised GraphQL response; `codes` are its errors' codes; `after`
        runs once the response has been sent. A 200 is a result in `language`; anything
        else never ran and is graphql-core's English."""
        self.codes.update(codes or ())
        return Response(
            body,
            status_code=status,
            headers=self._headers(None, translated=status == 200),
            media_type=f"{self.media_type}; charset=utf-8",
            background=None if after is None else BackgroundTask(after),
        )

    def refuse(
        self,
        message: str,
        code: ErrorCode,
        status: int,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> Response:
        """A refusal: one error with a catalogue code, nothing executed."""
        body = {"errors": [error_body(message, code, **extensions)]}
        return self.respond(body, status=status, headers=headers)

    def name(self, operation_name: str | None, persisted: str | None = None) -> None:
        """Log the persisted operation's name, else a well-formed client-chosen one."""
        if persisted is not None:
            self.operation = persisted
        elif operation_name is not None and _OPERATION_NAME.match(operation_name):
            self.operation = operation_name

    def log(self, request: Request, status: int, started: float) -> None:
        """The access-log line: one per request, however it ended."""
        access_log.info(
            "request",
            extra={
                "fields": {
                    "method": request.method,
                    "path": request.scope["path"],
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                    "operation": self.operation,
                    "principal": self.principal,
                    "client": self.client,
                    "codes": sorted(self.codes),
                }
            },
        )


async def guarded(
    request: Request,
    exchange: Exchange,
    in_flight: InFlightLimit,
    serve: Callable[[], Awaitable[Response]],
) -> Response:
    """Run `serve` for one request: shed it when the process is full (`in_flight`), turn
    an unexpected failure into a masked INTERNAL error, and write the access-log line
    either way."""
    reset = REQUEST_ID.set(exchange.request_id)
    started = time.perf_counter()
    status = 500
    try:
        seat = in_flight.enter()
        if seat is None:
            response = exchange.refuse(
                "The service is busy. Try again shortly.",
                ErrorCode.OVERLOADED,
                503,
                {"retry-after": "1"},
            )
        else:
            waits = WAITS.set(seat)  # its waits on upstreams do not count as using the CPU
            try:
                response = await serve()
            except Exception:
                _log.exception("unexpected failure serving a request")
                response = exchange.refuse(
                    f"Internal error. Quote request id {exchange.request_id} to support.",
                    ErrorCode.INTERNAL,
                    500,
                    requestId=exchange.request_id,
                )
            finally:
                WAITS.reset(waits)
                in_flight.leave(seat)
        status = response.status_code
        return response
    finally:
        exchange.log(request, status, started)
        REQUEST_ID.reset(reset)

"""Plumbing shared by the REST/JSON mock upstreams: problems, bodies, paging and `$batch`.

Persons are named in JSON bodies, never in URLs, and no error detail ever repeats a
value the client sent: details name the offending field and say what it should be.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast
from urllib.parse import unquote

import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Scope

from mocks.identity import InvalidNationalId, parse_national_id

PROBLEM_BASE = "https://helsegraf.example/problems/"
MAX_BODY_BYTES = 1 << 20
MAX_BATCH = 20
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100
_IN_BATCH = "helsegraf.in_batch"  # scope key marking a request dispatched by `$batch`
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
_SUB_FIELDS = ("id", "method", "url", "body", "headers")
_COPIED = ("asgi", "scheme", "server", "client", "app_root_path")  # from the batch's scope
_HEADER_TEXT = re.compile(r"[!-~][ -~]{0,199}")

T = TypeVar("T")


@dataclass
class Problem(Exception):
    """An RFC 9457 problem to answer with; `detail` must never carry personal data."""

    status: int
    slug: str
    title: str
    detail: str
    headers: dict[str, str] = field(default_factory=dict)

    def response(self) -> Response:
        """The `application/problem+json` response for this problem."""
        body = {"type": PROBLEM_BASE + self.slug, "title": self.title, "status": self.status}
        return Response(
            orjson.dumps({**body, "detail": self.detail}),
            status_code=self.status,
            media_type="application/problem+json",
            headers=self.headers,
        )


def bad_request(detail: str) -> Problem:
    """A 400 problem; `detail` names the field and what it must be."""
    return Problem(400, "invalid-request", "Invalid request", detail)


def stable_int(text: str) -> int:
    """A deterministic non-negative integer derived from `text` (stable across runs)."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


class JsonResponse(Response):
    """A JSON response rendered with orjson."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


# -- request bodies ---------------------------------------------------------------------


def check_nin(value: Any, where: str) -> str:
    """`value` if it is a well-formed national identity number; else a 400 naming `where`."""
    if not isinstance(value, str):
        raise bad_request(f"{where} must be a string holding a national identity number.")
    try:
        parse_national_id(value)
    except InvalidNationalId as exc:
        raise bad_request(f"{where} is not a valid national identity number: {exc}.") from None
    return value


@dataclass(frozen=True, slots=True)
class Page:
    """Which slice of a list one request asked for; tokens are bound to one query."""

    size: int
    offset: int
    key: str

    def take(self, items: Sequence[T]) -> tuple[list[T], str | None]:
        """This page's items and the token for the next page (None on the last page)."""
        end = self.offset + self.size
        return list(items[self.offset : end]), (_token(end, self.key) if end < len(items) else None)


def _token(offset: int, key: str) -> str:
    digest = hashlib.sha256(f"page:{key}".encode()).hexdigest()[:16]
    return base64.urlsafe_b64encode(f"{offset}:{digest}".encode()).decode().rstrip("=")


def _offset(token: str, key: str) -> int | None:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (ValueError, binascii.Error):
        return None
    offset = raw.partition(":")[0]
    if not (offset.isascii() and offset.isdigit() and len(offset) < 10):
        return None
    return int(offset) if _token(int(offset), key) == token else None


class Body:
    """A request's JSON object with typed accessors; every error names its field."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def nin(self, name: str) -> str:
        """A required national identity number."""
        if name not in self.data:
            raise bad_request(f"{name} is required.")
        return check_nin(self.data[name], name)

    def nins(self, name: str, limit: int = 100) -> list[str]:
        """A required list of 1..`limit` national identity numbers, duplicates dropped."""
        value = self.data.get(name)
        if not isinstance(value, list) or not 1 <= len(value) <= limit:
            raise bad_request(f"{name} must be a list of 1 to {limit} national identity numbers.")
        checked = [check_nin(item, f"{name}[{n}]") for n, item in enumerate(value)]
        return list(dict.fromkeys(checked))

    def optional_date(self, name: str) -> dt.date | None:
        """An optional `YYYY-MM-DD` date, or None when absent or null."""
        value = self.data.get(name)
        if value is None:
            return None
        if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value, re.ASCII):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
        raise bad_request(f"{name} must be a date written YYYY-MM-DD.")

    def page(self, key: str) -> Page:
        """The `pageSize` and `pageToken` of a list request; `key` names the query."""
        size = self.data.get("pageSize", DEFAULT_PAGE_SIZE)
        if type(size) is not int or not 1 <= size <= MAX_PAGE_SIZE:
            raise bad_request(f"pageSize must be an integer from 1 to {MAX_PAGE_SIZE}.")
        token = self.data.get("pageToken")
        if token is None:
            return Page(size, 0, key)
        if not isinstance(token, str):
            raise bad_request("pageToken must be a string (a nextPageToken from this query).")
        offset = _offset(token, key) if len(token) < 200 else None
        if offset is None:
            raise bad_request("pageToken is not a token this endpoint issued for this query.")
        return Page(size, offset, key)


PAGE_FIELDS = ("pageSize", "pageToken")


async def read_body(request: Request, *fields: str) -> Body:
    """The request's JSON object, refusing anything else and any field not in `fields`."""
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise Problem(413, "body-too-large", "Body too large", "The request body exceeds 1 MiB.")
    if not raw.strip():
        raise bad_request("The request body is empty; send a JSON object.")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise bad_request("The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise bad_request("The request body must be a JSON object.")
    unexpected = sum(1 for name in data if name not in fields)
    if unexpected:
        raise bad_request(
            f"The request body has {unexpected} unexpected field(s); "
            f"this endpoint accepts only: {', '.join(fields)}."
        )
    return Body(data)


# -- `$batch` --------------------------------------------------------------------------


def _sub_request(item: Any, where: str, seen: set[str]) -> tuple[str, Scope, bytes]:
    if not isinstance(item, dict):
        raise bad_request(f"{where} must be an object with id, method, url and body.")
    if set(item) - set(_SUB_FIELDS):
        raise bad_request(f"{where} has unexpected fields; allowed: {', '.join(_SUB_FIELDS)}.")
    rid = item.get("id")
    if not isinstance(rid, str) or not 1 <= len(rid) <= 100:
        raise bad_request(f"{where}.id must be a string of 1 to 100 characters.")
    if rid in seen:
        raise bad_request(f"{where}.id repeats an earlier id; ids in a batch must be unique.")
    seen.add(rid)
    method = item.get("method")
    if not isinstance(method, str) or method.upper() not in _METHODS:
        raise bad_request(f"{where}.method must be one of {', '.join(_METHODS)}.")
    url = item.get("url")
    if not isinstance(url, str) or not url.startswith("/") or url.startswith("//"):
        raise bad_request(f"{where}.url must be a path within this API, starting with '/'.")
    path, _, query = url.partition("?")
    if unquote(path).rstrip("/") == "/$batch":
        raise bad_request(f"{where}.url names $batch; a batch cannot contain another batch.")
    given = item.get("headers") or {}
    if not isinstance(given, dict) or not all(
        isinstance(v, str) and _HEADER_TEXT.fullmatch(k) and _HEADER_TEXT.fullmatch(v)
        for k, v in given.items()
    ):
        raise bad_request(f"{where}.headers must be an object of printable ASCII strings.")
    body = b"" if item.get("body") is None else orjson.dumps(item["body"])
    headers = [(k.lower().encode(), v.encode()) for k, v in given.items()]
    headers = [h for h in headers if h[0] not in (b"content-type", b"content-length")]
    headers += [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    scope = {"method": method.upper(), "path": unquote(path), "raw_path": path.encode()}
    return rid, {**scope, "query_string": query.encode(), "headers": headers}, body


async def _dispatch(app: ASGIApp, outer: Scope, rid: str, sub: Scope, body: bytes) -> Any:
    root = outer.get("root_path", "")
    scope: Scope = {
        **{k: outer[k] for k in _COPIED if k in outer},
        **sub,
        "type": "http",
        "http_version": "1.1",
        "root_path": root,
        "path": root + sub["path"],
        "raw_path": root.encode() + sub["raw_path"],
        "state": dict(outer.get("state", {})),
        _IN_BATCH: True,
    }
    delivered = False
    started: dict[str, Any] = {}
    chunks: list[bytes] = []

    async def receive() -> Message:
        nonlocal delivered
        if delivered:
            return {"type": "http.disconnect"}
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            started.update(message)
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    try:
        await app(scope, receive, send)
    except Exception:  # the app already answered 500 if it could; never fail the batch
        if not started:
            return {"id": rid, "status": 500, "body": orjson.loads(_internal().response().body)}
    raw = b"".join(chunks)
    content_type = dict(started.get("headers", [])).get(b"content-type", b"")
    out: Any = None
    if raw:
        out = orjson.loads(raw) if b"json" in content_type else raw.decode("utf-8", "replace")
    return {"id": rid, "status": started.get("status", 500), "body": out}


async def _batch(request: Request) -> Response:
    if request.scope.get(_IN_BATCH):
        raise bad_request("A batch cannot contain another batch.")
    requests = (await read_body(request, "requests")).data.get("requests")
    if not isinstance(requests, list) or not requests:
        raise bad_request("requests must be a non-empty list of sub-requests.")
    if len(requests) > MAX_BATCH:
        raise bad_request(f"requests holds more than {MAX_BATCH} sub-requests; split the batch.")
    seen: set[str] = set()
    subs = [_sub_request(item, f"requests[{n}]", seen) for n, item in enumerate(requests)]
    app, outer = cast(ASGIApp, request.scope["app"]), request.scope
    return JsonResponse({"responses": [await _dispatch(app, outer, *sub) for sub in subs]})


# -- the app ---------------------------------------------------------------------------


def _internal() -> Problem:
    return Problem(500, "internal-error", "Internal error", "The upstream failed unexpectedly.")


async def _on_problem(request: Request, exc: Exception) -> Response:
    return cast(Problem, exc).response()


async def _on_http(request: Request, exc: Exception) -> Response:
    http = cast(HTTPException, exc)
    if http.status_code == 404:
        return Problem(404, "not-found", "Not found", "No endpoint exists at this path.").response()
    if http.status_code == 405:
        allow = (http.headers or {}).get("Allow", "")
        detail = f"This endpoint does not accept this method; allowed: {allow}."
        problem = Problem(405, "method-not-allowed", "Method not allowed", detail, {"Allow": allow})
        return problem.response()
    title = http.detail or "HTTP error"
    return Problem(
        http.status_code, "http-error", title, title, dict(http.headers or {})
    ).response()


async def _on_error(request: Request, exc: Exception) -> Response:
    return _internal().response()


def create_json_api(routes: Sequence[BaseRoute]) -> Starlette:
    """A Starlette app serving `routes` plus `POST /$batch`, answering errors as problems."""
    return Starlette(
        routes=[*routes, Route("/$batch", _batch, methods=["POST"])],
        exception_handlers={Problem: _on_problem, HTTPException: _on_http, Exception: _on_error},
    )

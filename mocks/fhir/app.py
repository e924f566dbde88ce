"""The EHR mock's HTTP face: a FHIR R4 REST server over JSON, as a Starlette app.

Routes, relative to wherever the app is mounted (e.g. `/ehr/fhir/R4`):

    GET  /metadata                CapabilityStatement
    POST /                        batch of GETs -> batch-response
    GET  /{type}?params           search -> searchset Bundle
    POST /{type}/_search          search, form-encoded parameters
    POST /{type}                  create -> 201 with Location and ETag (200 and the
                                  existing resource when If-None-Exist matches)
    PUT  /{type}/{id}             update with If-Match -> 200 with the new ETag
    GET  /{type}/{id}             read (Binary also as raw text when asked for text/plain)

Every error is an OperationOutcome with `application/fhir+json`.
"""

from __future__ import annotations

import base64
import datetime as dt
import email.utils
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mocks.fhir.batch import run_batch
from mocks.fhir.outcome import FhirError, operation_outcome
from mocks.fhir.service import FhirService
from mocks.fhir.writes import parse_body
from mocks.records import RecordStore

FHIR_JSON = "application/fhir+json"
FORM = "application/x-www-form-urlencoded"


class FhirResponse(Response):
    """A FHIR JSON body, serialised with orjson."""

    media_type = FHIR_JSON

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def base_url(request: Request) -> str:
    """This server's absolute base url, ending in `/`, including any mount prefix.

    `request.base_url` is the outermost app's root, not the mount point, so the
    prefix comes from the ASGI `root_path` that `Mount` extends.
    """
    root = str(request.scope.get("root_path", "")).rstrip("/")
    return f"{request.url.scheme}://{request.url.netloc}{root}/"


def _strict(request: Request) -> bool:
    prefer = request.headers.get("prefer", "")
    return any(
        p.strip().replace(" ", "") == "handling=strict" for p in prefer.replace(";", ",").split(",")
    )


def create_fhir_app(store: RecordStore) -> Starlette:
    """A FHIR R4 server over `store`, serving at its own root."""
    service = FhirService(store)

    async def metadata(request: Request) -> Response:
        return FhirResponse(service.metadata(base_url(request)))

    async def read(request: Request) -> Response:
        resource = service.read(request.path_params["type"], request.path_params["id"])
        headers = _version_headers(resource)
        accept = request.headers.get("accept", "")
        if resource["resourceType"] == "Binary" and "text/plain" in accept and "json" not in accept:
            return Response(
                _binary_bytes(resource), media_type="text/plain; charset=utf-8", headers=headers
            )
        return FhirResponse(resource, headers=headers)

    async def search(request: Request) -> Response:
        pairs = parse_qsl(request.url.query, keep_blank_values=True)
        if request.method == "POST":
            kind = request.headers.get("content-type", FORM).split(";")[0].strip().lower()
            if kind != FORM:
                raise FhirError(415, "not-supported", f"POST _search takes {FORM}")
            pairs += parse_qsl((await request.body()).decode(), keep_blank_values=True)
        bundle = service.search(
            request.path_params["type"], pairs, base=base_url(request), strict=_strict(request)
        )
        return FhirResponse(bundle)

    async def create(request: Request) -> Response:
        data = parse_body(await _json_body(request))
        written = service.create(
            request.path_params["type"],
            data,
            if_none_exist=request.headers.get("if-none-exist"),
        )
        resource = written.indexed.resource
        version = resource["meta"]["versionId"]
        url = f"{base_url(request)}{resource['resourceType']}/{resource['id']}/_history/{version}"
        headers = {"location": url, **_version_headers(resource)}
        return FhirResponse(resource, status_code=201 if written.created else 200, headers=headers)

    async def put(request: Request) -> Response:
        data = parse_body(await _json_body(request))
        resource = service.update(
            request.path_params["type"],
            request.path_params["id"],
            data,
            if_match=request.headers.get("if-match"),
        ).resource
        return FhirResponse(resource, headers=_version_headers(resource))

    async def batch(request: Request) -> Response:
        body = await request.body()
        return FhirResponse(
            run_batch(service, body, base=base_url(request), strict=_strict(request))
        )

    return Starlette(
        routes=[
            Route("/metadata", metadata, methods=["GET"]),
            Route("/", batch, methods=["POST"]),
            Route("/{type}/_search", search, methods=["GET", "POST"]),
            Route("/{type}/{id}", read, methods=["GET"]),
            Route("/{type}/{id}", put, methods=["PUT"]),
            Route("/{type}", search, methods=["GET"]),
            Route("/{type}", create, methods=["POST"]),
        ],
        exception_handlers={FhirError: _fhir_error, HTTPException: _http_error},
    )


async def _json_body(request: Request) -> bytes:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in (FHIR_JSON, "application/json"):
        raise FhirError(415, "not-supported", f"A write takes {FHIR_JSON}")
    return await request.body()


def _version_headers(resource: dict[str, Any]) -> dict[str, str]:
    meta = resource["meta"]
    updated = dt.datetime.fromisoformat(meta["lastUpdated"])
    return {
        "etag": f'W/"{meta["versionId"]}"',
        "last-modified": email.utils.format_datetime(updated.astimezone(dt.UTC), usegmt=True),
    }


def _binary_bytes(resource: dict[str, Any]) -> bytes:
    return base64.b64decode(resource["data"])


async def _fhir_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, FhirError)
    return FhirResponse(exc.outcome, status_code=exc.status)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        code, text = (
            "not-supported",
            f"{request.method} is not supported here",
        )
    elif exc.status_code == 404:
        code, text = "not-found", "No such endpoint"
    else:
        code, text = "processing", "The request could not be processed"
    return FhirResponse(
        operation_outcome(code, text), status_code=exc.status_code, headers=exc.headers
    )

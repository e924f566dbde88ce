"""Batch: `POST /` with a Bundle of type `batch` whose entries are GETs or creates.

Each entry is answered on its own (`200 OK`, `201 Created`, `404 Not Found`, ...) with
the read resource, the searchset Bundle, the created resource or an OperationOutcome.
A POST entry creates its `resource` at `request.url` (only `Communication`); any other
method answers that entry with 405. A body that is not a batch Bundle is a 400 for the
whole request.
"""

from __future__ import annotations

from typing import Any

import orjson

from mocks.fhir.bundles import batch_response
from mocks.fhir.model import Resource
from mocks.fhir.outcome import FhirError, status_line
from mocks.fhir.service import FhirService

MAX_ENTRIES = 500


def run_batch(service: FhirService, body: bytes, *, base: str, strict: bool) -> Resource:
    """The batch-response for a batch request body; FhirError 400 when it is not one."""
    bundle = _parse(body)
    return batch_response(_answer(service, entry, base, strict) for entry in bundle["entry"])


def _parse(body: bytes) -> dict[str, Any]:
    try:
        bundle = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise FhirError(400, "structure", "The request body is not valid JSON") from None
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise FhirError(400, "structure", "Expected a Bundle resource")
    if bundle.get("type") == "transaction":
        raise FhirError(400, "not-supported", "Transactions are not supported yet; send a batch")
    if bundle.get("type") != "batch":
        raise FhirError(400, "structure", "Expected a Bundle of type batch")
    entries = bundle.setdefault("entry", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise FhirError(400, "structure", "Bundle.entry must be a list of entries")
    if len(entries) > MAX_ENTRIES:
        raise FhirError(400, "too-costly", f"A batch may hold at most {MAX_ENTRIES} entries")
    return bundle


def _answer(service: FhirService, entry: dict[str, Any], base: str, strict: bool) -> Resource:
    request = entry.get("request")
    try:
        if not isinstance(request, dict) or not isinstance(request.get("url"), str):
            raise FhirError(400, "structure", "Each entry needs request.method and request.url")
        method = request.get("method")
        if method == "POST":
            return _create(service, entry, request["url"], base)
        if method != "GET":
            raise FhirError(405, "not-supported", "Only GET and POST entries are supported")
        resource = service.get(request["url"], base=base, strict=strict)
    except FhirError as error:
        return {"resource": error.outcome, "response": {"status": status_line(error.status)}}
    response: Resource = {"status": status_line(200)}
    out: Resource = {"resource": resource, "response": response}
    if resource["resourceType"] not in ("Bundle", "CapabilityStatement"):
        out["fullUrl"] = f"{base}{resource['resourceType']}/{resource['id']}"
        response["etag"] = f'W/"{resource["meta"]["versionId"]}"'
        response["lastModified"] = resource["meta"]["lastUpdated"]
    return out


def _create(service: FhirService, entry: dict[str, Any], url: str, base: str) -> Resource:
    segments = service.relative(url, base=base)
    if len(segments) != 1 or "?" in url:
        raise FhirError(400, "not-supported", "A POST entry's url must be a resource type")
    created = service.create(segments[0], entry.get("resource")).indexed.resource
    full_url = f"{base}{created['resourceType']}/{created['id']}"
    return {
        "fullUrl": full_url,
        "resource": created,
        "response": {
            "status": status_line(201),
            "location": f"{full_url}/_history/1",
            "etag": 'W/"1"',
            "lastModified": created["meta"]["lastUpdated"],
        },
    }

"""Bundles: searchset pages with their links and includes, and batch responses.

`fullUrl` and `link` urls are absolute, built from the base url the request came in
on (including any mount prefix). A page's includes follow that page's matches only and
are listed once each, after the matches, with `search.mode` `include`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from urllib.parse import urlencode

from mocks.fhir.model import Indexed, Resource
from mocks.fhir.params import PAGE_PARAM
from mocks.fhir.repository import Repository
from mocks.fhir.search import Query, page_token

SUBSETTED = {
    "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
    "code": "SUBSETTED",
    "display": "subsetted",
}
# Elements kept under `_elements` whether asked for or not: R4's mandatory ones.
MANDATORY = {
    "Appointment": ("status", "participant"),
    "Communication": ("status",),
    "Observation": ("status", "code"),
    "DiagnosticReport": ("status", "code"),
    "MedicationStatement": ("status", "medicationCodeableConcept", "subject"),
    "DocumentReference": ("status", "content"),
    "Immunization": ("status", "vaccineCode", "patient", "occurrenceDateTime"),
    "AuditEvent": ("type", "recorded", "agent", "source"),
}


def _bundle(kind: str) -> Resource:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "meta": {"lastUpdated": now.isoformat()},
        "type": kind,
    }


def search_url(base: str, type_: str, params: Iterable[tuple[str, str]]) -> str:
    """The absolute GET url of a search."""
    query = urlencode(list(params))
    return f"{base}{type_}" + (f"?{query}" if query else "")


def searchset(query: Query, matches: list[Indexed], repo: Repository, base: str) -> Resource:
    """One page of a search result, with `self`, `previous` and `next` links."""
    bundle = _bundle("searchset")
    bundle["total"] = len(matches)
    type_ = query.type.name

    def link(offset: int) -> str:
        extra = [(PAGE_PARAM, page_token(query.params, offset))] if offset else []
        return search_url(base, type_, [*query.params, *extra])

    links = [{"relation": "self", "url": link(query.offset)}]
    bundle["link"] = links
    if query.summary_count or query.count == 0:
        return bundle
    end = query.offset + query.count
    if query.offset > 0:
        links.append({"relation": "previous", "url": link(max(0, query.offset - query.count))})
    if end < len(matches):
        links.append({"relation": "next", "url": link(end)})
    page = matches[query.offset : end]
    entries = [_entry(base, _subset(r.resource, query.elements), "match") for r in page]
    entries += [_entry(base, r.resource, "include") for r in _included(query, page, repo)]
    if entries:
        bundle["entry"] = entries
    return bundle


def _entry(base: str, resource: Resource, mode: str) -> Resource:
    return {
        "fullUrl": f"{base}{resource['resourceType']}/{resource['id']}",
        "resource": resource,
        "search": {"mode": mode},
    }


def _included(query: Query, page: list[Indexed], repo: Repository) -> list[Indexed]:
    seen = {(r.type, r.id) for r in page}
    out: list[Indexed] = []
    for include in query.includes:
        for resource in page:
            for reference in resource.refs.get(include.param, ()):
                if reference.partition("/")[0] not in include.targets:
                    continue
                found = repo.find(reference)
                if found is not None and (found.type, found.id) not in seen:
                    seen.add((found.type, found.id))
                    out.append(found)
    return out


def _subset(resource: Resource, elements: frozenset[str] | None) -> Resource:
    if elements is None:
        return resource
    keep = {"resourceType", "id", "meta", *elements, *MANDATORY.get(resource["resourceType"], ())}
    out = {k: v for k, v in resource.items() if k in keep}
    out["meta"] = {**resource["meta"], "tag": [SUBSETTED]}
    return out


def batch_response(entries: Iterable[Resource]) -> Resource:
    """A batch-response Bundle around already-built entries."""
    bundle = _bundle("batch-response")
    bundle["entry"] = list(entries)
    return bundle

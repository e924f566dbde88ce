"""The CapabilityStatement served at `/metadata`, generated from the type table."""

from __future__ import annotations

import datetime as dt

from mocks.fhir.model import Resource
from mocks.fhir.params import TYPES, TypeDef

SOFTWARE = {"name": "helsegraf EHR mock", "version": "0.1.0"}


def capability_statement(base: str, today: dt.date) -> Resource:
    """What this server does: R4 (4.0.1), JSON, reads, searches, batch, and creating
    Communications."""
    return {
        "resourceType": "CapabilityStatement",
        "id": "helsegraf-ehr-mock",
        "status": "active",
        "date": today.isoformat(),
        "publisher": "helsegraf",
        "kind": "instance",
        "software": SOFTWARE,
        "implementation": {"description": "Synthetic EHR for helsegraf tests", "url": base},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "rest": [
            {
                "mode": "server",
                "documentation": (
                    "Searches of patient data must name a patient (patient, subject or _id). "
                    "Unknown parameters are ignored unless Prefer: handling=strict is sent. "
                    "_count defaults to 50 (at most 200); follow the next link to page."
                ),
                "resource": [_resource(t) for t in TYPES.values()],
                "interaction": [{"code": "batch"}],
            }
        ],
    }


def _resource(type_: TypeDef) -> Resource:
    interactions = [{"code": "read"}] + ([{"code": "search-type"}] if type_.searchable else [])
    interactions += [{"code": "create"}] if type_.creatable else []
    out: Resource = {
        "type": type_.name,
        "interaction": interactions,
        "versioning": "versioned",
        "readHistory": False,
        "updateCreate": False,
    }
    if not type_.searchable:
        return out
    params = [type_.param("_id"), *type_.params]
    out["searchParam"] = [
        {"name": p.name, "type": p.kind, "documentation": p.doc}
        | ({"definition": p.definition} if p.definition else {})
        for p in params
        if p is not None
    ]
    if type_.includes:
        out["searchInclude"] = [f"{type_.name}:{name}" for name in type_.includes]
    return out

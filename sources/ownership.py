"""Records that belong to another person than the one asked for are dropped, and logged.

An upstream that mixes up people must not put one person's records on another's screen.
These checks run where each client parses an answer; a record that names no owner at
all is dropped too. The log names the upstream, the kind of record and how many were
dropped, never an id or a national identity number.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Collection, Iterable
from typing import Any

log = logging.getLogger("helsegraf.sources")

Json = dict[str, Any]
NIN_SYSTEM = "urn:oid:2.16.578.1.12.4.1.4.1"


def _patient_refs(resource: Json) -> list[str] | None:
    """The Patient references that say whose a resource is; None for shared resources."""
    kind = resource.get("resourceType")
    if kind == "Appointment":
        refs = [(p.get("actor") or {}).get("reference") for p in resource.get("participant", ())]
    elif kind in (
        "Communication",
        "Observation",
        "MedicationStatement",
        "DocumentReference",
        "ServiceRequest",
        "CareTeam",
    ):
        refs = [(resource.get("subject") or {}).get("reference")]
    elif kind == "EpisodeOfCare":
        refs = [(resource.get("patient") or {}).get("reference")]
    elif kind == "Task":
        refs = [(resource.get("for") or {}).get("reference")]
    elif kind == "AuditEvent":
        refs = [(e.get("what") or {}).get("reference") for e in resource.get("entity", ())]
    else:
        return None  # Practitioner, Location, OperationOutcome: nobody's in particular
    return [
        r for r in refs if isinstance(r, str) and (r.startswith("Patient/") or "/Patient/" in r)
    ]


def _is_patient(reference: str, patient_id: str) -> bool:
    target = f"Patient/{patient_id}"
    return reference == target or reference.endswith("/" + target)


def belongs_to_patient(resource: Json, patient_id: str) -> bool:
    """True when the resource names the patient as its owner, and no other patient."""
    refs = _patient_refs(resource)
    if refs is None:
        return True
    return bool(refs) and all(_is_patient(r, patient_id) for r in refs)


def patient_has_nin(resource: Json, nin: str) -> bool:
    """True when a Patient resource carries `nin` as its national identity number."""
    return any(
        i.get("system") == NIN_SYSTEM and i.get("value") == nin
        for i in resource.get("identifier", ())
        if isinstance(i, dict)
    )


def own_resources(resources: Iterable[Json], patient_id: str, *, source: str) -> list[Json]:
    """The FHIR resources that belong to `patient_id`; the rest are dropped and logged."""
    kept: list[Json] = []
    dropped: Counter[str] = Counter()
    for resource in resources:
        if belongs_to_patient(resource, patient_id):
            kept.append(resource)
        else:
            dropped[str(resource.get("resourceType"))] += 1
    _report(source, dropped)
    return kept


def own_patients(resources: Iterable[Json], nin: str, *, source: str) -> list[Json]:
    """The Patient resources that carry `nin`; the rest are dropped and logged."""
    kept: list[Json] = []
    dropped: Counter[str] = Counter()
    for resource in resources:
        if patient_has_nin(resource, nin):
            kept.append(resource)
        else:
            dropped["Patient"] += 1
    _report(source, dropped)
    return kept


def own_items(
    items: Iterable[Any], nins: Collection[str], *, source: str, kind: str, key: str = "nin"
) -> list[Any]:
    """The REST items whose `key` is one of `nins`; items without the key are kept.

    Items that carry no national identity number (most lists are asked for by one) cannot
    be checked here; items that carry another person's are dropped and logged.
    """
    kept: list[Any] = []
    dropped = 0
    for item in items:
        if isinstance(item, dict) and key in item and item[key] not in nins:
            dropped += 1
        else:
            kept.append(item)
    _report(source, Counter({kind: dropped}) if dropped else Counter())
    return kept


def _report(source: str, dropped: Counter[str]) -> None:
    for kind, count in sorted(dropped.items()):
        log.warning(
            "%s returned %d %s record(s) belonging to another person; dropped",
            source,
            count,
            kind,
        )

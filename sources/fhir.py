"""Parsing FHIR R4 JSON into the gateway's typed records (plain dict access: it is hot)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from authz.facts import NO_LABELS, Address, Security
from sources.errors import UpstreamBadResponse
from sources.models import EHR, AccessEvent, LabResult, Location, Message, Practitioner

Json = dict[str, Any]
EXT = "https://fhir.helsegraf.dev/StructureDefinition/"
RELEASE_CATEGORY_URL = EXT + "release-category"
REVIEWED_URL = EXT + "reviewed"
RELEASED_URL = EXT + "released"
PATIENT_READ_URL = EXT + "patient-read"
SENT_BY_BASIS_URL = EXT + "sent-by-basis"
ATC_SYSTEM = "http://www.whocc.no/atc"
CONFIDENTIALITY = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
PORTAL_VISIBILITY = "https://fhir.helsegraf.dev/CodeSystem/portal-visibility"
THREAD_SYSTEM = "https://fhir.helsegraf.dev/NamingSystem/message-thread"
COUNTERPART_SYSTEM = "https://fhir.helsegraf.dev/CodeSystem/message-counterpart"
RECIPIENT_SYSTEM = "https://fhir.helsegraf.dev/NamingSystem/message-recipient"
_COUNTERPART_KINDS = {"hospital": "HOSPITAL", "gp": "GP", "municipality": "MUNICIPALITY"}


def _extension(resource: Json, url: str) -> Any:
    for extension in resource.get("extension", ()):
        if extension.get("url") == url:
            for key, value in extension.items():
                if key.startswith("value"):
                    return value
    return None


def security(resource: Json) -> Security:
    """The item's security labels and release facts, as the item filters read them."""
    labels = (resource.get("meta") or {}).get("security") or ()
    release = _extension(resource, RELEASE_CATEGORY_URL)
    by_guardian = _extension(resource, SENT_BY_BASIS_URL) == "PARENT"
    if not labels and release is None and not by_guardian:
        return NO_LABELS
    confidentiality = None
    sensitivity: set[str] = set()
    visibility: set[str] = set()
    for coding in labels:
        system, code = coding.get("system"), coding.get("code")
        if system == CONFIDENTIALITY:
            confidentiality = code
        elif system == ACT_CODE and isinstance(code, str):
            sensitivity.add(code)
        elif system == PORTAL_VISIBILITY and isinstance(code, str):
            visibility.add(code)
    return Security(
        confidentiality=confidentiality,
        sensitivity=frozenset(sensitivity),
        not_shown_electronically="not-shown-electronically" in visibility,
        kept_from_guardians="kept-from-guardians" in visibility,
        release_category=release if isinstance(release, int) else None,
        reviewed_at=when(_extension(resource, REVIEWED_URL)),
        released_at=when(_extension(resource, RELEASED_URL)),
        written_by_guardian=by_guardian,
    )


def when(value: Any) -> dt.datetime | None:
    """A FHIR dateTime/instant as an aware datetime (UTC when it names no zone); None when
    absent or not one."""
    try:
        parsed = dt.datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
    return parsed if parsed is None or parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def day(value: Any) -> dt.date | None:
    """The date a FHIR date or dateTime falls on (as written); None when absent or not one."""
    try:
        return dt.date.fromisoformat(value[:10]) if isinstance(value, str) else None
    except ValueError:
        return None


def ref_id(value: Any, type_: str) -> str | None:
    """The id in a Reference `{"reference": "Type/id"}` to a `type_`; None otherwise."""
    reference = value.get("reference") if isinstance(value, dict) else None
    prefix = f"{type_}/"
    return (
        reference.removeprefix(prefix)
        if isinstance(reference, str) and reference.startswith(prefix)
        else None
    )


def human_name(resource: Json) -> str:
    """The display name of a Patient or Practitioner."""
    names = resource.get("name") or []
    if not names:
        return ""
    name = names[0]
    if name.get("text"):
        return str(name["text"])
    return " ".join([*name.get("given", []), name.get("family", "")]).strip()


def address(resource: Json) -> Address | None:
    """The first address of a resource."""
    value = resource.get("address")
    if isinstance(value, list):
        value = value[0] if value else None
    if not value:
        return None
    return Address(
        street=" ".join(value.get("line", [])),
        postal_code=value.get("postalCode", ""),
        city=value.get("city", ""),
    )


def practitioner(resource: Json) -> Practitioner:
    """A Practitioner resource as a record."""
    qualification = resource.get("qualification") or []
    role = qualification[0].get("code", {}).get("text") if qualification else None
    return Practitioner(id=resource["id"], name=human_name(resource), role=role)


def location(resource: Json) -> Location:
    """A Location resource as a record."""
    return Location(id=resource["id"], name=resource.get("name", ""), address=address(resource))


def lab_result(resource: Json) -> LabResult:
    """An Observation resource as a record."""
    coding = (resource.get("code") or {}).get("coding") or [{}]
    quantity = resource.get("valueQuantity") or {}
    ranges = resource.get("referenceRange") or [{}]
    interpretation = (resource.get("interpretation") or [{}])[0].get("coding") or [{}]
    release = _extension(resource, RELEASE_CATEGORY_URL)
    return LabResult(
        id=resource["id"],
        code=coding[0].get("code"),
        name=(resource.get("code") or {}).get("text") or coding[0].get("display", ""),
        value=quantity.get("value"),
        value_text=resource.get("valueString"),
        unit=quantity.get("unit"),
        low=(ranges[0].get("low") or {}).get("value"),
        high=(ranges[0].get("high") or {}).get("value"),
        interpretation=interpretation[0].get("code"),
        taken_at=when(resource.get("effectiveDateTime")),
        release_category=release,
        security=security(resource),
    )


def _party(reference: Json) -> str | None:
    """The key of a message's care-side party: a literal reference or a recipient id."""
    literal = reference.get("reference")
    if isinstance(literal, str) and literal:
        return literal
    identifier = reference.get("identifier") or {}
    value = identifier.get("value")
    return value if identifier.get("system") == RECIPIENT_SYSTEM and value else None


def _counterpart_kind(resource: Json) -> str:
    for concept in resource.get("category", ()):
        for coding in concept.get("coding", ()):
            if coding.get("system") == COUNTERPART_SYSTEM:
                return _COUNTERPART_KINDS.get(coding.get("code"), "HOSPITAL")
    return "HOSPITAL"


def message(resource: Json) -> Message:
    """A Communication resource as a record."""
    sender = resource.get("sender") or {}
    from_patient = str(sender.get("reference", "")).startswith("Patient/")
    thread = None
    for part in resource.get("partOf", ()):
        identifier = part.get("identifier") or {}
        if identifier.get("system") == THREAD_SYSTEM:
            thread = identifier.get("value")
    payload = resource.get("payload") or [{}]
    read = _extension(resource, PATIENT_READ_URL)
    party = ((resource.get("recipient") or [{}])[0] if from_patient else sender) or {}
    return Message(
        id=resource["id"],
        source=EHR,
        thread_id=thread,
        sent_at=when(resource.get("sent")),
        from_patient=from_patient,
        subject=(resource.get("topic") or {}).get("text"),
        text=str(payload[0].get("contentString", "")),
        read=read is not False,
        counterpart=party.get("display"),
        security=security(resource),
        counterpart_kind=_counterpart_kind(resource),
        counterpart_key=_party(party),
        in_response_to=ref_id((resource.get("inResponseTo") or [{}])[0], "Communication"),
    )


def access_event(resource: Json) -> AccessEvent:
    """An AuditEvent resource as a record."""
    agent = (resource.get("agent") or [{}])[0]
    role = (agent.get("role") or [{}])[0] if agent.get("role") else {}
    entity = (resource.get("entity") or [{}])[0]
    at = when(resource.get("recorded"))
    if at is None:
        raise UpstreamBadResponse("EHR", "access log", "audit event without time")
    return AccessEvent(
        id=resource["id"],
        at=at,
        who=(agent.get("who") or {}).get("display", ""),
        role=role.get("text") if isinstance(role, dict) else None,
        action=resource.get("action", "R"),
        what=(entity.get("what") or {}).get("display"),
    )


def bundle_resources(bundle: Json, mode: str = "match") -> list[Json]:
    """Resources in a searchset Bundle with the given search mode."""
    if bundle.get("resourceType") != "Bundle":
        raise UpstreamBadResponse("EHR", "search", "expected a Bundle")
    out = []
    for entry in bundle.get("entry", []):
        resource = entry.get("resource")
        if resource is None:
            continue
        entry_mode = (entry.get("search") or {}).get("mode", "match")
        if entry_mode == mode:
            out.append(resource)
    return out


def query(resource_type: str, **params: str) -> str:
    """A relative FHIR search url, `Type?name=value&...`."""
    return f"{resource_type}?{urlencode(params, safe=',:|')}"


HOSPITAL_TYPES = frozenset({"sykehus", "hospital"})


def is_hospital(location: Json) -> bool:
    """A hospital's place (Location.type HOSP, or the record's own word for hospital)."""
    for concept in location.get("type") or ():
        codes = {c.get("code") for c in concept.get("coding") or ()}
        if "HOSP" in codes or str(concept.get("text", "")).lower() in HOSPITAL_TYPES:
            return True
    return False


def is_laboratory(observation: Json) -> bool:
    """An Observation of the category `laboratory`."""
    categories = observation.get("category")
    return isinstance(categories, list) and any(
        coding.get("code") == "laboratory"
        for category in categories
        if isinstance(category, dict)
        for coding in category.get("coding") or []
        if isinstance(coding, dict)
    )

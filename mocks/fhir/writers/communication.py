"""Writing `Communication`: `POST /Communication` (directly or as a batch entry) adds a
message; `PUT /Communication/{id}` marks it read (nothing else may change).

The body is checked element by element; a failure is a 422 OperationOutcome naming
the element (`Communication.subject`, `Communication.payload[0].contentString`, ...),
never echoing a value. Accepted messages get a server id in the subject's compartment
(`{Patient id}-cm{16 hex}`), `meta.versionId` 1 (keeping any `meta.security` sent),
`sent` defaulting to now, and the patient-read extension (true when the patient sent
it). They live in the server's memory for the life of the process and are found by
read and search like every other Communication.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

from mocks.fhir.messages import COUNTERPART_SYSTEM, RECIPIENT_SYSTEM, STATUS_SYSTEM
from mocks.fhir.model import (
    PATIENT_READ_URL,
    Indexed,
    Resource,
    Span,
    compound_id,
    instant,
    patient_of,
)
from mocks.fhir.outcome import FhirError, safe_name
from mocks.fhir.repository import Repository
from mocks.fhir.writes import creator, updater

EVENT_STATUSES = frozenset(
    {
        "preparation",
        "in-progress",
        "not-done",
        "on-hold",
        "stopped",
        "completed",
        "entered-in-error",
        "unknown",
    }
)
ALLOWED = frozenset(
    {
        "resourceType",
        "id",
        "meta",
        "extension",
        "identifier",
        "partOf",
        "inResponseTo",
        "status",
        "category",
        "subject",
        "topic",
        "sent",
        "recipient",
        "sender",
        "payload",
    }
)
MAX_TEXT = 20_000


@creator("Communication")
def create_communication(repo: Repository, data: dict[str, Any], now: dt.datetime) -> Indexed:
    """Check a new message and build it (stored by `writes.create`)."""
    resource = _checked(repo, data)
    resource.setdefault("sent", instant(now))
    sent = _when(resource["sent"])
    meta: Resource = {"versionId": "1", "lastUpdated": instant(now), **resource.pop("meta")}
    patient_id = resource["subject"]["reference"].removeprefix("Patient/")
    sender = resource.get("sender", {}).get("reference", "")
    extensions = [e for e in resource.pop("extension") if e["url"] != PATIENT_READ_URL]
    read = sender.startswith("Patient/")
    patient_ref = f"Patient/{patient_id}"
    return Indexed(
        {
            "resourceType": "Communication",
            "id": compound_id(patient_id, "cm" + uuid.uuid4().hex[:16]),
            "meta": meta,
            "extension": [*extensions, {"url": PATIENT_READ_URL, "valueBoolean": read}],
            **resource,
        },
        dates={"sent": Span.instant(sent), "date": Span.instant(sent)},
        tokens={
            "status": ((STATUS_SYSTEM, resource["status"]),),
            "patient-read": ((None, "true" if read else "false"),),
        },
        refs={
            "patient": (patient_ref,),
            "subject": (patient_ref,),
            "sender": (sender,) if sender else (),
            "recipient": tuple(
                r["reference"] for r in resource.get("recipient", []) if "reference" in r
            ),
        },
    )


def _fail(element: str, why: str, code: str = "invalid") -> FhirError:
    return FhirError(422, code, f"Communication.{element} {why}")


def _text(value: Any) -> bool:
    """A FHIR string: text with something besides whitespace."""
    return isinstance(value, str) and bool(value.strip()) and len(value) <= MAX_TEXT


def _object(value: Any, element: str, keys: frozenset[str]) -> dict[str, Any]:
    if not isinstance(value, dict) or not set(value) <= keys:
        raise _fail(element, f"must be an object with only {', '.join(sorted(keys))}", "structure")
    return value


def _reference(value: Any, element: str, types: tuple[str, ...]) -> Resource:
    found = _object(value, element, frozenset({"reference", "display"}))
    reference = found.get("reference")
    type_, _, id_ = reference.partition("/") if isinstance(reference, str) else ("", "", "")
    if type_ not in types or not id_ or not _text(id_) or "/" in id_:
        raise _fail(element, f"must be a reference to {' or '.join(types)}", "value")
    if "display" in found and not _text(found["display"]):
        raise _fail(f"{element}.display", "must be text")
    return dict(found)


def _list(data: dict[str, Any], element: str) -> list[Any]:
    value = data.get(element, [])
    if not isinstance(value, list):
        raise _fail(element, "must be a list", "structure")
    return value


def _system_value(value: Any, element: str) -> Resource:
    found = _object(value, element, frozenset({"system", "value"}))
    if not (_text(found.get("system")) and _text(found.get("value"))):
        raise _fail(element, "must have a system and a value")
    return {"system": found["system"], "value": found["value"]}


def _extension(value: Any, element: str) -> Resource:
    found = _object(value, element, frozenset({"url", *_EXTENSION_VALUES}))
    values = [k for k in found if k != "url"]
    kind = _EXTENSION_VALUES.get(values[0]) if len(values) == 1 else None
    if not _text(found.get("url")) or kind is None or type(found[values[0]]) is not kind:
        raise _fail(element, f"must have a url and one of {', '.join(_EXTENSION_VALUES)}")
    pattern = _EXTENSION_PATTERNS.get(values[0])
    if kind is str and not (
        _text(found[values[0]]) and (pattern is None or pattern.fullmatch(found[values[0]]))
    ):
        raise _fail(element, f"has a {values[0]} that is not valid")
    return dict(found)


_EXTENSION_VALUES: dict[str, type] = {
    "valueString": str,
    "valueCode": str,
    "valueUri": str,
    "valueUrl": str,
    "valueBoolean": bool,
    "valueInteger": int,
}
_EXTENSION_PATTERNS = {
    "valueCode": re.compile(r"[^\s]+( [^\s]+)*"),
    "valueUri": re.compile(r"\S+"),
    "valueUrl": re.compile(r"\S+"),
}
_CODING_KEYS = frozenset({"system", "code", "display"})


def _checked(repo: Repository, data: dict[str, Any]) -> Resource:
    """A clean resource built from the checked elements only (never passed through)."""
    unknown = sorted(set(data) - ALLOWED)
    if unknown:
        raise _fail(safe_name(unknown[0]), "is not an element this server accepts", "structure")
    status = data.get("status")
    if not isinstance(status, str) or status not in EVENT_STATUSES:
        raise _fail("status", "is required and must be an event-status code", "required")
    out: Resource = {"status": status}
    out["subject"] = _reference(data.get("subject"), "subject", ("Patient",))
    patient_id = out["subject"]["reference"].removeprefix("Patient/")
    if repo.store.population.by_fhir_id(patient_id) is None:
        raise _fail("subject", "does not reference a known Patient", "not-found")
    payload = data.get("payload")
    if not isinstance(payload, list) or not payload:
        raise _fail("payload", "is required: at least one contentString", "required")
    out["payload"] = []
    for n, item in enumerate(payload):
        text = item.get("contentString") if isinstance(item, dict) else None
        if not _text(text) or set(item) != {"contentString"}:
            raise _fail(f"payload[{n}].contentString", f"must be text of 1 to {MAX_TEXT} chars")
        out["payload"].append({"contentString": text})
    if "identifier" in data:
        out["identifier"] = [
            _system_value(v, f"identifier[{n}]") for n, v in enumerate(_list(data, "identifier"))
        ]
    if "partOf" in data:
        out["partOf"] = []
        for n, part in enumerate(_list(data, "partOf")):
            found = _object(part, f"partOf[{n}]", frozenset({"identifier"}))
            identifier = _system_value(found.get("identifier"), f"partOf[{n}].identifier")
            out["partOf"].append({"identifier": identifier})
    if "inResponseTo" in data:
        out["inResponseTo"] = []
        for n, earlier in enumerate(_list(data, "inResponseTo")):
            target = _reference(earlier, f"inResponseTo[{n}]", ("Communication",))
            earlier_message = repo.find(target["reference"])
            if earlier_message is None or patient_of(earlier_message.id) != patient_id:
                raise _fail(f"inResponseTo[{n}]", "does not reference a message of this subject")
            out["inResponseTo"].append(target)
    if "topic" in data:
        topic = _object(data["topic"], "topic", frozenset({"text"}))
        if not _text(topic.get("text")):
            raise _fail("topic", "must be a CodeableConcept with text")
        out["topic"] = {"text": topic["text"]}
    if "sender" in data:
        out["sender"] = _reference(data["sender"], "sender", _SENDERS)
    if "recipient" in data:
        out["recipient"] = [
            _recipient(who, f"recipient[{n}]") for n, who in enumerate(_list(data, "recipient"))
        ]
    if "category" in data:
        out["category"] = [
            _category(c, f"category[{n}]") for n, c in enumerate(_list(data, "category"))
        ]
    out["extension"] = [
        _extension(e, f"extension[{n}]") for n, e in enumerate(_list(data, "extension"))
    ]
    if "sent" in data:
        out["sent"] = instant(_when(data["sent"]))
    out["meta"] = _meta(data.get("meta", {}))
    return out


_SENDERS = ("Patient", "Practitioner", "RelatedPerson")
_RECIPIENTS = ("Patient", "Practitioner", "Organization")
_COUNTERPARTS = frozenset({"hospital", "gp", "municipality"})
_RECIPIENT_KEY = re.compile(r"(gp|hospital|municipality):[A-Za-z0-9\-.]{1,64}")


def _recipient(value: Any, element: str) -> Resource:
    """A literal reference, or a logical one to a recipient of the message directory."""
    if isinstance(value, dict) and "identifier" in value:
        found = _object(value, element, frozenset({"identifier", "display"}))
        identifier = _system_value(found["identifier"], f"{element}.identifier")
        if identifier["system"] != RECIPIENT_SYSTEM or not _RECIPIENT_KEY.fullmatch(
            identifier["value"]
        ):
            raise _fail(f"{element}.identifier", "is not a recipient this server knows", "value")
        if "display" in found and not _text(found["display"]):
            raise _fail(f"{element}.display", "must be text")
        return {
            "identifier": identifier,
            **({"display": found["display"]} if "display" in found else {}),
        }
    return _reference(value, element, _RECIPIENTS)


def _category(value: Any, element: str) -> Resource:
    found = _object(value, element, frozenset({"coding", "text"}))
    codings = found.get("coding")
    if not isinstance(codings, list) or len(codings) != 1:
        raise _fail(f"{element}.coding", "must hold one coding", "structure")
    coding = _object(codings[0], f"{element}.coding[0]", _CODING_KEYS)
    if coding.get("system") != COUNTERPART_SYSTEM or coding.get("code") not in _COUNTERPARTS:
        raise _fail(f"{element}.coding[0]", "must be a message-counterpart code", "code-invalid")
    return {"coding": [{"system": COUNTERPART_SYSTEM, "code": coding["code"]}]}


def _meta(meta: Any) -> Resource:
    found = _object(meta, "meta", frozenset({"security", "versionId", "lastUpdated", "tag"}))
    labels = found.get("security", [])
    if not isinstance(labels, list) or not all(
        isinstance(c, dict)
        and set(c) <= _CODING_KEYS
        and _text(c.get("system"))
        and _text(c.get("code"))
        and ("display" not in c or _text(c["display"]))
        for c in labels
    ):
        raise _fail("meta.security", "must be a list of codings with system and code")
    return {"security": [dict(c) for c in labels]} if labels else {}


def _when(value: Any) -> dt.datetime:
    if isinstance(value, str) and "T" in value:
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            return parsed
    raise _fail("sent", "must be a dateTime with time and timezone")


@updater("Communication")
def update_communication(
    repo: Repository, current: Indexed, data: dict[str, Any], now: dt.datetime
) -> Indexed:
    """A message may change only in whether the patient has read it (and only to read).

    Every other element must be sent back as it was; a change there is a 422 naming it.
    """
    old = current.resource
    for element in sorted(set(old) | set(data)):
        if element in ("meta", "extension"):
            continue
        if old.get(element) != data.get(element):
            raise _fail(safe_name(element), "cannot be changed; only patient-read can", "invariant")
    others = [e for e in old.get("extension", []) if e["url"] != PATIENT_READ_URL]
    sent = [e for e in _list(data, "extension") if isinstance(e, dict)]
    if [e for e in sent if e.get("url") != PATIENT_READ_URL] != others:
        raise _fail("extension", "cannot be changed; only patient-read can", "invariant")
    flags = [e.get("valueBoolean") for e in sent if e.get("url") == PATIENT_READ_URL]
    if flags != [True]:
        raise _fail("extension", "must carry patient-read true once (read cannot be undone)")
    tokens = {**current.tokens, "patient-read": ((None, "true"),)}
    resource = {**old, "extension": [*others, {"url": PATIENT_READ_URL, "valueBoolean": True}]}
    return Indexed(resource, current.dates, tokens, current.refs)

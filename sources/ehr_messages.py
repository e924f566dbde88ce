"""Messages in the EHR: Communications read, written and marked read (typed records out)."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import TYPE_CHECKING, Any

from sources import fhir
from sources.models import Message

if TYPE_CHECKING:
    from sources.ehr import EhrClient

KIND_CODES = {"HOSPITAL": "hospital", "GP": "gp", "MUNICIPALITY": "municipality"}


def new_thread_id(scoped_key: str) -> str:
    """A thread id for a new conversation, the same on every retry of the same write."""
    return "th" + hashlib.sha256(scoped_key.encode()).hexdigest()[:16]


def party(key: str, name: str) -> dict[str, Any]:
    """A reference to a care-side party: literal when `key` is a reference, else logical."""
    named = {"display": name} if name.strip() else {}
    if "/" in key:
        return {"reference": key, **named}
    return {"identifier": {"system": fhir.RECIPIENT_SYSTEM, "value": key}, **named}


class EhrMessages:
    """The patient's messages with the hospital in the EHR."""

    def __init__(self, ehr: EhrClient) -> None:
        self._ehr = ehr

    async def of(self, patient_id: str) -> list[Message]:
        """The patient's messages, newest first (up to the 200 most recent)."""
        bundle = await self._ehr.search(
            fhir.query("Communication", patient=patient_id, _sort="-date", _count="200")
        )
        return [fhir.message(r) for r in self._ehr.own(bundle, patient_id)]

    async def send(
        self,
        patient_id: str,
        *,
        subject: str | None,
        text: str,
        thread_id: str | None,
        replying_to: str | None = None,
        counterpart: tuple[str, str, str] | None = None,
        sent_by: str,
        idempotency: str,
        now: dt.datetime,
    ) -> Message:
        """Create a Communication from the patient (or someone acting for them).

        `counterpart` is (key, name, kind) of the care-side party it goes to, when known;
        without a `thread_id` it starts a thread of its own (`new_thread_id`).
        """
        thread_id = thread_id or new_thread_id(idempotency)
        resource: dict[str, Any] = {
            "resourceType": "Communication",
            "status": "completed",
            "subject": {"reference": f"Patient/{patient_id}"},
            "sender": {"reference": f"Patient/{patient_id}"},
            "sent": now.isoformat(timespec="seconds"),
            "payload": [{"contentString": text}],
            "extension": [{"url": fhir.SENT_BY_BASIS_URL, "valueCode": sent_by}],
            "partOf": [{"identifier": {"system": fhir.THREAD_SYSTEM, "value": thread_id}}],
        }
        if counterpart is not None:
            key, name, kind = counterpart
            resource["recipient"] = [party(key, name)]
            code = {"system": fhir.COUNTERPART_SYSTEM, "code": KIND_CODES[kind]}
            resource["category"] = [{"coding": [code]}]
        if subject:
            resource["topic"] = {"text": subject}
        if replying_to:
            resource["inResponseTo"] = [{"reference": f"Communication/{replying_to}"}]
        created = await self._ehr.create(resource, patient_id, idempotency=idempotency)
        return fhir.message(created)

    async def mark_read(self, patient_id: str, message_id: str) -> Message | None:
        """Set the patient-read flag of one message (PUT with If-Match on the version read);
        None when absent. UpstreamConflict when it changed meanwhile."""
        resource = await self._ehr.read("Communication", message_id)
        if resource is None:
            return None
        record = fhir.message(resource)
        if record.read:
            return record
        others = [e for e in resource.get("extension", []) if e.get("url") != fhir.PATIENT_READ_URL]
        flag = {"url": fhir.PATIENT_READ_URL, "valueBoolean": True}
        return fhir.message(
            await self._ehr.update({**resource, "extension": [*others, flag]}, patient_id)
        )

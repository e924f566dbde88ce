"""The EHR (FHIR R4) client of one GraphQL request: batched reads, typed records."""

from __future__ import annotations

import asyncio
import re
from typing import Any
from urllib.parse import parse_qsl

from sources import fhir
from sources.coalescer import Coalescer
from sources.documents import document as parse_document
from sources.ehr_appointments import EhrAppointments
from sources.ehr_care import EhrCare
from sources.ehr_care_team import EhrCareTeam
from sources.ehr_directory import Directory
from sources.ehr_journal_requests import EhrJournalRequests
from sources.ehr_medications import EhrMedications
from sources.ehr_messages import EhrMessages
from sources.ehr_pregnancy import EhrPregnancy
from sources.ehr_questionnaire_tasks import EhrQuestionnaires
from sources.ehr_referrals import EhrReferrals
from sources.errors import UpstreamBadResponse, UpstreamNotFound
from sources.fhir import query
from sources.fhir_batch import BatchReads
from sources.models import (
    AccessEvent,
    Document,
    LabResult,
    Location,
)
from sources.ownership import NIN_SYSTEM, belongs_to_patient, own_patients, own_resources
from sources.reference_cache import ReferenceCache
from sources.subject_cache import About, RequestCache
from sources.upstream import Upstream

__all__ = ["NIN_SYSTEM", "EhrClient"]
IDEMPOTENCY_SYSTEM = "https://fhir.helsegraf.dev/NamingSystem/idempotency-key"
SOURCE = "EHR"
FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")


class EhrClient:
    """Reads from the EHR for one GraphQL request.

    Every read is a relative FHIR URL handed to a coalescer, so the reads of one
    dependency level go out as one FHIR batch Bundle (`sources.fhir_batch`), and
    Practitioners and Locations are loaded in batches by id (or taken from `_include`d
    resources when present), through the process's reference cache: a fresh copy is not
    asked again, and an older one stands in, marked stale, while the EHR fails
    (`sources.reference_cache`).
    """

    def __init__(
        self,
        upstream: Upstream,
        cache: RequestCache | None = None,
        reference: ReferenceCache | None = None,
    ) -> None:
        """`cache` keeps patient-scoped searches across requests (`sources.subject_cache`);
        `reference` keeps practitioners and locations (none kept when not given)."""
        self._upstream = upstream
        self._patients: dict[str, str] = {}  # FHIR Patient id -> national id, as read here
        batch = BatchReads(upstream, SOURCE)
        dispatch = batch if cache is None else cache.through(SOURCE, self._about, batch)
        self._reads: Coalescer[str, Any] = Coalescer(dispatch)
        self._directory = Directory(
            self._by_ids, ReferenceCache.off() if reference is None else reference
        )
        self.practitioners = self._directory.practitioners
        self.locations = self._directory.locations
        # One object per domain, each holding this client: `ehr.appointments.book(...)`.
        self.appointments = EhrAppointments(self)
        self.care = EhrCare(self)
        self.care_team = EhrCareTeam(self)
        self.journal_requests = EhrJournalRequests(self)
        self.medications = EhrMedications(self)
        self.messages = EhrMessages(self)
        self.pregnancy = EhrPregnancy(self)
        self.questionnaires = EhrQuestionnaires(self)
        self.referrals = EhrReferrals(self)

    # -- transport -----------------------------------------------------------------

    def _about(self, url: str) -> About | None:
        """A search is about the patient it names (by identifier, or by a Patient id this
        request resolved); reads by id and searches of no patient are not cached."""
        path, _, query = url.partition("?")
        if not query:
            return None
        params = dict(parse_qsl(query))
        if path == "Patient":
            system, _, nin = params.get("identifier", "").partition("|")
            return About(url, (nin,)) if system == NIN_SYSTEM and nin else None
        subject = self._patients.get(params.get("patient", ""))
        return None if subject is None else About(url, (subject,))

    async def search(self, url: str) -> dict[str, Any]:
        """A searchset Bundle for a relative search url (see `query`), batched with the
        other reads of this dependency level."""
        bundle: dict[str, Any] = await self._search(url)
        return bundle

    def include(self, bundle: dict[str, Any]) -> None:
        """Keep the practitioners and locations `bundle` includes for this request's
        `practitioners` and `locations` loaders."""
        self._directory.prime_included(bundle)

    def own(self, bundle: dict[str, Any], patient_id: str) -> list[dict[str, Any]]:
        """The matched resources of `bundle` that belong to `patient_id` (others dropped)."""
        return self._own(bundle, patient_id)

    async def read(self, resource_type: str, resource_id: str) -> dict[str, Any] | None:
        """One resource by type and id; None when the EHR has none (or the id is no FHIR id)."""
        if not FHIR_ID.match(resource_id):
            return None
        try:
            resource = await self._reads.load(f"{resource_type}/{resource_id}")
        except UpstreamNotFound:
            return None
        if not isinstance(resource, dict) or resource.get("resourceType") != resource_type:
            raise UpstreamBadResponse(SOURCE, f"read {resource_type}", "not a " + resource_type)
        return resource

    async def _search(self, url: str) -> Any:
        result = await self._reads.load(url)
        if not isinstance(result, dict):
            raise UpstreamBadResponse(SOURCE, url.split("?", 1)[0], "not a JSON object")
        return result

    async def _by_ids(self, resource_type: str, ids: list[str]) -> Any:
        return await self._search(query(resource_type, _id=",".join(ids)))

    @staticmethod
    def _own(bundle: dict[str, Any], patient_id: str) -> list[dict[str, Any]]:
        return own_resources(fhir.bundle_resources(bundle), patient_id, source=SOURCE)

    # -- reads -------------------------------------------------------------------------

    async def patient_id(self, nin: str) -> str | None:
        """The EHR's Patient id for a national id, or None when the EHR has no such patient."""
        bundle = await self._search(query("Patient", identifier=f"{NIN_SYSTEM}|{nin}"))
        patients = own_patients(fhir.bundle_resources(bundle), nin, source=SOURCE)
        if not patients:
            return None
        found = str(patients[0]["id"])
        self._patients[found] = nin
        return found

    async def lab_results(self, patient_id: str, count: int) -> list[LabResult]:
        """The newest laboratory results, newest first."""
        bundle = await self._search(
            query(
                "Observation",
                patient=patient_id,
                category="laboratory",
                _sort="-date",
                _count=str(count),
            )
        )
        return [fhir.lab_result(r) for r in self._own(bundle, patient_id)]

    async def documents(self, patient_id: str) -> list[Document]:
        """The patient's current documents, newest first (up to the 200 most recent)."""
        bundle = await self._search(
            query(
                "DocumentReference",
                patient=patient_id,
                status="current",
                _sort="-date",
                _count="200",
            )
        )
        return [parse_document(r) for r in self._own(bundle, patient_id)]

    async def document(self, document_id: str) -> Document | None:
        """One DocumentReference by id; None when the EHR has none (or the id is no FHIR
        id: never a path elsewhere)."""
        resource = await self.read("DocumentReference", document_id)
        return None if resource is None else parse_document(resource)

    async def lab_result(self, nin: str, observation_id: str) -> LabResult | None:
        """One laboratory result of the person with national id `nin`; None when the EHR
        has no such Observation, it is no laboratory result, or it is someone else's."""
        patient, resource = await asyncio.gather(
            self.patient_id(nin), self.read("Observation", observation_id)
        )
        if patient is None or resource is None or not fhir.is_laboratory(resource):
            return None
        if not belongs_to_patient(resource, patient):
            return None
        return fhir.lab_result(resource)

    async def hospital(self, location_id: str) -> Location | None:
        """A Location by id when it is a hospital's place (`fhir.is_hospital`); None when
        it is not, or the EHR has none."""
        resource = await self.read("Location", location_id)
        if resource is None or not fhir.is_hospital(resource):
            return None
        return Location(id=str(resource["id"]), name=str(resource.get("name") or ""))

    async def access_events(self, patient_id: str, count: int) -> list[AccessEvent]:
        """The EHR's own log of who opened the patient's record, newest first."""
        bundle = await self._search(
            query(
                "AuditEvent",
                patient=patient_id,
                _sort="-date",
                _count=str(count),
            )
        )
        return [fhir.access_event(r) for r in self._own(bundle, patient_id)]

    # -- writes ------------------------------------------------------------------------

    async def create(
        self, resource: dict[str, Any], patient_id: str, *, idempotency: str
    ) -> dict[str, Any]:
        """Create `resource` in the patient's record, at most once per `idempotency` key.

        The key travels as an identifier and as a conditional create (`If-None-Exist`),
        so a retry, from this replica or another, returns the first resource instead of
        writing twice; that also makes the call safe to retry. The answer must be a
        resource of the same type in the same patient's record.
        """
        kind = str(resource["resourceType"])
        identifier = {"system": IDEMPOTENCY_SYSTEM, "value": idempotency}
        body = {**resource, "identifier": [*resource.get("identifier", []), identifier]}
        created = await self._upstream.call(
            "POST",
            kind,
            operation=f"create {kind}",
            json_body=body,
            content_type="application/fhir+json",
            headers={"if-none-exist": f"identifier={IDEMPOTENCY_SYSTEM}|{idempotency}"},
            idempotent=True,
        )
        return self._written(created, kind, patient_id, "create")

    async def update(self, resource: dict[str, Any], patient_id: str) -> dict[str, Any]:
        """Store a new version of `resource` (which carries the `meta.versionId` it was
        read at); UpstreamConflict when it changed meanwhile."""
        kind = str(resource["resourceType"])
        if not FHIR_ID.match(str(resource.get("id", ""))):
            raise ValueError("update needs the resource's FHIR id")
        version = str(resource.get("meta", {}).get("versionId", ""))
        updated = await self._upstream.call(
            "PUT",
            f"{kind}/{resource['id']}",
            operation=f"update {kind}",
            json_body=resource,
            content_type="application/fhir+json",
            headers={"if-match": f'W/"{version}"'},
        )
        return self._written(updated, kind, patient_id, "update")

    @staticmethod
    def _written(answer: Any, kind: str, patient_id: str, verb: str) -> dict[str, Any]:
        if not isinstance(answer, dict) or answer.get("resourceType") != kind:
            raise UpstreamBadResponse(SOURCE, f"{verb} {kind}", f"not a {kind}")
        if not own_resources([answer], patient_id, source=SOURCE):
            raise UpstreamBadResponse(SOURCE, f"{verb} {kind}", "another patient's")
        return answer

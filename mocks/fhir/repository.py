"""Where resources come from: one person's compartment at a time, never the population.

Patient-compartment resources have compound ids, `{Patient id}-{record id}` (for
example `e0123456789abcdef0123-ap0123456789abcdef`), so a read or an `_id` search
finds its person by the id alone. Each person's projected resources are memoised per
(type, person) in a bounded cache; resources created through the API (`create.py`) are
kept beside them, unbounded in time, for the life of the server.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import lru_cache

from mocks.fhir.appointments import held_resources
from mocks.fhir.audit import audit_events
from mocks.fhir.care_projection import added
from mocks.fhir.care_team import care_teams
from mocks.fhir.clinical import diagnostic_reports, medication_statement, observation
from mocks.fhir.documents import invitations
from mocks.fhir.journal_requests import journal_requests
from mocks.fhir.messages import communications
from mocks.fhir.model import NIN_SYSTEM, Indexed, patient_of
from mocks.fhir.outcome import FhirError, not_found
from mocks.fhir.people import location, patient, practitioner
from mocks.fhir.questionnaires import directory as questionnaire_directory
from mocks.fhir.referrals import referrals
from mocks.fhir.search import Query, patient_refs
from mocks.fhir.slots import schedules, slots
from mocks.population import Person
from mocks.records import HealthRecord, RecordStore

Projector = Callable[[Person, HealthRecord], Iterable[Indexed]]


class Repository:
    """Resources by type and id, and search candidates, from the shared record store."""

    def __init__(self, store: RecordStore, cache_size: int = 4096) -> None:
        self.store = store
        population = store.population
        catalogue = store.catalogue
        today = population.today
        self._directory: dict[str, dict[str, Indexed]] = {
            "Practitioner": {
                p.id: practitioner(p, n, today) for n, p in enumerate(catalogue.practitioners)
            },
            "Location": {loc.id: location(loc, today) for loc in catalogue.locations},
            "Schedule": {s.id: s for s in schedules(catalogue, today)},
            "Slot": {s.id: s for s in slots(catalogue, today, population.seed)},
            "Questionnaire": questionnaire_directory(today),
        }
        self._projectors: dict[str, Projector] = {
            "Patient": lambda person, _: (patient(person, today),),
            "Appointment": lambda person, record: held_resources(person, record, catalogue, today),
            "AppointmentResponse": lambda person, record: (),
            "Communication": lambda person, record: communications(
                record.messages, person, catalogue
            ),
            "Observation": lambda person, record: (observation(lab, person) for lab in record.labs),
            "DiagnosticReport": lambda person, record: diagnostic_reports(record.labs, person),
            "MedicationStatement": lambda person, record: (
                statement
                for use in record.medications
                if (statement := medication_statement(use, person)) is not None
            ),
            "Immunization": lambda person, record: (),
            "DocumentReference": lambda person, record: (
                document
                for document, _ in invitations(record.appointments, person, catalogue, today)
            ),
            "Binary": lambda person, record: (
                binary for _, binary in invitations(record.appointments, person, catalogue, today)
            ),
            "AuditEvent": lambda person, _: audit_events(person, catalogue, today, population.seed),
            "ServiceRequest": lambda person, _: (
                request for request, _ in referrals(person, catalogue, today, population.seed)
            ),
            "EpisodeOfCare": lambda person, _: (
                episode
                for _, episode in referrals(person, catalogue, today, population.seed)
                if episode is not None
            ),
            "CareTeam": lambda person, _: care_teams(person, catalogue, today, population.seed),
            "Task": lambda person, _: journal_requests(person, today, population.seed),
            "QuestionnaireResponse": lambda person, _: (),  # + care_projection.added
            "CarePlan": lambda person, _: (),  # + care_projection.added
        }
        self._projected: Callable[[str, str], tuple[Indexed, ...]] = lru_cache(maxsize=cache_size)(
            self._project
        )
        self._created: dict[tuple[str, str], list[Indexed]] = {}  # (type, Patient id)
        self._replaced: dict[tuple[str, str], Indexed] = {}  # (type, id) -> newest version
        self.created_count = 0

    def compartment(self, type_: str, nin: str) -> tuple[Indexed, ...]:
        """Every resource of `type_` in this person's compartment, created ones last."""
        projected = self._projected(type_, nin)
        if not self._created and not self._replaced:
            return projected
        person = self.store.population.by_nin(nin)
        created = self._created.get((type_, person.fhir_id), ()) if person else ()
        every = (*projected, *created) if created else projected
        if not self._replaced:
            return every
        return tuple(self._replaced.get((r.type, r.id), r) for r in every)

    def add_created(self, patient_id: str, resource: Indexed) -> None:
        """Keep a created resource in the Patient's compartment for the life of the server."""
        self._created.setdefault((resource.type, patient_id), []).append(resource)
        self.created_count += 1

    def replace(self, resource: Indexed) -> None:
        """Serve `resource` instead of the stored resource with its type and id."""
        self._replaced[(resource.type, resource.id)] = resource

    def _project(self, type_: str, nin: str) -> tuple[Indexed, ...]:
        """Every resource of `type_` in the compartment of the person with this id number."""
        person = self.store.population.by_nin(nin)
        if person is None:
            return ()
        record = self.store.record(nin)
        population = self.store.population
        extra = added(
            type_, person, record, self.store.catalogue, population.today, population.seed
        )
        return (*self._projectors[type_](person, record), *extra)

    def read(self, type_: str, id_: str) -> Indexed:
        """The resource `type_/id_`; FhirError 404 when there is none."""
        replaced = self._replaced.get((type_, id_))
        if replaced is not None:
            return replaced
        directory = self._directory.get(type_)
        if directory is not None:
            found = directory.get(id_)
            if found is None:
                raise not_found(type_)
            return found
        person = self.store.population.by_fhir_id(id_ if type_ == "Patient" else patient_of(id_))
        if person is not None:
            for resource in self.compartment(type_, person.nin):
                if resource.id == id_:
                    return resource
        raise not_found(type_)

    def find(self, reference: str) -> Indexed | None:
        """The resource a relative reference `Type/id` points to, if it exists."""
        type_, _, id_ = reference.partition("/")
        if type_ not in self._directory and type_ not in self._projectors:
            return None
        try:
            return self.read(type_, id_)
        except FhirError:
            return None

    def candidates(self, query: Query) -> list[Indexed]:
        """A superset of the matches: the directory, or the compartments the query names."""
        type_ = query.type
        directory = self._directory.get(type_.name)
        if directory is not None:
            return [self._replaced.get((type_.name, r.id), r) for r in directory.values()]
        out: list[Indexed] = []
        for fhir_id in sorted(self._patient_ids(query)):
            person = self.store.population.by_fhir_id(fhir_id)
            if person is not None:
                out.extend(self.compartment(type_.name, person.nin))
        return out

    def _patient_ids(self, query: Query) -> set[str]:
        """The Patients a search is confined to (AND across parameters, OR within)."""
        if query.type.name == "Patient":
            named = [set(ids) for ids in query.values_of("_id")]
            named += [self._by_identifier(values) for values in query.values_of("identifier")]
        else:
            named = [patient_refs(values) for values in query.values_of("patient", "subject")]
            if not named:
                named = [{patient_of(id_) for id_ in ids} for ids in query.values_of("_id")]
        if not named:
            needs = (
                "_id or identifier" if query.type.name == "Patient" else "patient, subject or _id"
            )
            raise FhirError(
                400, "too-costly", f"Searching {query.type.name} requires a {needs} parameter"
            )
        return set.intersection(*named)

    def _by_identifier(self, values: Iterable[str]) -> set[str]:
        out = set()
        for value in values:
            system, _, number = value.rpartition("|")
            if "|" in value and system != NIN_SYSTEM:
                continue
            person = self.store.population.by_nin(number)
            if person is not None:
                out.add(person.fhir_id)
        return out

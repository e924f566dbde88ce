"""The entry points: the viewer, the people they may act for, and each person's data."""

from __future__ import annotations

import datetime as dt
from enum import Enum

import strawberry
from strawberry.types import Info

import resolvers.timeline_events  # noqa: F401  (registers the timeline's contributors)
from authz.categories import Category
from authz.facts import PersonFacts
from resolvers.appointments.appointments import AppointmentFields
from resolvers.appointments.slots import SlotFields
from resolvers.care.care_team import CareTeamFields
from resolvers.care.gp import GeneralPractitioner, gp_of
from resolvers.core.access import Subject
from resolvers.core.categories import CategoryRestriction, restrictions_of
from resolvers.core.context import Context
from resolvers.core.guard import require, served
from resolvers.core.node import Node, person_type, resolve_node
from resolvers.medications.medications import Medication, medications_of
from resolvers.messages.message_fields import MessageFields
from resolvers.monitoring.monitoring import MonitoringFields
from resolvers.monitoring.pregnancy import PregnancyFields
from resolvers.municipal.home_care import HomeCareFields
from resolvers.municipal.municipal_applications import MunicipalApplicationFields
from resolvers.municipal.municipal_services import MunicipalService, municipal_services_of
from resolvers.notes.private_notes import PrivateNoteFields
from resolvers.questionnaires.questionnaires import QuestionnaireFields
from resolvers.records.access_log import AccessLogEntry, access_log_of
from resolvers.records.critical_info import CriticalInformation, critical_information_of
from resolvers.records.documents import DocumentConnection, DocumentFilter, documents_of
from resolvers.records.journal_requests import JournalRequestFields
from resolvers.records.referrals import ReferralFields
from resolvers.records.results import LabResult, latest_lab_results
from resolvers.records.vaccinations import Vaccination, vaccinations_of
from resolvers.settings.notification_settings import NotificationSettingFields
from resolvers.statistics import Statistics, statistics
from resolvers.timeline import TimelineFields


@strawberry.enum(description="Why the viewer may see a person's data.")
class AccessBasis(Enum):
    SELF = strawberry.enum_value("SELF", description="The viewer's own data (16 or older).")
    YOUTH = strawberry.enum_value(
        "YOUTH",
        description="A 13-15-year-old's own data, with a parent's consent; a short "
        "list of services.",
    )
    PARENT = strawberry.enum_value(
        "PARENT", description="A child under 16 the viewer has parental responsibility for."
    )
    PROXY = strawberry.enum_value(
        "PROXY", description="Someone who gave the viewer a power of attorney."
    )
    PARTNER = strawberry.enum_value(
        "PARTNER", description="A partner service acting for the citizen, within its scopes."
    )
    ANALYST = strawberry.enum_value("ANALYST", description="Aggregates only; never a person.")


async def _facts_field(info: Info[Context, None], subject: Subject) -> PersonFacts | None:
    require(info.context, subject, Category.IDENTITY)
    facts = await info.context.national.persons.load(subject.nin)
    if facts is not None:
        served(info.context, subject, Category.IDENTITY)
    return facts


@person_type
@strawberry.type(
    description="A person whose data the viewer may see: themself, or someone "
    "they act for. Every field reflects the viewer's access basis; "
    "hidden items are absent, never placeholders."
)
class Person(
    Node,
    TimelineFields,
    MessageFields,
    AppointmentFields,
    SlotFields,
    ReferralFields,
    CareTeamFields,
    JournalRequestFields,
    PrivateNoteFields,
    NotificationSettingFields,
    QuestionnaireFields,
    MonitoringFields,
    PregnancyFields,
    MunicipalApplicationFields,
    HomeCareFields,
):
    subject: strawberry.Private[Subject]

    @strawberry.field(description="Opaque id; never contains a national identity number.")
    def id(self, info: Info[Context, None]) -> strawberry.ID:
        return strawberry.ID(info.context.ids.person_id(self.subject.nin))

    @strawberry.field(description="The viewer's access basis for this person.")
    def basis(self) -> AccessBasis:
        return AccessBasis(self.subject.basis.value)

    @strawberry.field(
        description="Categories of this person's data the viewer's basis does "
        "not include, each once, with a reason code."
    )
    def restrictions(self, info: Info[Context, None]) -> list[CategoryRestriction]:
        return restrictions_of(info, self.subject)

    @strawberry.field(
        description="Display name from the population registry; null, with an error "
        "naming source NATIONAL, while it cannot be read."
    )
    async def name(self, info: Info[Context, None]) -> str | None:
        facts = await _facts_field(info, self.subject)
        return facts.name if facts else None

    @strawberry.field(
        description="Date of birth from the population registry; null, with an error "
        "naming source NATIONAL, while it cannot be read."
    )
    async def birth_date(self, info: Info[Context, None]) -> dt.date | None:
        facts = await _facts_field(info, self.subject)
        return facts.birth_date if facts else None

    @strawberry.field(
        description="Letters, visit summaries and notes in the health record, newest "
        "first; download each through its `downloadUrl`."
    )
    async def documents(
        self,
        info: Info[Context, None],
        first: int = 20,
        after: str | None = None,
        filter: DocumentFilter | None = None,
    ) -> DocumentConnection | None:
        return await documents_of(info, self.subject, first, after, filter)

    @strawberry.field(description="The newest laboratory results, newest first.")
    async def lab_results(
        self, info: Info[Context, None], first: int = 5
    ) -> list[LabResult] | None:
        return await latest_lab_results(info, self.subject, first)

    @strawberry.field(
        description="Medicines in use: the health record's list merged with "
        "e-prescriptions, one entry per medicine."
    )
    async def medications(self, info: Info[Context, None]) -> list[Medication] | None:
        return await medications_of(info, self.subject)

    @strawberry.field(
        description="Vaccinations from the national registry merged with "
        "health-station records, newest first."
    )
    async def vaccinations(self, info: Info[Context, None]) -> list[Vaccination] | None:
        return await vaccinations_of(info, self.subject)

    @strawberry.field(
        description="The regular GP (fastlege) from the national registry; null when "
        "none is listed."
    )
    async def gp(self, info: Info[Context, None]) -> GeneralPractitioner | None:
        return await gp_of(info, self.subject)

    @strawberry.field(
        description="Critical information from the core journal (allergies, "
        "implants, conditions), newest first."
    )
    async def critical_information(
        self, info: Info[Context, None]
    ) -> list[CriticalInformation] | None:
        return await critical_information_of(info, self.subject)

    @strawberry.field(
        description="Care-service decisions (home nursing, safety alarm, ...) of "
        "the person's home municipality, newest first."
    )
    async def municipal_services(self, info: Info[Context, None]) -> list[MunicipalService] | None:
        return await municipal_services_of(info, self.subject)

    @strawberry.field(
        description="Who has read this person's data: through the portal "
        "(parents, proxies and partner services included) and in "
        "the health record, newest first. Only the person sees it."
    )
    async def access_log(
        self, info: Info[Context, None], first: int = 50
    ) -> list[AccessLogEntry] | None:
        return await access_log_of(info, self.subject, first)


@strawberry.type(description="Someone the viewer may act for, and on what basis.")
class Representation:
    basis: AccessBasis = strawberry.field(description="Why the viewer may act for them.")
    person: Person = strawberry.field(description="The person represented.")
    valid_until: dt.date | None = strawberry.field(
        description="The last day this basis holds, when it ends on a known day."
    )


@strawberry.type(description="The logged-in person.")
class Viewer:
    # Both fields are nullable (SCHEMA.md, "Nullability"): each may need the national
    # portal, and a failure there must cost that field only, never the whole answer.
    @strawberry.field(
        description="The logged-in person's own data. From 16 it rests on the login "
        "alone, so an unreachable national portal costs only the fields read from it. "
        "Null, with an error, for a viewer without a basis of their own (FORBIDDEN), "
        "and for a 13-15-year-old while the national portal cannot confirm the "
        "parental consent (an error naming source NATIONAL)."
    )
    async def person(self, info: Info[Context, None]) -> Person | None:
        return Person(subject=await info.context.access.me())

    @strawberry.field(
        description="Everyone the viewer may act for, children first. Empty "
        "below the high login level and for partner services. Null, with an error "
        "naming source NATIONAL, while the national portal cannot be read: whom the "
        "viewer may act for is never guessed."
    )
    async def representations(self, info: Info[Context, None]) -> list[Representation] | None:
        return [
            Representation(
                basis=AccessBasis(subject.basis.value),
                person=Person(subject=subject),
                valid_until=subject.valid_until,
            )
            for subject in await info.context.access.represented()
        ]


@strawberry.type(description="Entry points of the citizen graph.")
class Query:
    @strawberry.field(description="Who is logged in, and whom they may act for.")
    def viewer(self) -> Viewer:
        return Viewer()

    @strawberry.field(
        description="A person the viewer may act for (or the viewer). Anyone "
        "else, or an id of no one, gives null and a FORBIDDEN error. While the national "
        "portal cannot be read, anyone but the viewer (and a viewer of 13-15 too) gives "
        "null and an error naming source NATIONAL: acting for another person needs "
        "fresh registry facts."
    )
    async def person(
        self,
        info: Info[Context, None],
        id: strawberry.ID,
    ) -> Person | None:
        return Person(subject=await info.context.access.subject(id))

    @strawberry.field(
        description="Any object by its global id, under the same authorization as the "
        "list it came from. An id of nothing, of someone else, or of an item hidden "
        "from the viewer gives null and the same FORBIDDEN error; a whole category the "
        "viewer's basis lacks gives CATEGORY_UNAVAILABLE, as on the list. While the "
        "national portal cannot be read, an item of anyone but the viewer gives null "
        "and an error naming source NATIONAL, as `person(id:)` does."
    )
    async def node(self, info: Info[Context, None], id: strawberry.ID) -> Node | None:
        found: Node = await resolve_node(info, id)
        return found

    @strawberry.field(description="Aggregate statistics; analysts only.")
    def statistics(self, info: Info[Context, None]) -> Statistics | None:
        return statistics(info)

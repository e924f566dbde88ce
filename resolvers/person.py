"""The entry points: the viewer, the people they may act for, and each person's data."""

from __future__ import annotations

import datetime as dt
from enum import Enum

import strawberry
from strawberry.types import Info

from authz.relations import Basis
from gateway.access import Subject
from gateway.context import Context
from resolvers.appointments import AppointmentConnection, AppointmentFilter, appointments_of
from resolvers.medications import Medication, medications_of
from resolvers.results import LabResult, latest_lab_results, unread_message_count
from resolvers.vaccinations import Vaccination, vaccinations_of


@strawberry.enum(description="Why the viewer may see a person's data.")
class AccessBasis(Enum):
    SELF = strawberry.enum_value("SELF", description="The viewer's own data.")
    PARENT = strawberry.enum_value(
        "PARENT", description="A child under 16 the viewer has parental responsibility for."
    )
    PROXY = strawberry.enum_value(
        "PROXY", description="Someone who gave the viewer a power of attorney."
    )


@strawberry.type(
    description="A person whose data the viewer may see: themself, or someone "
    "they act for. Every field reflects the viewer's access basis."
)
class Person:
    subject: strawberry.Private[Subject]

    @strawberry.field(description="Opaque id; never contains a national identity number.")
    def id(self, info: Info[Context, None]) -> strawberry.ID:
        return strawberry.ID(info.context.ids.person_id(self.subject.nin))

    @strawberry.field(description="The viewer's access basis for this person.")
    def basis(self) -> AccessBasis:
        return AccessBasis(self.subject.basis.value)

    @strawberry.field(description="Display name from the population registry.")
    async def name(self, info: Info[Context, None]) -> str | None:
        facts = await info.context.national.persons.load(self.subject.nin)
        return facts.name if facts else None

    @strawberry.field(description="Date of birth from the population registry.")
    async def birth_date(self, info: Info[Context, None]) -> dt.date | None:
        facts = await info.context.national.persons.load(self.subject.nin)
        return facts.birth_date if facts else None

    @strawberry.field(
        description="Appointments with hospitals, GP offices and the "
        "municipality, merged. Upcoming by default."
    )
    async def appointments(
        self,
        info: Info[Context, None],
        first: int = 20,
        after: str | None = None,
        filter: AppointmentFilter | None = None,
    ) -> AppointmentConnection | None:
        period = (filter or AppointmentFilter()).period
        return await appointments_of(info, self.subject, first, after, period)

    @strawberry.field(description="How many messages to this person are unread.")
    async def unread_message_count(self, info: Info[Context, None]) -> int | None:
        return await unread_message_count(info, self.subject)

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


@strawberry.type(description="Someone the viewer may act for, and on what basis.")
class Representation:
    basis: AccessBasis = strawberry.field(description="Why the viewer may act for them.")
    person: Person = strawberry.field(description="The person represented.")
    valid_until: dt.date | None = strawberry.field(
        description="The last day this basis holds, when it ends on a known day."
    )


@strawberry.type(description="The logged-in person.")
class Viewer:
    @strawberry.field(description="The logged-in person's own data.")
    def person(self, info: Info[Context, None]) -> Person:
        return Person(subject=info.context.access.me)

    @strawberry.field(description="Everyone the viewer may act for, children first.")
    async def representations(self, info: Info[Context, None]) -> list[Representation]:
        out = []
        for relation in await info.context.access.relations():
            subject = Subject(relation.subject, relation)
            out.append(
                Representation(
                    basis=AccessBasis(relation.basis.value),
                    person=Person(subject=subject),
                    valid_until=relation.valid_until,
                )
            )
        return out


@strawberry.type(description="Entry points of the citizen graph.")
class Query:
    @strawberry.field(description="Who is logged in, and whom they may act for.")
    def viewer(self) -> Viewer:
        return Viewer()

    @strawberry.field(
        description="A person the viewer may act for (or the viewer). Anyone "
        "else, or an id of no one, gives null and a FORBIDDEN error."
    )
    async def person(self, info: Info[Context, None], id: strawberry.ID) -> Person | None:
        return Person(subject=await info.context.access.subject(id))


__all__ = ["Basis", "Query"]

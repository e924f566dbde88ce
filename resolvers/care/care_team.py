"""The care team: the people looking after the person, their roles and how to reach them."""

from __future__ import annotations

import datetime as dt
from enum import Enum

import strawberry
from strawberry.types import Info

from authz.categories import Category
from resolvers.core.access import Subject
from resolvers.core.context import Context
from resolvers.core.guard import require, served, visible, watch
from resolvers.core.i18n import add_texts, text
from resolvers.core.node import Node, fetches, node_id
from sources.ehr_care_team import CareTeamMember as MemberRecord

CATEGORY = Category.CARE_TEAM

add_texts(
    {
        "careRole.CONTACT_PHYSICIAN": {
            "nb": "Kontaktlege",
            "nn": "Kontaktlege",
            "en": "Contact physician",
        },
        "careRole.CONTACT_NURSE": {
            "nb": "Kontaktsykepleier",
            "nn": "Kontaktsjukepleiar",
            "en": "Contact nurse",
        },
        "careRole.COORDINATOR": {"nb": "Koordinator", "nn": "Koordinator", "en": "Coordinator"},
        "careRole.GP": {"nb": "Fastlege", "nn": "Fastlege", "en": "Regular GP"},
        "careRole.OTHER": {"nb": "Behandler", "nn": "Behandlar", "en": "Care provider"},
    }
)


@strawberry.enum(description="A member's role in the care team.")
class CareTeamRole(Enum):
    CONTACT_PHYSICIAN = strawberry.enum_value(
        "CONTACT_PHYSICIAN", description="The physician responsible for the person (kontaktlege)."
    )
    CONTACT_NURSE = strawberry.enum_value(
        "CONTACT_NURSE", description="The person's contact nurse (kontaktsykepleier)."
    )
    COORDINATOR = strawberry.enum_value(
        "COORDINATOR", description="Coordinates the person's services (koordinator)."
    )
    GP = strawberry.enum_value("GP", description="The regular GP (fastlege).")
    OTHER = strawberry.enum_value("OTHER", description="Another role; see `roleText`.")


@strawberry.type(
    description="How to reach a care-team member: their department, never a private number."
)
class CareTeamContact:
    phone: str | None = strawberry.field(description="The department's phone number.")
    organisation: str | None = strawberry.field(description="The department or office answering.")


@strawberry.type(description="Someone in the person's care team.")
class CareTeamMember(Node):
    record: strawberry.Private[MemberRecord]
    subject: strawberry.Private[Subject]

    @strawberry.field(description="Opaque id.")
    def id(self, info: Info[Context, None]) -> strawberry.ID:
        return node_id(info, self.subject, "CareTeamMember", "ehr", self.record.id)

    @strawberry.field(description="The member's name.")
    def name(self) -> str | None:
        return self.record.name

    @strawberry.field(description="The member's role, for programs.")
    def role(self) -> CareTeamRole:
        return CareTeamRole(self.record.role.upper().replace("-", "_"))

    @strawberry.field(description="The role in the caller's language.")
    def role_text(self, info: Info[Context, None]) -> str:
        role = self.role()
        if role is CareTeamRole.OTHER and self.record.role_text:
            return self.record.role_text
        return text(f"careRole.{role.value}", info.context.language)

    @strawberry.field(description="The hospital department or office the member works for.")
    def organisation(self) -> str | None:
        return self.record.organisation

    @strawberry.field(description="The name of the care team the member belongs to.")
    def team(self) -> str | None:
        return self.record.team

    @strawberry.field(description="Since when the member has been in the team.")
    def start(self) -> dt.date | None:
        return self.record.start

    @strawberry.field(description="When the member left or leaves the team, if known.")
    def end(self) -> dt.date | None:
        return self.record.end

    @strawberry.field(description="How to reach the member (through their department).")
    def contact(self) -> CareTeamContact:
        return CareTeamContact(phone=self.record.phone, organisation=self.record.organisation)


_ORDER = list(CareTeamRole)


async def visible_members(info: Info[Context, None], subject: Subject) -> list[MemberRecord]:
    """The care-team members this view may see, by role."""
    require(info.context, subject, CATEGORY)
    ctx = info.context
    async with watch(info.context, subject, CATEGORY):
        patient = await ctx.ehr.patient_id(subject.nin)
        records = [] if patient is None else await ctx.ehr.care_team.of(patient)
    today = ctx.now.date()
    current = [m for m in records if m.end is None or m.end >= today]
    shown = visible(info.context, subject, current, lambda m: m.security)
    order = {role.name: n for n, role in enumerate(_ORDER)}
    shown.sort(key=lambda m: (order.get(m.role.upper().replace("-", "_"), 99), m.id))
    return shown


def _teams(members: list[MemberRecord]) -> set[str]:
    return {f"EHR/CareTeam/{m.id.rpartition('.')[0]}" for m in members}


async def care_team_of(info: Info[Context, None], subject: Subject) -> list[CareTeamMember]:
    """The current members of the person's care teams."""
    shown = await visible_members(info, subject)
    served(info.context, subject, CATEGORY, sorted(_teams(shown)))
    return [CareTeamMember(record=m, subject=subject) for m in shown]


@fetches("CareTeamMember")
async def fetch_member(
    info: Info[Context, None], subject: Subject, source: str, upstream_id: str
) -> CareTeamMember | None:
    """One care-team member by id, through the same checks as the list."""
    if source != "ehr":
        return None
    for record in await visible_members(info, subject):
        if record.id == upstream_id:
            served(info.context, subject, CATEGORY, sorted(_teams([record])))
            return CareTeamMember(record=record, subject=subject)
    return None


@strawberry.type
class CareTeamFields:
    subject: strawberry.Private[Subject]

    @strawberry.field(
        description="The care team: contact physician, contact nurse, coordinator, GP "
        "and others currently looking after the person, with how to reach them."
    )
    async def care_team(self, info: Info[Context, None]) -> list[CareTeamMember] | None:
        return await care_team_of(info, self.subject)

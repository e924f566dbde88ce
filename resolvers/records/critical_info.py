"""Critical information from the core journal: allergies, implants and conditions."""

from __future__ import annotations

import datetime as dt
from enum import Enum

import strawberry
from strawberry.types import Info

from authz.categories import Category
from resolvers.core.access import Subject
from resolvers.core.context import Context
from resolvers.core.guard import require, served, visible, watch
from resolvers.core.node import Node, fetches, node_id
from sources import models

CATEGORY = Category.CRITICAL_INFO


@strawberry.enum(description="What kind of critical information an entry is.")
class CriticalInformationType(Enum):
    ALLERGY = strawberry.enum_value(
        "ALLERGY", description="An allergy or a serious reaction to a medicine or substance."
    )
    IMPLANT = strawberry.enum_value(
        "IMPLANT", description="An implant, such as a pacemaker or a mechanical heart valve."
    )
    CONDITION = strawberry.enum_value(
        "CONDITION", description="A condition or treatment health personnel must know about."
    )


@strawberry.type(
    description="Critical information health personnel must know in an emergency, from the "
    "national core journal (kjernejournal)."
)
class CriticalInformation(Node):
    entry: strawberry.Private[models.CriticalEntry]
    subject: strawberry.Private[Subject]

    @strawberry.field(description="Opaque id.")
    def id(self, info: Info[Context, None]) -> strawberry.ID:
        return node_id(info, self.subject, "CriticalInformation", "nat", self.entry.id)

    @strawberry.field(description="Allergy, implant or condition.")
    def type(self) -> CriticalInformationType:
        return CriticalInformationType(self.entry.kind.upper())

    @strawberry.field(description="The entry as registered, in the registering clinician's words.")
    def text(self) -> str:
        return self.entry.text

    @strawberry.field(description="The day it was registered, when known.")
    def registered_on(self) -> dt.date | None:
        return self.entry.registered_on


async def critical_information_of(
    info: Info[Context, None], subject: Subject
) -> list[CriticalInformation]:
    """The critical information this view may see, newest first."""
    shown = await visible_entries(info, subject)
    served(info.context, subject, CATEGORY, (f"NATIONAL/CriticalInformation/{e.id}" for e in shown))
    return [CriticalInformation(entry=e, subject=subject) for e in shown]


async def visible_entries(
    info: Info[Context, None], subject: Subject
) -> list[models.CriticalEntry]:
    require(info.context, subject, CATEGORY)
    async with watch(info.context, subject, CATEGORY):
        entries = await info.context.national.critical_information(subject.nin)
    shown = visible(info.context, subject, entries, lambda e: e.security)
    shown.sort(key=lambda e: (e.registered_on or dt.date.min, e.id), reverse=True)
    return shown


@fetches("CriticalInformation")
async def fetch_critical_information(
    info: Info[Context, None], subject: Subject, source: str, upstream_id: str
) -> CriticalInformation | None:
    """One entry by id, as listed."""
    for entry in await visible_entries(info, subject) if source == "nat" else []:
        if entry.id == upstream_id:
            served(info.context, subject, CATEGORY, (f"NATIONAL/CriticalInformation/{entry.id}",))
            return CriticalInformation(entry=entry, subject=subject)
    return None

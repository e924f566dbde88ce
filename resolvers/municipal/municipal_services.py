"""Municipal care services: home-care decisions from the person's municipality."""

from __future__ import annotations

import datetime as dt
from enum import Enum

import strawberry
from strawberry.types import Info

from authz.categories import Category
from resolvers.core.access import Subject
from resolvers.core.common import Source, home_municipality, source
from resolvers.core.context import Context
from resolvers.core.guard import require, served, visible, watch
from resolvers.core.i18n import add_texts, text
from resolvers.core.node import Node, fetches, node_id
from sources import models

CATEGORY = Category.MUNICIPAL_SERVICES

add_texts(
    {
        "service.RESPITE_CARE": {"nb": "Avlastning", "nn": "Avlasting", "en": "Respite care"},
        "service.NURSING_HOME": {
            "nb": "Sykehjemsplass",
            "nn": "Sjukeheimsplass",
            "en": "Nursing-home place",
        },
        "service.DAY_CENTRE": {
            "nb": "Dagaktivitetstilbud",
            "nn": "Dagaktivitetstilbod",
            "en": "Day centre",
        },
    }
)


@strawberry.enum(description="Which municipal care service a decision or application is about.")
class MunicipalServiceType(Enum):
    HOME_NURSING = strawberry.enum_value(
        "HOME_NURSING", description="Home nursing (hjemmesykepleie)."
    )
    PRACTICAL_ASSISTANCE = strawberry.enum_value(
        "PRACTICAL_ASSISTANCE", description="Practical assistance at home (praktisk bistand)."
    )
    SAFETY_ALARM = strawberry.enum_value(
        "SAFETY_ALARM", description="A safety alarm (trygghetsalarm)."
    )
    MEAL_DELIVERY = strawberry.enum_value(
        "MEAL_DELIVERY", description="Meals delivered at home (matombringing)."
    )
    RESPITE_CARE = strawberry.enum_value(
        "RESPITE_CARE",
        description="Relief for family caring for someone at home, e.g. for a child (avlastning).",
    )
    NURSING_HOME = strawberry.enum_value(
        "NURSING_HOME", description="A place in a nursing home (sykehjemsplass)."
    )
    DAY_CENTRE = strawberry.enum_value(
        "DAY_CENTRE", description="Day activities at a day centre (dagaktivitetstilbud)."
    )
    UNKNOWN = strawberry.enum_value(
        "UNKNOWN", description="A service this gateway does not know yet; see `typeText`."
    )


@strawberry.enum(description="Where a municipal service decision stands.")
class MunicipalServiceStatus(Enum):
    GRANTED = strawberry.enum_value("GRANTED", description="Granted and in effect.")
    ENDED = strawberry.enum_value("ENDED", description="Granted once, now ended.")
    UNKNOWN = strawberry.enum_value(
        "UNKNOWN", description="A status this gateway does not know yet."
    )


_TYPES = {
    "homeNursing": MunicipalServiceType.HOME_NURSING,
    "practicalAssistance": MunicipalServiceType.PRACTICAL_ASSISTANCE,
    "safetyAlarm": MunicipalServiceType.SAFETY_ALARM,
    "mealDelivery": MunicipalServiceType.MEAL_DELIVERY,
    "respiteCare": MunicipalServiceType.RESPITE_CARE,
    "nursingHome": MunicipalServiceType.NURSING_HOME,
    "dayCentre": MunicipalServiceType.DAY_CENTRE,
}
SERVICE_CODES = {kind: code for code, kind in _TYPES.items()}
"""The municipal API's code of each service type."""


def service_type(code: str) -> MunicipalServiceType:
    """The service type of a municipal API's service code."""
    return _TYPES.get(code, MunicipalServiceType.UNKNOWN)


def service_text(kind: MunicipalServiceType, info: Info[Context, None]) -> str:
    """The service in the caller's language."""
    return text(f"service.{kind.value}", info.context.language)


_STATUSES = {"granted": MunicipalServiceStatus.GRANTED, "ended": MunicipalServiceStatus.ENDED}


@strawberry.type(description="A municipality's decision on a care service for the person.")
class MunicipalService(Node):
    entry: strawberry.Private[models.MunicipalServiceEntry]
    subject: strawberry.Private[Subject]

    @strawberry.field(description="Opaque id.")
    def id(self, info: Info[Context, None]) -> strawberry.ID:
        key = f"m{self.entry.source.municipality}"
        return node_id(info, self.subject, "MunicipalService", key, self.entry.id)

    @strawberry.field(description="The service, for programs.")
    def type(self) -> MunicipalServiceType:
        return service_type(self.entry.kind)

    @strawberry.field(description="The service in the caller's language.")
    def type_text(self, info: Info[Context, None]) -> str:
        return service_text(self.type(), info)

    @strawberry.field(description="Where the decision stands, for programs.")
    def status(self) -> MunicipalServiceStatus:
        return _STATUSES.get(self.entry.status, MunicipalServiceStatus.UNKNOWN)

    @strawberry.field(description="Where the decision stands, in the caller's language.")
    def status_text(self, info: Info[Context, None]) -> str:
        return text(f"serviceStatus.{self.status().value}", info.context.language)

    @strawberry.field(description="The day the municipality decided, when known.")
    def decided_on(self) -> dt.date | None:
        return self.entry.decided_on

    @strawberry.field(description="The municipality that decided.")
    def source(self, info: Info[Context, None]) -> Source:
        return source(self.entry.source, info)


async def decisions_of(
    info: Info[Context, None], subject: Subject
) -> list[models.MunicipalServiceEntry]:
    """The decisions of the subject's home municipality this view may see, newest first
    (not yet audited: call `served` for those that reach the client)."""
    require(info.context, subject, CATEGORY)
    async with watch(info.context, subject, CATEGORY):
        municipality = await home_municipality(info, subject)
        if municipality is None:
            entries: list[models.MunicipalServiceEntry] = []
        else:
            entries = await info.context.municipal.services(municipality, subject.nin)
    shown = visible(info.context, subject, entries, lambda e: e.security)
    shown.sort(key=lambda e: (e.decided_on or dt.date.min, e.id), reverse=True)
    return shown


async def municipal_services_of(
    info: Info[Context, None], subject: Subject
) -> list[MunicipalService]:
    """The decisions of the subject's home municipality this view may see, newest first."""
    shown = await decisions_of(info, subject)
    served(info.context, subject, CATEGORY, (reference(e) for e in shown))
    return [MunicipalService(entry=e, subject=subject) for e in shown]


@fetches("MunicipalService")
async def fetch_municipal_service(
    info: Info[Context, None], subject: Subject, source: str, upstream_id: str
) -> MunicipalService | None:
    """One decision by id, through the same checks as the list."""
    for entry in await decisions_of(info, subject):
        if entry.id == upstream_id and f"m{entry.source.municipality}" == source:
            served(info.context, subject, CATEGORY, (reference(entry),))
            return MunicipalService(entry=entry, subject=subject)
    return None


def reference(entry: models.MunicipalServiceEntry) -> str:
    """The audit reference of one decision."""
    return f"MUNICIPAL {entry.source.municipality}/Service/{entry.id}"

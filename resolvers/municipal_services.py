"""Municipal care services: home-care decisions from the person's municipality."""

from __future__ import annotations

import datetime as dt
from enum import Enum

import strawberry
from strawberry.types import Info

from gateway.access import Subject
from gateway.context import Context
from gateway.i18n import text
from gateway.ids import encode
from resolvers.common import Source, home_municipality, source
from resolvers.guard import require, served, visible, watch
from sources import models

CATEGORY = "municipal_services"


@strawberry.enum(description="Which municipal care service a decision is about.")
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
}
_STATUSES = {"granted": MunicipalServiceStatus.GRANTED, "ended": MunicipalServiceStatus.ENDED}


@strawberry.type(description="A municipality's decision on a care service for the person.")
class MunicipalService:
    entry: strawberry.Private[models.MunicipalServiceEntry]

    @strawberry.field(description="Opaque id.")
    def id(self) -> strawberry.ID:
        key = f"m{self.entry.source.municipality}"
        return strawberry.ID(encode("MunicipalService", key, self.entry.id))

    @strawberry.field(description="The service, for programs.")
    def type(self) -> MunicipalServiceType:
        return _TYPES.get(self.entry.kind, MunicipalServiceType.UNKNOWN)

    @strawberry.field(description="The service in the caller's language.")
    def type_text(self, info: Info[Context, None]) -> str:
        return text(f"service.{self.type().value}", info.context.language)

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


async def municipal_services_of(
    info: Info[Context, None], subject: Subject
) -> list[MunicipalService]:
    """The decisions of the subject's home municipality this view may see, newest first."""
    require(info, subject, CATEGORY)
    async with watch(info, subject, CATEGORY):
        municipality = await home_municipality(info, subject)
        if municipality is None:
            entries: list[models.MunicipalServiceEntry] = []
        else:
            entries = await info.context.municipal.services(municipality, subject.nin)
    shown = visible(info, subject, entries, lambda e: e.security)
    served(info, subject, CATEGORY, (reference(e) for e in shown))
    shown.sort(key=lambda e: (e.decided_on or dt.date.min, e.id), reverse=True)
    return [MunicipalService(entry=e) for e in shown]


def reference(entry: models.MunicipalServiceEntry) -> str:
    """The audit reference of one decision."""
    return f"MUNICIPAL {entry.source.municipality}/Service/{entry.id}"

"""Whom a person may write to: their GP office, hospital departments they have
appointments with, and their home municipality's health and care services."""

from __future__ import annotations

import asyncio

import strawberry
from strawberry.types import Info

from authz.categories import Category
from resolvers.appointments.appointment_rules import HOSPITAL, category_of
from resolvers.core.access import Subject
from resolvers.core.common import Source, gather_sources, source
from resolvers.core.context import Context
from resolvers.core.errors import BadUserInput
from resolvers.core.guard import may, require, served, visible, watch
from resolvers.core.ids import decode, encode
from resolvers.core.routing import municipal_route
from resolvers.messages.messages import CATEGORY, CounterpartKind
from sources.message_records import Recipient
from sources.models import EHR, SourceKind, SourceRef

ID_TYPE = "MessageRecipient"


@strawberry.type(description="Someone the person may write a new message to.")
class MessageRecipient:
    record: strawberry.Private[Recipient]

    @strawberry.field(description="Pass as `recipientId` to `sendMessage`.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(encode(ID_TYPE, "gw", self.record.key))

    @strawberry.field(description="The office, department or service, as it is known.")
    def name(self) -> str:
        return self.record.name

    @strawberry.field(description="Which kind of care provider it is.")
    def kind(self) -> CounterpartKind:
        return CounterpartKind(self.record.kind)

    @strawberry.field(description="The system the conversation will be kept in.")
    def source(self, info: Info[Context, None]) -> Source:
        return source(self.record.route, info)


def recipient_key(recipient_id: str) -> str:
    """The recipient key inside a `MessageRecipient.id`; BadUserInput for anything else."""
    kind, _, key = decode(recipient_id)
    if kind != ID_TYPE:
        raise BadUserInput("recipientId is not a recipient id.", argument="recipientId")
    return key


async def _gp(info: Info[Context, None], subject: Subject) -> list[Recipient]:
    if not may(info.context, subject, Category.GP):
        return []  # who the GP is belongs to the `gp` category
    async with watch(info.context, subject, CATEGORY):
        listed = await info.context.national.gps.load(subject.nin)
    if listed is None or not listed.hpr_number:
        return []
    name = listed.office.name if listed.office else listed.name
    return [Recipient(f"gp:{listed.hpr_number}", name, "GP", EHR)]


async def _hospital(info: Info[Context, None], subject: Subject) -> list[Recipient]:
    """Departments of the hospital appointments this view may see (past ones only where
    the basis includes them): the list must not reveal visits the basis hides."""
    if not may(info.context, subject, HOSPITAL):
        return []
    ctx = info.context
    past_too = ctx.access.policy.past_appointments(subject.view)
    async with watch(info.context, subject, CATEGORY):
        patient = await ctx.ehr.patient_id(subject.nin)
        if patient is None:
            return []
        reads = [ctx.ehr.appointments.of(patient, upcoming=True, now=ctx.now)]
        if past_too:
            reads.append(ctx.ehr.appointments.of(patient, upcoming=False, now=ctx.now))
        found = [a for part in await asyncio.gather(*reads) for a in part]
        hospital = [a for a in found if category_of(a) == HOSPITAL]
        shown = visible(info.context, subject, hospital, lambda a: a.security)
        ids = sorted({a.location_id for a in shown if a.location_id})
        places = await asyncio.gather(*(ctx.ehr.hospital(i) for i in ids))
    named: dict[str, Recipient] = {}  # one per department, however many places it has
    for place in places:
        if place is None:
            continue
        if place.name and place.name not in named:
            named[place.name] = Recipient(f"hospital:{place.id}", place.name, "HOSPITAL", EHR)
    return list(named.values())


async def _municipality(info: Info[Context, None], subject: Subject) -> list[Recipient]:
    route = await municipal_route(info, subject)
    code = route.municipality
    if code is None or not (route.shared_ehr or route.api):
        return []
    town = info.context.municipal.name(code) or code
    where = EHR if route.shared_ehr else SourceRef(SourceKind.MUNICIPAL, code)
    name = f"{town} kommune, helse og omsorg"
    return [Recipient(f"municipality:{code}", name, "MUNICIPALITY", where)]


async def recipients(info: Info[Context, None], subject: Subject) -> list[Recipient]:
    """Everyone this view may write to for the subject (policy: some bases may write only
    to some kinds), GP first, then hospital departments by name, then the municipality."""
    require(info.context, subject, CATEGORY)
    parts = await gather_sources(
        info, [_gp(info, subject), _hospital(info, subject), _municipality(info, subject)]
    )
    allowed = info.context.access.policy.message_recipients(subject.view)
    order = {"GP": 0, "HOSPITAL": 1, "MUNICIPALITY": 2}
    found = [r for part in parts for r in part if allowed is None or r.kind in allowed]
    return sorted(found, key=lambda r: (order[r.kind], r.name, r.key))


async def message_recipients_of(
    info: Info[Context, None], subject: Subject
) -> list[MessageRecipient]:
    """The `Person.messageRecipients` field."""
    found = await recipients(info, subject)
    served(info.context, subject, CATEGORY)
    return [MessageRecipient(record=r) for r in found]


def may_write_to(info: Info[Context, None], subject: Subject, kind: str) -> bool:
    """True when the viewer's basis may write to this kind of recipient for the subject."""
    allowed = info.context.access.policy.message_recipients(subject.view)
    return allowed is None or kind in allowed

"""Who has read a person's data: the gateway's audit trail merged with the EHR's own log."""

from __future__ import annotations

import datetime as dt
from enum import Enum

import strawberry
from strawberry.types import Info

from authz.categories import Category
from resolvers.core.access import Subject
from resolvers.core.common import gather_sources
from resolvers.core.context import Context
from resolvers.core.errors import BadUserInput
from resolvers.core.guard import require, served, watch
from resolvers.core.i18n import text
from sources import models

CATEGORY = Category.ACCESS_LOG
MAX_ENTRIES = 200


@strawberry.enum(description="Which log an access was recorded in.")
class AccessLogSource(Enum):
    GATEWAY = strawberry.enum_value(
        "GATEWAY",
        description="Read through the portal (the person, a parent, a proxy or a partner service).",
    )
    EHR = strawberry.enum_value(
        "EHR", description="Opened by health personnel in the health record."
    )


@strawberry.type(description="One access to the person's data.")
class AccessLogEntry:
    at: dt.datetime = strawberry.field(description="When.")
    actor: str = strawberry.field(description="Who: a name, or a partner service's id.")
    role: str | None = strawberry.field(
        description="In what capacity, in the caller's language (parent, power of attorney, "
        "nurse, ...), when known."
    )
    action: str = strawberry.field(description="`read` or `write`.")
    categories: list[str] = strawberry.field(
        description="The data categories accessed (portal accesses only)."
    )
    source: AccessLogSource = strawberry.field(description="Which log recorded it.")


async def _gateway(info: Info[Context, None], subject: Subject, first: int) -> list[AccessLogEntry]:
    ctx = info.context
    records = await ctx.audit.for_subject(subject.nin, limit=first)
    actors = sorted({r.entry.actor for r in records if r.entry.actor_kind == "citizen"})
    facts = dict(zip(actors, await ctx.national.persons.load_many(actors), strict=True))
    out = []
    for record in records:
        entry = record.entry
        if entry.outcome != "success":
            continue
        person = facts.get(entry.actor) if entry.actor_kind == "citizen" else None
        actor = person.name if person is not None else (entry.client_id or entry.actor_kind)
        out.append(
            AccessLogEntry(
                at=entry.at,
                actor=actor,
                role=text(f"basis.{entry.basis}", ctx.language),
                action=entry.action,
                categories=list(entry.categories),
                source=AccessLogSource.GATEWAY,
            )
        )
    return out


async def _ehr(info: Info[Context, None], subject: Subject, first: int) -> list[AccessLogEntry]:
    ctx = info.context
    async with watch(info.context, subject, CATEGORY):
        patient = await ctx.ehr.patient_id(subject.nin)
        events: list[models.AccessEvent] = (
            [] if patient is None else await ctx.ehr.access_events(patient, first)
        )
    return [
        AccessLogEntry(
            at=e.at,
            actor=e.who,
            role=e.role,
            action="read" if e.action == "R" else "write",
            categories=[],
            source=AccessLogSource.EHR,
        )
        for e in events
    ]


async def access_log_of(
    info: Info[Context, None], subject: Subject, first: int
) -> list[AccessLogEntry]:
    """The newest accesses first, from both logs."""
    if first < 1 or first > MAX_ENTRIES:
        raise BadUserInput(f"`first` must be between 1 and {MAX_ENTRIES}.", argument="first")
    require(info.context, subject, CATEGORY)
    lists = await gather_sources(info, [_gateway(info, subject, first), _ehr(info, subject, first)])
    merged = [e for items in lists for e in items]
    merged.sort(key=lambda e: e.at, reverse=True)
    served(info.context, subject, CATEGORY)
    return merged[:first]

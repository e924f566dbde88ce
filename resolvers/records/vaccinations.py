"""Vaccinations merged from the national registry and the municipality's health station."""

from __future__ import annotations

import datetime as dt

import strawberry
from strawberry.types import Info

from authz.categories import Category
from resolvers.core.access import Subject
from resolvers.core.common import Source, gather_sources, home_municipality, source
from resolvers.core.context import Context
from resolvers.core.guard import require, served, visible, watch
from resolvers.core.node import Node, fetches, node_id
from sources import models

CATEGORY = Category.VACCINATIONS


@strawberry.type(description="A vaccination, merged across the registries that record it.")
class Vaccination(Node):
    entries: strawberry.Private[list[models.VaccinationEntry]]
    subject: strawberry.Private[Subject]

    @strawberry.field(description="Opaque id.")
    def id(self, info: Info[Context, None]) -> strawberry.ID:
        first = self.entries[0]
        return node_id(info, self.subject, "Vaccination", _source_key(first), first.id)

    @strawberry.field(description="The vaccine's name.")
    def name(self) -> str:
        return self.entries[0].name

    @strawberry.field(description="ATC code, for programs.")
    def atc(self) -> str | None:
        return self.entries[0].atc

    @strawberry.field(description="The day it was given.")
    def date(self) -> dt.date:
        return self.entries[0].date

    @strawberry.field(description="Every registry that records this vaccination.")
    def sources(self, info: Info[Context, None]) -> list[Source]:
        return [source(e.source, info) for e in self.entries]


def _source_key(entry: models.VaccinationEntry) -> str:
    where = entry.source.municipality
    return "nat" if where is None else f"m{where}"


def merge_vaccinations(
    entries: list[models.VaccinationEntry], subject: Subject
) -> list[Vaccination]:
    """One entry per vaccination: the same vaccine (ATC or name) on the same day."""
    groups: dict[tuple[str, dt.date], list[models.VaccinationEntry]] = {}
    for entry in entries:
        key = (entry.atc or entry.name.strip().lower(), entry.date)
        groups.setdefault(key, []).append(entry)
    merged = [
        Vaccination(entries=sorted(g, key=lambda e: e.source.kind.value), subject=subject)
        for g in groups.values()
    ]
    return sorted(merged, key=lambda v: (v.date(), v.name()), reverse=True)


async def _municipal(info: Info[Context, None], subject: Subject) -> list[models.VaccinationEntry]:
    ctx = info.context
    async with watch(info.context, subject, CATEGORY):
        municipality = await home_municipality(info, subject)
        if municipality is None:
            return []
        return await ctx.municipal.vaccinations(municipality, subject.nin)


async def _national(info: Info[Context, None], subject: Subject) -> list[models.VaccinationEntry]:
    async with watch(info.context, subject, CATEGORY):
        return await info.context.national.vaccinations(subject.nin)


async def merged_vaccinations(info: Info[Context, None], subject: Subject) -> list[Vaccination]:
    """The merged list this view may see, newest first; not audited."""
    require(info.context, subject, CATEGORY)
    lists = await gather_sources(info, [_national(info, subject), _municipal(info, subject)])
    entries = visible(
        info.context, subject, [e for items in lists for e in items], lambda e: e.security
    )
    return merge_vaccinations(entries, subject)


async def vaccinations_of(info: Info[Context, None], subject: Subject) -> list[Vaccination]:
    """The merged vaccination list this view may see, newest first."""
    merged = await merged_vaccinations(info, subject)
    served(info.context, subject, CATEGORY, (reference(e) for v in merged for e in v.entries))
    return merged


@fetches("Vaccination")
async def fetch_vaccination(
    info: Info[Context, None], subject: Subject, source_key: str, upstream_id: str
) -> Vaccination | None:
    """One merged vaccination by the id of its first entry, as listed."""
    for vaccination in await merged_vaccinations(info, subject):
        first = vaccination.entries[0]
        if (_source_key(first), first.id) == (source_key, upstream_id):
            served(info.context, subject, CATEGORY, (reference(e) for e in vaccination.entries))
            return vaccination
    return None


def reference(entry: models.VaccinationEntry) -> str:
    """The audit reference of one entry."""
    where = entry.source.municipality
    return f"{'NATIONAL' if where is None else 'MUNICIPAL ' + where}/Immunization/{entry.id}"

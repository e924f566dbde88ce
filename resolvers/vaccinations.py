"""Vaccinations merged from the national registry and the municipality's health station."""

from __future__ import annotations

import datetime as dt

import strawberry
from strawberry.types import Info

from gateway.access import Subject
from gateway.context import Context
from gateway.ids import encode
from resolvers.common import Source, gather_sources, source
from sources import models


@strawberry.type(description="A vaccination, merged across the registries that record it.")
class Vaccination:
    entries: strawberry.Private[list[models.VaccinationEntry]]

    @strawberry.field(description="Opaque id.")
    def id(self) -> strawberry.ID:
        first = self.entries[0]
        key = "nat" if first.source.municipality is None else f"m{first.source.municipality}"
        return strawberry.ID(encode("Vaccination", key, first.id))

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


def merge_vaccinations(entries: list[models.VaccinationEntry]) -> list[Vaccination]:
    """One entry per vaccination: the same vaccine (ATC or name) on the same day."""
    groups: dict[tuple[str, dt.date], list[models.VaccinationEntry]] = {}
    for entry in entries:
        key = (entry.atc or entry.name.strip().lower(), entry.date)
        groups.setdefault(key, []).append(entry)
    merged = [
        Vaccination(entries=sorted(g, key=lambda e: e.source.kind.value)) for g in groups.values()
    ]
    return sorted(merged, key=lambda v: (v.date(), v.name()), reverse=True)


async def _municipal(info: Info[Context, None], subject: Subject) -> list[models.VaccinationEntry]:
    ctx = info.context
    facts = await ctx.national.persons.load(subject.nin)
    if facts is None or not ctx.municipal.serves(facts.municipality):
        return []
    assert facts.municipality is not None
    return await ctx.municipal.vaccinations(facts.municipality, subject.nin)


async def vaccinations_of(info: Info[Context, None], subject: Subject) -> list[Vaccination]:
    """The merged vaccination list, newest first."""
    lists = await gather_sources(
        info,
        [
            info.context.national.vaccinations(subject.nin),
            _municipal(info, subject),
        ],
    )
    return merge_vaccinations([e for items in lists for e in items])

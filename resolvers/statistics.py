"""Aggregates for analysts: no person-level data, small cells suppressed together with
enough others that none can be derived (authz.suppression)."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Iterable

import strawberry
from strawberry.types import Info

from authz.suppression import Counts, Key, suppressed
from resolvers.core.access import PrincipalKind
from resolvers.core.context import Context
from resolvers.core.errors import BadUserInput, Forbidden
from sources.national import CoverageRow


@strawberry.type(
    description="One cell of vaccination coverage. Cells counting fewer people than "
    "the policy's minimum cell size (vaccinated, not vaccinated, or in all) are "
    "suppressed, and so are enough other cells that no suppressed count can be "
    "worked out from the shown cells and the table's totals."
)
class CoverageCell:
    municipality: str = strawberry.field(description="Four-digit municipality number.")
    age_band: str = strawberry.field(description="Age band, e.g. `13-17`.")
    vaccine: str = strawberry.field(description="ATC code of the vaccine.")
    vaccinated: int | None = strawberry.field(description="People vaccinated; null if suppressed.")
    population: int | None = strawberry.field(description="People in the cell; null if suppressed.")
    suppressed: bool = strawberry.field(description="True when the counts are withheld.")


async def coverage_cells(rows: Iterable[CoverageRow], min_cell: int) -> list[CoverageCell]:
    """The whole table as an analyst may see it: small cells and their complements
    withheld (decided over every row, so any selection of it shows the same cells)."""
    table = {_key(r): Counts(r.vaccinated, r.population) for r in rows}
    # Seconds of CPU for a national table (356 municipalities x 5 bands x 20 vaccines):
    # off the event loop, and once per version of the table.
    withheld = await asyncio.to_thread(_withheld, tuple(table.items()), min_cell)
    return [_cell(key, counts, key in withheld) for key, counts in table.items()]


@functools.lru_cache(maxsize=8)
def _withheld(table: tuple[tuple[Key, Counts], ...], min_cell: int) -> frozenset[Key]:
    return suppressed(dict(table), min_cell)


def _key(row: CoverageRow) -> Key:
    return (row.municipality, row.age_band, row.vaccine)


def _cell(key: Key, counts: Counts, withheld: bool) -> CoverageCell:
    municipality, age_band, vaccine = key
    return CoverageCell(
        municipality=municipality,
        age_band=age_band,
        vaccine=vaccine,
        vaccinated=None if withheld else counts.count,
        population=None if withheld else counts.population,
        suppressed=withheld,
    )


@strawberry.type(description="Aggregate statistics, for analysts only.")
class Statistics:
    @strawberry.field(description="Vaccination coverage by municipality, age band and vaccine.")
    async def vaccination_coverage(
        self,
        info: Info[Context, None],
        municipality: str | None = None,
        vaccine: str | None = None,
    ) -> list[CoverageCell]:
        if municipality is not None and not (len(municipality) == 4 and municipality.isdigit()):
            raise BadUserInput(
                "`municipality` must be a four-digit municipality number.", argument="municipality"
            )
        if vaccine is not None and not (3 <= len(vaccine) <= 7 and vaccine.isalnum()):
            raise BadUserInput("`vaccine` must be an ATC code such as J07BB02.", argument="vaccine")
        ctx = info.context
        # The whole table, always: suppression decided on a selection could differ from
        # the one decided on the whole, and the two together would give cells away.
        rows = await ctx.national.vaccination_coverage(None, None)
        cells = await coverage_cells(rows, ctx.access.policy.analyst_min_cell)
        return [
            c
            for c in cells
            if municipality in (None, c.municipality) and vaccine in (None, c.vaccine)
        ]


def statistics(info: Info[Context, None]) -> Statistics:
    """Statistics for analysts; everyone else is refused."""
    if info.context.access.kind is not PrincipalKind.ANALYST:
        raise Forbidden()
    return Statistics()

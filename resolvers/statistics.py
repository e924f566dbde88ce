"""Aggregates for analysts: no person-level data, small cells suppressed."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from gateway.access import PrincipalKind
from gateway.context import Context
from gateway.errors import BadUserInput, Forbidden
from sources.national import CoverageRow


@strawberry.type(
    description="One cell of vaccination coverage. Counts below the policy's "
    "minimum cell size (and cells whose complement is that small) "
    "are suppressed."
)
class CoverageCell:
    municipality: str = strawberry.field(description="Four-digit municipality number.")
    age_band: str = strawberry.field(description="Age band, e.g. `13-17`.")
    vaccine: str = strawberry.field(description="ATC code of the vaccine.")
    vaccinated: int | None = strawberry.field(description="People vaccinated; null if suppressed.")
    population: int | None = strawberry.field(description="People in the cell; null if suppressed.")
    suppressed: bool = strawberry.field(description="True when the counts are withheld.")


def suppress(row: CoverageRow, min_cell: int) -> CoverageCell:
    """The cell as an analyst may see it: counts withheld when a count, or what it leaves
    out of its population, is below `min_cell` (so no small group can be singled out)."""
    small = min(row.vaccinated, row.population - row.vaccinated, row.population) < min_cell
    return CoverageCell(
        municipality=row.municipality,
        age_band=row.age_band,
        vaccine=row.vaccine,
        vaccinated=None if small else row.vaccinated,
        population=None if small else row.population,
        suppressed=small,
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
        rows = await ctx.national.vaccination_coverage(municipality, vaccine)
        return [suppress(r, ctx.access.policy.analyst_min_cell) for r in rows]


def statistics(info: Info[Context, None]) -> Statistics:
    """Statistics for analysts; everyone else is refused."""
    if info.context.access.kind is not PrincipalKind.ANALYST:
        raise Forbidden()
    return Statistics()

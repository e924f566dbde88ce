"""The monitoring fields on Person: follow-up programmes and home measurements."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from resolvers.core.access import Subject
from resolvers.core.context import Context
from resolvers.core.guard import served
from resolvers.monitoring.measurements import (
    CATEGORY,
    MeasurementConnection,
    MeasurementFilter,
    measurements_of,
)
from resolvers.monitoring.programmes import FollowUpProgramme, visible_programmes


@strawberry.type
class MonitoringFields:
    subject: strawberry.Private[Subject]

    @strawberry.field(
        description="Follow-up programmes: what the care team asks the person to measure "
        "at home, and how often."
    )
    async def follow_up_programmes(
        self, info: Info[Context, None]
    ) -> list[FollowUpProgramme] | None:
        found = await visible_programmes(info, self.subject)
        served(info.context, self.subject, CATEGORY, (f"EHR/CarePlan/{p.id}" for p in found))
        return [FollowUpProgramme(record=p, subject=self.subject) for p in found]

    @strawberry.field(
        description="Measurements (home and clinic): blood pressure, pulse, weight, "
        "glucose, oxygen saturation, temperature; newest first."
    )
    async def measurements(
        self,
        info: Info[Context, None],
        first: int = 20,
        after: str | None = None,
        filter: MeasurementFilter | None = None,
    ) -> MeasurementConnection | None:
        return await measurements_of(info, self.subject, first, after, filter)

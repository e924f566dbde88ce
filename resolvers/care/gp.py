"""The regular GP (fastlege) from the national GP registry."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from authz.categories import Category
from resolvers.appointments.appointments import PostalAddress
from resolvers.core.access import Subject
from resolvers.core.context import Context
from resolvers.core.guard import require, served, watch
from sources import models

CATEGORY = Category.GP


@strawberry.type(description="The office a GP works from; a business address, never the patient's.")
class GpOffice:
    name: str = strawberry.field(description="The office's name.")
    address: PostalAddress | None = strawberry.field(
        description="The office's visiting address, when the registry has one."
    )
    phone: str | None = strawberry.field(description="The office's phone number, when known.")


@strawberry.type(description="A person's regular GP (fastlege), as the national registry lists it.")
class GeneralPractitioner:
    name: str = strawberry.field(description="The GP's name.")
    hpr_number: str | None = strawberry.field(
        description="The GP's number in the health personnel register (HPR), when known."
    )
    office: GpOffice | None = strawberry.field(
        description="The office the GP works from, when known."
    )


def _office(office: models.GpOffice | None) -> GpOffice | None:
    if office is None:
        return None
    where = office.address
    return GpOffice(
        name=office.name,
        address=PostalAddress(street=where.street, postal_code=where.postal_code, city=where.city)
        if where
        else None,
        phone=office.phone,
    )


async def gp_of(info: Info[Context, None], subject: Subject) -> GeneralPractitioner | None:
    """The subject's regular GP; null when the registry lists none."""
    require(info.context, subject, CATEGORY)
    async with watch(info.context, subject, CATEGORY):
        listed = await info.context.national.gps.load(subject.nin)
    if listed is None:
        return None
    served(info.context, subject, CATEGORY, [f"NATIONAL/GP/{listed.hpr_number or 'unknown'}"])
    return GeneralPractitioner(
        name=listed.name, hpr_number=listed.hpr_number, office=_office(listed.office)
    )

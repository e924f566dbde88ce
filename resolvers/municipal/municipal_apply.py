"""Applying for a municipal care service (validated, on an allowed basis, idempotent,
audited); the next read of `municipalApplications` shows it RECEIVED."""

from __future__ import annotations

import datetime as dt
import re

import strawberry
from strawberry.types import Info

from authz.policy import Action
from resolvers.core.common import home_municipality
from resolvers.core.context import Context
from resolvers.core.guard import served, watch
from resolvers.core.i18n import add_texts
from resolvers.core.writes import UserError, acting, check_key, check_text, once, user_error
from resolvers.municipal.municipal_applications import MunicipalApplication, reference
from resolvers.municipal.municipal_services import CATEGORY, SERVICE_CODES, MunicipalServiceType
from sources.errors import UpstreamRejected
from sources.municipal_applications import Application, NewApplication

MAX_DESCRIPTION = 2000
_PHONE = re.compile(r"(\+47)?\d{8}", re.ASCII)

add_texts(
    {
        "error.SERVICE_NOT_OFFERED": {
            "nb": "Kommunen tar ikke imot søknader om denne tjenesten.",
            "nn": "Kommunen tek ikkje imot søknader om denne tenesta.",
            "en": "The municipality does not take applications for this service.",
        },
        "error.IN_THE_PAST": {
            "nb": "Datoen kan ikke være tilbake i tid.",
            "nn": "Datoen kan ikkje vere tilbake i tid.",
            "en": "The date must not be in the past.",
        },
        "error.INVALID_PHONE": {
            "nb": "Skriv et norsk telefonnummer: 8 sifre, gjerne med +47 foran.",
            "nn": "Skriv eit norsk telefonnummer: 8 siffer, gjerne med +47 framfor.",
            "en": "Write a Norwegian phone number: 8 digits, optionally with +47 first.",
        },
        "error.NO_MUNICIPALITY": {
            "nb": "Personens kommune tar ikke imot søknader her.",
            "nn": "Kommunen til personen tek ikkje imot søknader her.",
            "en": "The person's municipality does not take applications here.",
        },
        "error.REJECTED": {
            "nb": "Kommunen kunne ikke ta imot søknaden. Sjekk opplysningene og prøv igjen.",
            "nn": "Kommunen kunne ikkje ta imot søknaden. Sjekk opplysningane og prøv igjen.",
            "en": "The municipality could not accept the application. Check it and try again.",
        },
    }
)


@strawberry.input(description="An application for a municipal care service.")
class ApplyForMunicipalServiceInput:
    person_id: strawberry.ID = strawberry.field(
        description="Who applies: the viewer, or someone they act for."
    )
    service: MunicipalServiceType = strawberry.field(
        description="The service applied for; the municipality must offer it."
    )
    description: str = strawberry.field(
        description="The applicant's needs, in their own words (1-2000 characters)."
    )
    wished_start: dt.date | None = strawberry.field(
        default=None, description="The day the service is wished to start (today or later)."
    )
    contact_phone: str | None = strawberry.field(
        default=None,
        description="A Norwegian phone number the municipality may call: 8 digits, "
        "optionally with +47 first.",
    )
    idempotency_key: str = strawberry.field(
        description="A client-chosen key (8-128 characters); a retry with the same key and "
        "input returns the first result and never applies twice."
    )


@strawberry.type(description="The outcome of applying for a municipal care service.")
class ApplyForMunicipalServicePayload:
    application: MunicipalApplication | None = strawberry.field(
        description="The application as the municipality received it."
    )
    user_errors: list[UserError] = strawberry.field(description="Why it was not sent.")


def _phone(value: str | None) -> str | None:
    """The number without spaces, when it is one."""
    return None if value is None else "".join(value.split())


def _validate(info: Info[Context, None], data: ApplyForMunicipalServiceInput) -> list[UserError]:
    errors = check_text(info, "description", data.description, limit=MAX_DESCRIPTION)
    if data.service not in SERVICE_CODES:
        errors.append(user_error(info, "service", "INVALID"))
    if data.wished_start is not None and data.wished_start < info.context.today:
        errors.append(user_error(info, "wishedStart", "IN_THE_PAST"))
    phone = _phone(data.contact_phone)
    if phone is not None and not _PHONE.fullmatch(phone):
        errors.append(user_error(info, "contactPhone", "INVALID_PHONE"))
    return [*errors, *check_key(info, data.idempotency_key)]


async def apply_for_municipal_service(
    info: Info[Context, None], data: ApplyForMunicipalServiceInput
) -> ApplyForMunicipalServicePayload:
    """Send an application to the person's home municipality."""
    errors = _validate(info, data)
    subject, denied = await acting(info, data.person_id, CATEGORY)
    if subject is None or denied or errors:
        return ApplyForMunicipalServicePayload(application=None, user_errors=[*errors, *denied])
    municipal = info.context.municipal
    code = SERVICE_CODES[data.service]
    async with watch(info.context, subject, CATEGORY, Action.WRITE):
        municipality = await home_municipality(info, subject)
        offered = (
            None if municipality is None else await municipal.applications.offerings(municipality)
        )
    if municipality is None or offered is None:
        error = user_error(info, "personId", "NO_MUNICIPALITY")
        return ApplyForMunicipalServicePayload(application=None, user_errors=[error])
    if code not in offered:
        error = user_error(info, "service", "SERVICE_NOT_OFFERED")
        return ApplyForMunicipalServicePayload(application=None, user_errors=[error])
    new = NewApplication(
        service=code,
        description=data.description,
        wished_start=data.wished_start,
        contact_phone=_phone(data.contact_phone),
    )

    async def send(scoped: str) -> Application | UserError:
        try:
            async with watch(info.context, subject, CATEGORY, Action.WRITE):
                return await municipal.applications.apply(
                    municipality, subject.nin, new, idempotency=scoped
                )
        except UpstreamRejected:
            return user_error(info, [], "REJECTED")

    parts = (municipality, new.service, new.description, new.wished_start, new.contact_phone)
    result = await once(info, subject, data.idempotency_key, parts, send, category=CATEGORY)
    if isinstance(result, UserError):
        return ApplyForMunicipalServicePayload(application=None, user_errors=[result])
    served(info.context, subject, CATEGORY, (reference(result),), Action.WRITE)
    application = MunicipalApplication(record=result, subject=subject)
    return ApplyForMunicipalServicePayload(application=application, user_errors=[])


@strawberry.type(description="Applying for municipal care services.")
class MunicipalApplicationMutations:
    @strawberry.mutation(
        description="Apply to the person's home municipality for a care service (home "
        "nursing, respite care for a child, ...). Needs the `municipal_services` write "
        "permission on the acting basis; null with an UPSTREAM error when the municipality "
        "cannot be reached."
    )
    async def apply_for_municipal_service(
        self, info: Info[Context, None], input: ApplyForMunicipalServiceInput
    ) -> ApplyForMunicipalServicePayload | None:
        return await apply_for_municipal_service(info, input)

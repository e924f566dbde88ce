"""One system's entry for a medicine on the merged list: who put it there, whether a
clinician confirmed it, and the comments on it."""

from __future__ import annotations

import datetime as dt
from enum import Enum

import strawberry
from strawberry.types import Info

from resolvers.core.common import Source, source
from resolvers.core.context import Context
from resolvers.core.i18n import add_texts
from sources import models
from sources.ehr_medications import EhrMedicationEntry

add_texts(
    {
        "medicationOrigin.CLINICIAN": {
            "nb": "Registrert av behandler",
            "nn": "Registrert av behandlar",
            "en": "Recorded by a clinician",
        },
        "medicationOrigin.REPORTED_BY_PATIENT": {
            "nb": "Lagt til av deg",
            "nn": "Lagt til av deg",
            "en": "Added by the patient",
        },
        "medicationOrigin.PRESCRIPTION": {
            "nb": "E-resept",
            "nn": "E-resept",
            "en": "E-prescription",
        },
        "medicationConfirmation.CONFIRMED": {
            "nb": "Bekreftet",
            "nn": "Stadfesta",
            "en": "Confirmed",
        },
        "medicationConfirmation.UNCONFIRMED": {
            "nb": "Ikke bekreftet av behandler",
            "nn": "Ikkje stadfesta av behandlar",
            "en": "Not yet confirmed by a clinician",
        },
    }
)


@strawberry.enum(description="Who put a medicine on the list.")
class MedicationOrigin(Enum):
    CLINICIAN = strawberry.enum_value("CLINICIAN", description="A clinician, in the health record.")
    REPORTED_BY_PATIENT = strawberry.enum_value(
        "REPORTED_BY_PATIENT", description="The person (or someone acting for them) added it."
    )
    PRESCRIPTION = strawberry.enum_value("PRESCRIPTION", description="An e-prescription.")


@strawberry.enum(description="Whether a clinician has confirmed a medicine on the list.")
class MedicationConfirmation(Enum):
    CONFIRMED = strawberry.enum_value(
        "CONFIRMED", description="Recorded or confirmed by a clinician."
    )
    UNCONFIRMED = strawberry.enum_value(
        "UNCONFIRMED", description="Reported by the patient, not yet confirmed by a clinician."
    )


@strawberry.enum(description="Who wrote a comment on a medicine.")
class CommentOrigin(Enum):
    PATIENT = strawberry.enum_value(
        "PATIENT", description="The person, or someone acting for them in the portal."
    )
    CLINICIAN = strawberry.enum_value("CLINICIAN", description="A clinician.")


@strawberry.type(description="A comment on a medicine.")
class MedicationComment:
    text: str = strawberry.field(description="The comment.")
    at: dt.datetime | None = strawberry.field(description="When it was written.")
    origin: CommentOrigin = strawberry.field(description="Who wrote it.")


def origin_of(entry: models.MedicationEntry) -> MedicationOrigin:
    """Who put this entry on the list."""
    if entry.source.kind is not models.SourceKind.EHR:
        return MedicationOrigin.PRESCRIPTION
    if isinstance(entry, EhrMedicationEntry) and entry.reported_by_patient:
        return MedicationOrigin.REPORTED_BY_PATIENT
    return MedicationOrigin.CLINICIAN


def is_confirmed(entry: models.MedicationEntry) -> bool:
    """True unless the entry is the patient's own report, not yet confirmed."""
    return not isinstance(entry, EhrMedicationEntry) or entry.confirmed


@strawberry.type(description="One system's entry for a medicine in the merged list.")
class MedicationSourceEntry:
    entry: strawberry.Private[models.MedicationEntry]

    @strawberry.field(description="The system the entry is in.")
    def source(self, info: Info[Context, None]) -> Source:
        return source(self.entry.source, info)

    @strawberry.field(description="Who put this entry on the list.")
    def origin(self) -> MedicationOrigin:
        return origin_of(self.entry)

    @strawberry.field(description="Whether a clinician has confirmed this entry.")
    def confirmation(self) -> MedicationConfirmation:
        confirmed = is_confirmed(self.entry)
        return MedicationConfirmation.CONFIRMED if confirmed else MedicationConfirmation.UNCONFIRMED

    @strawberry.field(description="The name as this system lists it.")
    def name(self) -> str:
        return self.entry.name

    @strawberry.field(description="How to take it, as this system lists it.")
    def dosage(self) -> str | None:
        return self.entry.dosage

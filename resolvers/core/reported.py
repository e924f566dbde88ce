"""Who reported a piece of health data, and whether a clinician has confirmed it (shared by
questionnaires, measurements and the pregnancy health card)."""

from __future__ import annotations

from enum import Enum

import strawberry

from resolvers.core import i18n

i18n.add_texts(
    {
        "confirmation.UNCONFIRMED": {
            "nb": "Ikke bekreftet av behandler",
            "nn": "Ikkje stadfesta av behandlar",
            "en": "Not yet confirmed by a clinician",
        },
        "confirmation.CONFIRMED": {
            "nb": "Bekreftet av behandler",
            "nn": "Stadfesta av behandlar",
            "en": "Confirmed by a clinician",
        },
    }
)


@strawberry.enum(description="Who reported a piece of health data.")
class Origin(Enum):
    REPORTED_BY_PATIENT = strawberry.enum_value(
        "REPORTED_BY_PATIENT", description="The person (or someone acting for them)."
    )
    CLINICIAN = strawberry.enum_value("CLINICIAN", description="A health professional.")


@strawberry.enum(description="Whether a clinician has confirmed data the patient reported.")
class Confirmation(Enum):
    UNCONFIRMED = strawberry.enum_value("UNCONFIRMED", description="Not confirmed yet.")
    CONFIRMED = strawberry.enum_value("CONFIRMED", description="Confirmed by a clinician.")

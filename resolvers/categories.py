"""Data categories and the restrictions a basis has, as the graph shows them."""

from __future__ import annotations

from enum import Enum

import strawberry
from strawberry.types import Info

from resolvers.access import Subject
from resolvers.context import Context
from resolvers.i18n import text


@strawberry.enum(description="A kind of data about a person; access is decided per category.")
class DataCategory(Enum):
    IDENTITY = strawberry.enum_value("identity", description="Name and date of birth.")
    SETTINGS = strawberry.enum_value("settings", description="The person's own settings.")
    GP = strawberry.enum_value("gp", description="The regular GP (fastlege).")
    MUNICIPAL_APPOINTMENTS = strawberry.enum_value(
        "municipal_appointments", description="Health-station and municipal appointments."
    )
    MUNICIPAL_SERVICES = strawberry.enum_value(
        "municipal_services",
        description="Municipal care services: home-care decisions and their status.",
    )
    HOSPITAL_APPOINTMENTS = strawberry.enum_value(
        "hospital_appointments", description="Hospital and specialist appointments."
    )
    REFERRALS = strawberry.enum_value("referrals", description="Referrals and waiting lists.")
    RESULTS = strawberry.enum_value("results", description="Laboratory results.")
    DOCUMENTS = strawberry.enum_value(
        "documents", description="Journal documents, letters and visit summaries."
    )
    CRITICAL_INFO = strawberry.enum_value(
        "critical_info", description="Critical information: allergies, implants, conditions."
    )
    PRESCRIPTIONS = strawberry.enum_value(
        "prescriptions", description="Medicines and e-prescriptions."
    )
    VACCINATIONS = strawberry.enum_value("vaccinations", description="Vaccinations.")
    MESSAGES = strawberry.enum_value("messages", description="Messages with care providers.")
    QUESTIONNAIRES = strawberry.enum_value("questionnaires", description="Questionnaires.")
    CARE_TEAM = strawberry.enum_value("care_team", description="The care team.")
    MONITORING = strawberry.enum_value(
        "monitoring", description="Follow-up programmes and home measurements."
    )
    PREGNANCY = strawberry.enum_value("pregnancy", description="Digital pregnancy care.")
    JOURNAL_REQUESTS = strawberry.enum_value(
        "journal_requests", description="Requests for access to, or a copy of, the journal."
    )
    PRIVATE_NOTES = strawberry.enum_value("private_notes", description="Private notes.")
    ACCESS_LOG = strawberry.enum_value("access_log", description="Who has read the person's data.")


CATEGORY_NAMES: frozenset[str] = frozenset(str(c.value) for c in DataCategory)


@strawberry.type(
    description="A category of this person's data that the viewer's access "
    "basis does not include. Reported once per category; it says "
    "nothing about whether any such data exists."
)
class CategoryRestriction:
    category: DataCategory = strawberry.field(description="The category.")
    reason: str = strawberry.field(
        description="A stable reason code (e.g. CHILD_12_15, PROXY_COMMUNICATE_ONLY, "
        "LOGIN_LEVEL_TOO_LOW) for programs and translations."
    )
    reason_text: str = strawberry.field(description="The reason in the caller's language.")


def reason_text(reason: str, info: Info[Context, None]) -> str:
    """A reason code in the caller's language (a generic text for codes the catalogue
    lacks, so a policy can add codes before the catalogue does)."""
    found = text(f"reason.{reason}", info.context.language)
    return found if found != f"reason.{reason}" else text("reason.default", info.context.language)


def restrictions_of(info: Info[Context, None], subject: Subject) -> list[CategoryRestriction]:
    """Every category the viewer may not read for this subject."""
    policy = info.context.access.policy
    return [
        CategoryRestriction(
            category=DataCategory(category), reason=reason, reason_text=reason_text(reason, info)
        )
        for category, reason in policy.restrictions(subject.view)
    ]

"""Data categories and the restrictions a basis has, as the graph shows them.

`DataCategory` is `authz.categories.Category` as a GraphQL enum: the same members, in the
same order, each valued by its `Category` (tests/resolvers/core/test_categories.py checks it),
with the description the schema shows."""

from __future__ import annotations

from enum import Enum

import strawberry
from strawberry.types import Info

from authz.categories import Category
from resolvers.core.access import Subject
from resolvers.core.context import Context
from resolvers.core.i18n import text


@strawberry.enum(description="A kind of data about a person; access is decided per category.")
class DataCategory(Enum):
    """`Category` for the graph; a member's value is its `Category`."""

    IDENTITY = strawberry.enum_value(Category.IDENTITY, description="Name and date of birth.")
    SETTINGS = strawberry.enum_value(Category.SETTINGS, description="The person's own settings.")
    GP = strawberry.enum_value(Category.GP, description="The regular GP (fastlege).")
    MUNICIPAL_APPOINTMENTS = strawberry.enum_value(
        Category.MUNICIPAL_APPOINTMENTS, description="Health-station and municipal appointments."
    )
    MUNICIPAL_SERVICES = strawberry.enum_value(
        Category.MUNICIPAL_SERVICES,
        description="Municipal care services: home-care decisions and their status.",
    )
    HOSPITAL_APPOINTMENTS = strawberry.enum_value(
        Category.HOSPITAL_APPOINTMENTS, description="Hospital and specialist appointments."
    )
    REFERRALS = strawberry.enum_value(
        Category.REFERRALS, description="Referrals and waiting lists."
    )
    RESULTS = strawberry.enum_value(Category.RESULTS, description="Laboratory results.")
    DOCUMENTS = strawberry.enum_value(
        Category.DOCUMENTS, description="Journal documents, letters and visit summaries."
    )
    CRITICAL_INFO = strawberry.enum_value(
        Category.CRITICAL_INFO, description="Critical information: allergies, implants, conditions."
    )
    PRESCRIPTIONS = strawberry.enum_value(
        Category.PRESCRIPTIONS, description="Medicines and e-prescriptions."
    )
    VACCINATIONS = strawberry.enum_value(Category.VACCINATIONS, description="Vaccinations.")
    MESSAGES = strawberry.enum_value(Category.MESSAGES, description="Messages with care providers.")
    QUESTIONNAIRES = strawberry.enum_value(Category.QUESTIONNAIRES, description="Questionnaires.")
    CARE_TEAM = strawberry.enum_value(Category.CARE_TEAM, description="The care team.")
    MONITORING = strawberry.enum_value(
        Category.MONITORING, description="Follow-up programmes and home measurements."
    )
    PREGNANCY = strawberry.enum_value(Category.PREGNANCY, description="Digital pregnancy care.")
    JOURNAL_REQUESTS = strawberry.enum_value(
        Category.JOURNAL_REQUESTS, description="Requests for access to, or a copy of, the journal."
    )
    PRIVATE_NOTES = strawberry.enum_value(Category.PRIVATE_NOTES, description="Private notes.")
    ACCESS_LOG = strawberry.enum_value(
        Category.ACCESS_LOG, description="Who has read the person's data."
    )


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

"""The categories of data about a person: the one list the policy file, the graph's
`DataCategory` enum and the resolvers share.

Access is decided per category (`authz.policy`). A category is a `StrEnum`, so its value
is the name the policy file, partner registrations, scopes and audit records use.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Category"]


class Category(StrEnum):
    """A kind of data about a person; `policy.toml` lists each under `[categories]`."""

    IDENTITY = "identity"
    SETTINGS = "settings"
    GP = "gp"
    MUNICIPAL_APPOINTMENTS = "municipal_appointments"
    MUNICIPAL_SERVICES = "municipal_services"
    HOSPITAL_APPOINTMENTS = "hospital_appointments"
    REFERRALS = "referrals"
    RESULTS = "results"
    DOCUMENTS = "documents"
    CRITICAL_INFO = "critical_info"
    PRESCRIPTIONS = "prescriptions"
    VACCINATIONS = "vaccinations"
    MESSAGES = "messages"
    QUESTIONNAIRES = "questionnaires"
    CARE_TEAM = "care_team"
    MONITORING = "monitoring"
    PREGNANCY = "pregnancy"
    JOURNAL_REQUESTS = "journal_requests"
    PRIVATE_NOTES = "private_notes"
    ACCESS_LOG = "access_log"

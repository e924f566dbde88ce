"""What questionnaires, pregnancy care and follow-up programmes add to a compartment.

The repository projects each type with its own projector; `added` yields this feature's
resources of a type on top (Tasks beside journal requests, pregnancy EpisodeOfCare beside
referral episodes, measurements beside lab Observations, pregnancy checks beside other
Appointments, the health-card document beside invitations), so the feature's seed data
lives here and nowhere else.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from mocks.fhir import careplans, pregnancy, questionnaires
from mocks.fhir.model import Indexed
from mocks.population import Person
from mocks.records import Catalogue, HealthRecord

TYPES = frozenset(
    {
        "Task",
        "QuestionnaireResponse",
        "EpisodeOfCare",
        "Observation",
        "Appointment",
        "DocumentReference",
        "Binary",
        "CarePlan",
    }
)


def added(
    type_: str,
    person: Person,
    record: HealthRecord,
    catalogue: Catalogue,
    today: dt.date,
    seed: int,
) -> Iterator[Indexed]:
    """This feature's resources of `type_` in the person's compartment."""
    if type_ not in TYPES:
        return
    expecting = pregnancy.pregnancy(person, today, seed)
    episode = expecting.episode_id if expecting else None
    if type_ == "Task":
        yield from questionnaires.tasks(person, record, today, seed, episode)
    elif type_ == "QuestionnaireResponse":
        yield from questionnaires.responses(person, record, today, seed, episode)
    elif type_ == "CarePlan":
        yield from careplans.careplans(person, catalogue, today, seed)
    elif type_ == "Observation":
        yield from careplans.measurements(person, catalogue, today, seed)
        if expecting:
            yield from pregnancy.health_card(expecting, person, catalogue, today)
    elif expecting is None:
        return
    elif type_ == "EpisodeOfCare":
        yield pregnancy.episode(expecting, person)
    elif type_ == "Appointment":
        yield from pregnancy.checks(expecting, person, catalogue, today)
    elif type_ == "DocumentReference":
        yield pregnancy.document(expecting, person, today)[0]
    elif type_ == "Binary":
        yield pregnancy.document(expecting, person, today)[1]

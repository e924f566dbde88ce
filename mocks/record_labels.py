"""Security labels on generated people's records, at low rates, from their own stream."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import replace

from mocks.record_types import PLAIN, HealthRecord, Labels, oslo_at
from mocks.registry import Person


def generated_labels(
    record: HealthRecord, person: Person, today: dt.date, rng: random.Random
) -> HealthRecord:
    """A few security labels on a generated person's record, at low rates."""
    youth = 12 <= person.age_on(today) < 16

    def flags(rate_r: float, sensitive: tuple[str, ...]) -> Labels:
        roll = rng.random()
        if roll < rate_r:
            return Labels(confidentiality="R")
        if roll < rate_r + 0.02:
            return Labels(sensitivity=(rng.choice(sensitive),))
        if roll < rate_r + 0.03:
            return Labels(not_shown_electronically=True)
        if youth and roll < rate_r + 0.15:
            return Labels(kept_from_guardians=True)
        return PLAIN

    appointments = tuple(
        replace(a, security=flags(0.02, ("PSY", "SUD"))) for a in record.appointments
    )
    messages = tuple(replace(m, security=flags(0.01, ("PSY", "SEX"))) for m in record.messages)
    labs = []
    now = oslo_at(today, 7)
    for lab in record.labs:
        reviewed = None
        if lab.release_category == 2 and rng.random() < 0.5:
            reviewed = lab.taken_at + dt.timedelta(days=rng.randint(1, 5))
            reviewed = reviewed if reviewed < now else None
        labs.append(replace(lab, reviewed_at=reviewed, security=flags(0.01, ("HIV", "STD"))))
    medications = tuple(
        replace(m, reserved_from_guardians=youth and rng.random() < 0.1) for m in record.medications
    )
    return replace(
        record,
        appointments=appointments,
        messages=messages,
        labs=tuple(labs),
        medications=medications,
    )

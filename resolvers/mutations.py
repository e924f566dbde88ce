"""The Mutation root: every write, composed from one field group per feature.

Each feature module defines a `@strawberry.type class <Feature>Mutations` with its
mutation fields (see `resolvers/writes.py` for what each must do) and is added to the
bases below; the groups themselves never appear in the schema.
"""

from __future__ import annotations

import strawberry

from resolvers.appointment_writes import AppointmentMutations
from resolvers.journal_requests import JournalRequestMutations
from resolvers.medication_writes import MedicationMutations
from resolvers.message_writes import MessageMutations
from resolvers.monitoring_writes import MonitoringMutations
from resolvers.municipal_apply import MunicipalApplicationMutations
from resolvers.notification_settings import NotificationSettingMutations
from resolvers.private_note_writes import PrivateNoteMutations
from resolvers.questionnaire_writes import QuestionnaireMutations
from resolvers.slots import BookingMutations


@strawberry.type(description="Changes a citizen (or someone acting for them) can make.")
class Mutation(
    MessageMutations,
    AppointmentMutations,
    BookingMutations,
    MedicationMutations,
    JournalRequestMutations,
    PrivateNoteMutations,
    NotificationSettingMutations,
    QuestionnaireMutations,
    MonitoringMutations,
    MunicipalApplicationMutations,
):
    pass

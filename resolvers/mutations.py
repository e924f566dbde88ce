"""The Mutation root: every write, composed from one field group per feature.

Each feature module defines a `@strawberry.type class <Feature>Mutations` with its
mutation fields (see `resolvers/core/writes.py` for what each must do) and is added to the
bases below; the groups themselves never appear in the schema.
"""

from __future__ import annotations

import strawberry

from resolvers.appointments.appointment_writes import AppointmentMutations
from resolvers.appointments.slots import BookingMutations
from resolvers.medications.medication_writes import MedicationMutations
from resolvers.messages.message_writes import MessageMutations
from resolvers.monitoring.monitoring_writes import MonitoringMutations
from resolvers.municipal.municipal_apply import MunicipalApplicationMutations
from resolvers.notes.private_note_writes import PrivateNoteMutations
from resolvers.questionnaires.questionnaire_writes import QuestionnaireMutations
from resolvers.records.journal_requests import JournalRequestMutations
from resolvers.settings.notification_settings import NotificationSettingMutations


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

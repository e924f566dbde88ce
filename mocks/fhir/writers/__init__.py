"""The per-type write checkers; importing this package registers every one of them."""

from mocks.fhir.writers import (
    appointment,
    communication,
    medication_statement,
    observation,
    questionnaire_response,
    task,
)

__all__ = [
    "appointment",
    "communication",
    "medication_statement",
    "observation",
    "questionnaire_response",
    "task",
]

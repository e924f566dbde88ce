"""Questionnaires from the EHR as typed records: forms (`Form`, `Question`, `Option`),
answers (`Response`, `Answer`), a form assigned to the patient (`Assigned`) and the answers
to store (`NewAnswer`).

Read from FHIR in `sources.fhir_questionnaires`, asked of and answered in the EHR by
`sources.ehr_questionnaire_tasks`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from authz.facts import Security

ANSWERABLE = frozenset({"boolean", "integer", "decimal", "string", "date", "choice"})


@dataclass(frozen=True, slots=True)
class Option:
    """One allowed answer of a choice question."""

    system: str
    code: str
    display: str


@dataclass(frozen=True, slots=True)
class Question:
    """One item of a form."""

    link_id: str
    text: str
    type: str  # boolean | choice | integer | decimal | string | date (others: display)
    required: bool
    options: tuple[Option, ...]
    max_length: int | None


@dataclass(frozen=True, slots=True)
class Form:
    """A questionnaire definition."""

    id: str
    url: str
    title: str
    kind: str  # pre-visit | pregnancy | follow-up | general
    questions: tuple[Question, ...]


@dataclass(frozen=True, slots=True)
class Answer:
    """One answer, as text (true/false, a number, YYYY-MM-DD, a choice code, free text)."""

    link_id: str
    value: str
    display: str | None  # the option's text of a choice answer


@dataclass(frozen=True, slots=True)
class NewAnswer:
    """One answer to store, typed by its question's type: bool (boolean), int (integer),
    float (decimal), str (string), date (date) or the chosen Option (choice)."""

    link_id: str
    value: bool | int | float | str | dt.date | Option = field(repr=False)


@dataclass(frozen=True, slots=True)
class Response:
    """A set of answers."""

    id: str
    authored: dt.datetime | None
    reported_by_patient: bool
    confirmed: bool
    answers: tuple[Answer, ...]


@dataclass(frozen=True, slots=True)
class Assigned:
    """A form assigned to the patient, with its answers once given."""

    id: str  # the Task id
    form: Form
    status: str  # requested | completed | ...
    assigned: dt.datetime | None
    due: dt.date | None
    appointment_id: str | None
    episode_id: str | None
    response: Response | None
    security: Security

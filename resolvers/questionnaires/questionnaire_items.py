"""The parts of a questionnaire: its questions, their answer options, and given answers."""

from __future__ import annotations

import datetime as dt
from enum import Enum

import strawberry
from strawberry.types import Info

from resolvers.core.context import Context
from resolvers.core.i18n import text
from resolvers.core.reported import Confirmation, Origin
from sources import ehr_questionnaires as source


@strawberry.enum(description="The kind of answer a question takes.")
class QuestionType(Enum):
    BOOLEAN = strawberry.enum_value("BOOLEAN", description='Yes or no: "true" or "false".')
    CHOICE = strawberry.enum_value("CHOICE", description="One of `options` (give its `code`).")
    INTEGER = strawberry.enum_value("INTEGER", description="A whole number.")
    DECIMAL = strawberry.enum_value("DECIMAL", description='A number, e.g. "72.5".')
    STRING = strawberry.enum_value("STRING", description="Free text, up to `maxLength`.")
    DATE = strawberry.enum_value("DATE", description="A date, YYYY-MM-DD.")


@strawberry.type(description="One allowed answer of a choice question.")
class AnswerOption:
    code: str = strawberry.field(description="What to send as the answer's `value`.")
    text: str = strawberry.field(description="What to show.")


@strawberry.type(description="One question of a questionnaire.")
class Question:
    link_id: str = strawberry.field(description="The question's key; send it with the answer.")
    text: str = strawberry.field(description="The question, as the care provider wrote it.")
    type: QuestionType = strawberry.field(description="The kind of answer it takes.")
    required: bool = strawberry.field(description="True when it must be answered.")
    options: list[AnswerOption] = strawberry.field(description="Allowed answers (CHOICE only).")
    max_length: int | None = strawberry.field(description="Longest allowed text (STRING only).")


@strawberry.type(description="One given answer.")
class GivenAnswer:
    link_id: str = strawberry.field(description="The question answered.")
    value: str = strawberry.field(
        description='The answer as text: "true"/"false", a number, a date or an option code.'
    )
    text: str | None = strawberry.field(description="The chosen option's text (CHOICE only).")


@strawberry.type(description="The answers given to a questionnaire.")
class QuestionnaireAnswers:
    answered_at: dt.datetime | None = strawberry.field(description="When it was answered.")
    origin: Origin = strawberry.field(description="Who gave the answers.")
    confirmation: Confirmation = strawberry.field(
        description="Whether a clinician has confirmed them."
    )
    confirmation_text: str = strawberry.field(
        description="`confirmation` in the caller's language."
    )
    answers: list[GivenAnswer] = strawberry.field(description="The answers, in question order.")


def answers_of(info: Info[Context, None], found: source.Response) -> QuestionnaireAnswers:
    """The GraphQL view of a set of answers."""
    confirmation = Confirmation.CONFIRMED if found.confirmed else Confirmation.UNCONFIRMED
    return QuestionnaireAnswers(
        answered_at=found.authored,
        origin=Origin.REPORTED_BY_PATIENT if found.reported_by_patient else Origin.CLINICIAN,
        confirmation=confirmation,
        confirmation_text=text(f"confirmation.{confirmation.value}", info.context.language),
        answers=[
            GivenAnswer(link_id=a.link_id, value=a.value, text=a.display) for a in found.answers
        ],
    )


def question_type(question: source.Question) -> QuestionType | None:
    """The graph's type of a question; None for items that take no answer."""
    try:
        return QuestionType(question.type.upper())
    except ValueError:
        return None


def questions_of(form: source.Form) -> list[Question]:
    """The questions of a form that take an answer, in order."""
    out = []
    for q in form.questions:
        kind = question_type(q)
        if kind is not None:
            options = [AnswerOption(code=o.code, text=o.display or o.code) for o in q.options]
            out.append(
                Question(
                    link_id=q.link_id,
                    text=q.text,
                    type=kind,
                    required=q.required,
                    options=options,
                    max_length=q.max_length,
                )
            )
    return out

"""Answering a questionnaire (validated against the form, idempotent, audited)."""

from __future__ import annotations

import datetime as dt

import strawberry
from strawberry.types import Info

from authz.categories import Category
from authz.policy import Action
from resolvers.core import i18n
from resolvers.core.context import Context
from resolvers.core.errors import BadUserInput, Forbidden
from resolvers.core.guard import served
from resolvers.core.node import entity_of, own_entity, refused_item
from resolvers.core.writes import UserError, acting, check_key, once, user_error
from resolvers.questionnaires.questionnaires import (
    Questionnaire,
    QuestionnaireState,
    references,
    state_of,
    visible_questionnaires,
)
from sources import ehr_questionnaires as source
from sources.errors import UpstreamConflict, UpstreamRejected

CATEGORY = Category.QUESTIONNAIRES
MAX_TEXT = 2000
MAX_ANSWERS = 200

i18n.add_texts(
    {
        "error.ALREADY_ANSWERED": {
            "nb": "Spørreskjemaet er allerede besvart.",
            "nn": "Spørjeskjemaet er alt svara på.",
            "en": "The questionnaire has already been answered.",
        },
        "error.NOT_AN_OPTION": {
            "nb": "Svaret er ikke et av alternativene.",
            "nn": "Svaret er ikkje eitt av alternativa.",
            "en": "The answer is not one of the options.",
        },
        "error.UNKNOWN_QUESTION": {
            "nb": "Spørsmålet finnes ikke i skjemaet, eller er besvart to ganger.",
            "nn": "Spørsmålet finst ikkje i skjemaet, eller er svara på to gonger.",
            "en": "The question is not in the questionnaire, or is answered twice.",
        },
    }
)


@strawberry.input(description="One answer: the question's `linkId` and the answer as text.")
class AnswerInput:
    link_id: str = strawberry.field(description="The question (`Question.linkId`).")
    value: str = strawberry.field(
        description='The answer: "true"/"false" (BOOLEAN), a whole number (INTEGER), a '
        'number such as "72.5" (DECIMAL), YYYY-MM-DD (DATE), an option `code` (CHOICE) '
        "or text (STRING)."
    )


@strawberry.input(description="Answers to a questionnaire.")
class AnswerQuestionnaireInput:
    person_id: strawberry.ID = strawberry.field(
        description="Whose questionnaire: the viewer, or someone they act for."
    )
    questionnaire_id: strawberry.ID = strawberry.field(description="`Questionnaire.id`.")
    answers: list[AnswerInput] = strawberry.field(description="The answers, one per question.")
    idempotency_key: str = strawberry.field(
        description="A client-chosen key (8-128 characters); a retry with the same key and "
        "input returns the first result and stores nothing twice."
    )


@strawberry.type(description="The outcome of answering a questionnaire.")
class AnswerQuestionnairePayload:
    questionnaire: Questionnaire | None = strawberry.field(
        description="The questionnaire, now answered."
    )
    user_errors: list[UserError] = strawberry.field(description="Why it was not answered.")


def _value(question: source.Question, raw: str) -> tuple[source.NewAnswer | None, str]:
    """The typed answer of `raw` to `question`, or None and the error code."""
    link_id = question.link_id
    kind = question.type
    text = raw.strip()
    if kind == "string":
        if not text:
            return None, "REQUIRED"
        limit = question.max_length or MAX_TEXT
        return (source.NewAnswer(link_id, raw), "") if len(raw) <= limit else (None, "TOO_LONG")
    if kind == "boolean" and text in ("true", "false"):
        return source.NewAnswer(link_id, text == "true"), ""
    if kind == "integer" and text.lstrip("-").isdigit() and len(text) <= 9:
        return source.NewAnswer(link_id, int(text)), ""
    if kind == "decimal":
        try:
            number = float(text)
        except ValueError:
            return None, "INVALID"
        if abs(number) < 1e9 and text.lower() not in ("nan", "inf", "-inf", "infinity"):
            return source.NewAnswer(link_id, number), ""
        return None, "INVALID"
    if kind == "date":
        try:
            return source.NewAnswer(link_id, dt.date.fromisoformat(text)), ""
        except ValueError:
            return None, "INVALID"
    if kind == "choice":
        for option in question.options:
            if option.code == text:
                return source.NewAnswer(link_id, option), ""
        return None, "NOT_AN_OPTION"
    return None, "INVALID"


def check_answers(
    info: Info[Context, None], form: source.Form, answers: list[AnswerInput]
) -> tuple[list[source.NewAnswer], list[UserError]]:
    """The typed answers of `answers`, in form order, and the user errors."""
    questions = {q.link_id: q for q in form.questions if q.type in source.ANSWERABLE}
    errors: list[UserError] = []
    given: dict[str, source.NewAnswer] = {}
    if len(answers) > MAX_ANSWERS:
        return [], [user_error(info, "answers", "TOO_LONG")]
    for n, answer in enumerate(answers):
        question = questions.get(answer.link_id)
        if question is None or answer.link_id in given:
            errors.append(user_error(info, ["answers", str(n), "linkId"], "UNKNOWN_QUESTION"))
            continue
        value, code = _value(question, answer.value)
        if value is None:
            errors.append(user_error(info, ["answers", str(n), "value"], code))
            continue
        given[answer.link_id] = value
    for question in questions.values():
        if question.required and question.link_id not in given and not errors:
            errors.append(user_error(info, ["answers"], "REQUIRED"))
            break
    return [given[q.link_id] for q in form.questions if q.link_id in given], errors


TYPE = ("Questionnaire", "ehr")


def _task(questionnaire_id: str) -> str:
    upstream = entity_of(questionnaire_id, *TYPE)
    if upstream is None:
        raise BadUserInput("not a questionnaire id", argument="questionnaireId")
    return upstream


def _reply(errors: list[UserError]) -> AnswerQuestionnairePayload:
    return AnswerQuestionnairePayload(questionnaire=None, user_errors=errors)


async def answer_questionnaire(
    info: Info[Context, None], data: AnswerQuestionnaireInput
) -> AnswerQuestionnairePayload:
    """Answer a questionnaire as, or on behalf of, the person."""
    errors = check_key(info, data.idempotency_key)
    try:
        task_id: str | None = _task(data.questionnaire_id)
    except BadUserInput:
        errors.append(user_error(info, "questionnaireId", "INVALID"))
        task_id = None
    subject, denied = await acting(info, data.person_id, CATEGORY)
    owned = None if subject is None else own_entity(info, subject, data.questionnaire_id, *TYPE)
    if subject is None or denied or task_id is None:
        return _reply([*errors, *denied])
    found = (
        None
        if owned is None
        else next((r for r in await visible_questionnaires(info, subject) if r.id == task_id), None)
    )
    if found is None:
        if owned is not None:
            refused_item(info, subject, data.questionnaire_id)
        return _reply([*errors, user_error(info, "questionnaireId", "INVALID")])
    items, invalid = check_answers(info, found.form, data.answers)
    if errors or invalid:
        return _reply([*errors, *invalid])
    parts = (task_id, tuple((a.link_id, a.value) for a in data.answers))
    result = await once(
        info,
        subject,
        data.idempotency_key,
        parts,
        lambda scoped: _answer(info, subject.nin, found, items, scoped),
        category=CATEGORY,
    )
    if isinstance(result, UserError):
        return _reply([result])
    served(info.context, subject, CATEGORY, references(result), Action.WRITE)
    return AnswerQuestionnairePayload(
        questionnaire=Questionnaire(record=result, subject=subject), user_errors=[]
    )


async def _answer(
    info: Info[Context, None],
    nin: str,
    found: source.Assigned,
    items: list[source.NewAnswer],
    scoped: str,
) -> source.Assigned | UserError:
    """Store the answers in the EHR once per `scoped` key and complete the task; a user
    error when it was answered already (here or elsewhere) or the EHR refused them."""
    ctx = info.context
    if state_of(found) is QuestionnaireState.ANSWERED:
        return user_error(info, "questionnaireId", "ALREADY_ANSWERED")
    patient = await ctx.ehr.patient_id(nin)
    if patient is None:
        raise Forbidden()
    try:
        return await ctx.ehr.questionnaires.answer(
            patient, found, items, idempotency=scoped, now=ctx.now
        )
    except UpstreamConflict:  # the task changed meanwhile: answered elsewhere
        return user_error(info, "questionnaireId", "ALREADY_ANSWERED")
    except UpstreamRejected:  # the EHR refused the answers as they stand
        return user_error(info, "answers", "INVALID")


@strawberry.type(description="Answering questionnaires.")
class QuestionnaireMutations:
    @strawberry.mutation(
        description="Answer a questionnaire. Every answer is checked against its question "
        "(required, type, options, length); errors name the answer, e.g. "
        '["answers", "2", "value"]. Needs the `questionnaires` write permission.'
    )
    async def answer_questionnaire(
        self, info: Info[Context, None], input: AnswerQuestionnaireInput
    ) -> AnswerQuestionnairePayload:
        return await answer_questionnaire(info, input)

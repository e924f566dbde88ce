"""Questionnaires the care provider asks the person to fill in (pre-visit, pregnancy,
follow-up and general forms), with their answers once given."""

from __future__ import annotations

import datetime as dt
from enum import Enum

import strawberry
from strawberry.types import Info

from authz.categories import Category
from resolvers.core import i18n
from resolvers.core.access import Subject
from resolvers.core.common import PageInfo, page
from resolvers.core.context import Context
from resolvers.core.errors import BadUserInput
from resolvers.core.guard import require, served, visible, watch
from resolvers.core.i18n import text
from resolvers.core.node import Node, entity_of, fetches, node_id
from resolvers.questionnaires.questionnaire_items import (
    Question,
    QuestionnaireAnswers,
    answers_of,
    questions_of,
)
from sources import ehr_questionnaires as source

CATEGORY = Category.QUESTIONNAIRES

i18n.add_texts(
    {
        "questionnaire.PRE_VISIT": {"nb": "Før timen", "nn": "Før timen", "en": "Before the visit"},
        "questionnaire.PREGNANCY": {
            "nb": "Svangerskap",
            "nn": "Svangerskap",
            "en": "Pregnancy",
        },
        "questionnaire.FOLLOW_UP": {"nb": "Oppfølging", "nn": "Oppfølging", "en": "Follow-up"},
        "questionnaire.GENERAL": {
            "nb": "Spørreskjema",
            "nn": "Spørjeskjema",
            "en": "Questionnaire",
        },
    }
)


@strawberry.enum(description="What a questionnaire is for.")
class QuestionnaireKind(Enum):
    PRE_VISIT = strawberry.enum_value("PRE_VISIT", description="To fill in before a visit.")
    PREGNANCY = strawberry.enum_value("PREGNANCY", description="Part of pregnancy care.")
    FOLLOW_UP = strawberry.enum_value("FOLLOW_UP", description="Follow-up after treatment.")
    GENERAL = strawberry.enum_value("GENERAL", description="Any other questionnaire.")


_KINDS = {
    "pre-visit": QuestionnaireKind.PRE_VISIT,
    "pregnancy": QuestionnaireKind.PREGNANCY,
    "follow-up": QuestionnaireKind.FOLLOW_UP,
}


@strawberry.enum(description="Whether the questionnaire still waits for answers.")
class QuestionnaireState(Enum):
    TO_ANSWER = strawberry.enum_value("TO_ANSWER", description="Not answered yet.")
    ANSWERED = strawberry.enum_value("ANSWERED", description="Answered.")


@strawberry.type(description="A questionnaire the person is asked to fill in, or has answered.")
class Questionnaire(Node):
    record: strawberry.Private[source.Assigned]
    subject: strawberry.Private[Subject]

    @strawberry.field(description="Opaque id; pass it to `answerQuestionnaire`.")
    def id(self, info: Info[Context, None]) -> strawberry.ID:
        return node_id(info, self.subject, "Questionnaire", "ehr", self.record.id)

    @strawberry.field(description="The questionnaire's title.")
    def title(self) -> str:
        return self.record.form.title

    @strawberry.field(description="What it is for.")
    def kind(self) -> QuestionnaireKind:
        return kind_of(self.record)

    @strawberry.field(description="`kind` in the caller's language.")
    def kind_text(self, info: Info[Context, None]) -> str:
        return text(f"questionnaire.{self.kind().value}", info.context.language)

    @strawberry.field(description="Whether it still waits for answers.")
    def state(self) -> QuestionnaireState:
        return state_of(self.record)

    @strawberry.field(description="When it was sent to the person.")
    def assigned_at(self) -> dt.datetime | None:
        return self.record.assigned

    @strawberry.field(description="The last day to answer, when there is one.")
    def due_date(self) -> dt.date | None:
        return self.record.due

    @strawberry.field(
        description="The appointment a pre-visit questionnaire belongs to (an `Appointment` id)."
    )
    def appointment_id(self, info: Info[Context, None]) -> strawberry.ID | None:
        found = self.record.appointment_id
        return node_id(info, self.subject, "Appointment", "ehr", found) if found else None

    @strawberry.field(description="The questions, in order.")
    def questions(self) -> list[Question]:
        return questions_of(self.record.form)

    @strawberry.field(description="The answers; null until answered.")
    def answers(self, info: Info[Context, None]) -> QuestionnaireAnswers | None:
        found = self.record.response
        return answers_of(info, found) if found else None


def kind_of(record: source.Assigned) -> QuestionnaireKind:
    """The graph's kind of an assigned form."""
    return _KINDS.get(record.form.kind, QuestionnaireKind.GENERAL)


def state_of(record: source.Assigned) -> QuestionnaireState:
    """Answered once the task is done or answers are linked."""
    done = record.status == "completed" or record.response is not None
    return QuestionnaireState.ANSWERED if done else QuestionnaireState.TO_ANSWER


@strawberry.type(description="One questionnaire in a list, with its cursor.")
class QuestionnaireEdge:
    cursor: str = strawberry.field(description="Opaque position of this item.")
    node: Questionnaire = strawberry.field(description="The questionnaire.")


@strawberry.type(
    description="A page of questionnaires: those to answer first (soonest due first), "
    "then answered ones (newest first)."
)
class QuestionnaireConnection:
    edges: list[QuestionnaireEdge] = strawberry.field(
        description="The questionnaires on this page."
    )
    page_info: PageInfo = strawberry.field(description="Paging state.")
    total_count: int = strawberry.field(description="How many questionnaires the list holds.")


@strawberry.input(description="Which questionnaires to list.")
class QuestionnaireFilter:
    state: QuestionnaireState | None = strawberry.field(
        default=None, description="Only those to answer, or only answered ones."
    )
    appointment_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only the pre-visit questionnaires of this appointment."
    )
    kind: QuestionnaireKind | None = strawberry.field(default=None, description="Only this kind.")


def _order(record: source.Assigned) -> tuple[int, float]:
    if state_of(record) is QuestionnaireState.TO_ANSWER:
        due = record.due or dt.date.max
        return 0, float(due.toordinal())
    at = record.response.authored if record.response else None
    return 1, -(at.timestamp() if at else 0.0)


async def visible_questionnaires(
    info: Info[Context, None], subject: Subject
) -> list[source.Assigned]:
    """Every questionnaire of the person this view may see, in list order."""
    require(info.context, subject, CATEGORY)
    ctx = info.context
    async with watch(info.context, subject, CATEGORY):
        patient = await ctx.ehr.patient_id(subject.nin)
        records = [] if patient is None else await ctx.ehr.questionnaires.of(patient)
    shown = visible(info.context, subject, records, lambda r: r.security)
    shown.sort(key=lambda r: (*_order(r), r.id))
    return shown


def _appointment(subject_filter: strawberry.ID | None) -> str | None:
    if subject_filter is None:
        return None
    upstream = entity_of(subject_filter, "Appointment", "ehr")
    if upstream is None:
        raise BadUserInput("appointmentId is not an appointment id.", argument="appointmentId")
    return upstream


def references(record: source.Assigned) -> list[str]:
    """The EHR resources a questionnaire shows, for the audit record."""
    out = [f"EHR/Task/{record.id}"]
    if record.response is not None:
        out.append(f"EHR/QuestionnaireResponse/{record.response.id}")
    return out


async def questionnaires_of(
    info: Info[Context, None],
    subject: Subject,
    first: int,
    after: str | None,
    filter: QuestionnaireFilter | None,
) -> QuestionnaireConnection:
    """The person's questionnaires this view may see, filtered and paged."""
    chosen = filter or QuestionnaireFilter()
    appointment = _appointment(chosen.appointment_id)
    shown = await visible_questionnaires(info, subject)
    if chosen.state is not None:
        shown = [r for r in shown if state_of(r) is chosen.state]
    if chosen.kind is not None:
        shown = [r for r in shown if kind_of(r) is chosen.kind]
    if appointment is not None:
        shown = [r for r in shown if r.appointment_id == appointment]
    picked, page_info = page(shown, first, after)
    served(info.context, subject, CATEGORY, [ref for _, r in picked for ref in references(r)])
    return QuestionnaireConnection(
        edges=[
            QuestionnaireEdge(cursor=c, node=Questionnaire(record=r, subject=subject))
            for c, r in picked
        ],
        page_info=page_info,
        total_count=len(shown),
    )


@fetches("Questionnaire")
async def fetch_questionnaire(
    info: Info[Context, None], subject: Subject, source_name: str, upstream_id: str
) -> Questionnaire | None:
    """One questionnaire by id, through the same checks as the list."""
    if source_name != "ehr":
        return None
    for record in await visible_questionnaires(info, subject):
        if record.id == upstream_id:
            served(info.context, subject, CATEGORY, references(record))
            return Questionnaire(record=record, subject=subject)
    return None


@strawberry.type
class QuestionnaireFields:
    subject: strawberry.Private[Subject]

    @strawberry.field(
        description="Questionnaires the care provider asks the person to fill in (pre-visit, "
        "pregnancy, follow-up, general), to answer first, then answered ones."
    )
    async def questionnaires(
        self,
        info: Info[Context, None],
        first: int = 20,
        after: str | None = None,
        filter: QuestionnaireFilter | None = None,
    ) -> QuestionnaireConnection | None:
        return await questionnaires_of(info, self.subject, first, after, filter)

"""Requests for a copy of, access to, or a correction of the journal: the list and the
request itself (a Task in the EHR)."""

from __future__ import annotations

import datetime as dt
from enum import Enum

import strawberry
from strawberry.types import Info

from authz.categories import Category
from authz.policy import Action
from resolvers.core.access import Subject
from resolvers.core.common import PageInfo, page
from resolvers.core.context import Context
from resolvers.core.errors import Forbidden
from resolvers.core.guard import require, served, visible, watch
from resolvers.core.i18n import add_texts, text
from resolvers.core.node import Node, fetches, node_id
from resolvers.core.ranges import DateRange
from resolvers.core.writes import UserError, acting, check_key, check_text, once, user_error
from sources.ehr_journal_requests import JournalRequest as RequestRecord

CATEGORY = Category.JOURNAL_REQUESTS
MAX_MESSAGE = 2000

add_texts(
    {
        "journalRequest.COPY": {
            "nb": "Kopi av journal",
            "nn": "Kopi av journal",
            "en": "Copy of the journal",
        },
        "journalRequest.ACCESS": {
            "nb": "Innsyn i journal",
            "nn": "Innsyn i journal",
            "en": "Access to the journal",
        },
        "journalRequest.CORRECTION": {
            "nb": "Retting av journal",
            "nn": "Retting av journal",
            "en": "Correction of the journal",
        },
        "journalStatus.REQUESTED": {"nb": "Sendt", "nn": "Sendt", "en": "Requested"},
        "journalStatus.IN_PROGRESS": {
            "nb": "Under behandling",
            "nn": "Under behandling",
            "en": "In progress",
        },
        "journalStatus.COMPLETED": {
            "nb": "Ferdig behandlet",
            "nn": "Ferdig handsama",
            "en": "Completed",
        },
        "journalStatus.REJECTED": {"nb": "Avslått", "nn": "Avslått", "en": "Rejected"},
        "journalStatus.OTHER": {
            "nb": "Ukjent status",
            "nn": "Ukjend status",
            "en": "Unknown status",
        },
    }
)


@strawberry.enum(description="What the person asks for.")
class JournalRequestKind(Enum):
    COPY = strawberry.enum_value("COPY", description="A copy of the journal.")
    ACCESS = strawberry.enum_value("ACCESS", description="Access to read the journal (innsyn).")
    CORRECTION = strawberry.enum_value(
        "CORRECTION", description="A correction of something in the journal."
    )


@strawberry.enum(description="Where a journal request stands.")
class JournalRequestStatus(Enum):
    REQUESTED = strawberry.enum_value("REQUESTED", description="Sent, not yet handled.")
    IN_PROGRESS = strawberry.enum_value("IN_PROGRESS", description="Being handled.")
    COMPLETED = strawberry.enum_value("COMPLETED", description="Handled and answered.")
    REJECTED = strawberry.enum_value("REJECTED", description="Refused.")
    OTHER = strawberry.enum_value("OTHER", description="Another state; see `statusText`.")


@strawberry.type(description="A request for a copy of, access to, or a correction of the journal.")
class JournalRequest(Node):
    record: strawberry.Private[RequestRecord]
    subject: strawberry.Private[Subject]

    @strawberry.field(description="Opaque id.")
    def id(self, info: Info[Context, None]) -> strawberry.ID:
        return node_id(info, self.subject, "JournalRequest", "ehr", self.record.id)

    @strawberry.field(description="What was asked for.")
    def kind(self) -> JournalRequestKind:
        return JournalRequestKind(self.record.kind.upper())

    @strawberry.field(description="What was asked for, in the caller's language.")
    def kind_text(self, info: Info[Context, None]) -> str:
        return text(f"journalRequest.{self.kind().value}", info.context.language)

    @strawberry.field(description="Where the request stands, for programs.")
    def status(self) -> JournalRequestStatus:
        return JournalRequestStatus(self.record.status.upper().replace("-", "_"))

    @strawberry.field(description="Where the request stands, in the caller's language.")
    def status_text(self, info: Info[Context, None]) -> str:
        return text(f"journalStatus.{self.status().value}", info.context.language)

    @strawberry.field(description="When the request was sent.")
    def requested_at(self) -> dt.datetime | None:
        return self.record.requested_at

    @strawberry.field(description="When the request last changed.")
    def updated_at(self) -> dt.datetime | None:
        return self.record.updated_at

    @strawberry.field(description="The first day of the journal period asked about, if any.")
    def period_from(self) -> dt.date | None:
        return self.record.period_start

    @strawberry.field(description="The last day of the journal period asked about, if any.")
    def period_to(self) -> dt.date | None:
        return self.record.period_end

    @strawberry.field(description="The person's message with the request.")
    def message(self) -> str | None:
        return self.record.message


@strawberry.type(description="One journal request in a list, with its cursor.")
class JournalRequestEdge:
    cursor: str = strawberry.field(description="Opaque position of this item.")
    node: JournalRequest = strawberry.field(description="The request.")


@strawberry.type(description="A page of journal requests, newest first.")
class JournalRequestConnection:
    edges: list[JournalRequestEdge] = strawberry.field(description="The requests on this page.")
    page_info: PageInfo = strawberry.field(description="Paging state.")
    total_count: int = strawberry.field(description="How many requests the list holds.")


async def visible_requests(info: Info[Context, None], subject: Subject) -> list[RequestRecord]:
    """Every journal request of the person this view may see, newest first."""
    require(info.context, subject, CATEGORY)
    ctx = info.context
    async with watch(info.context, subject, CATEGORY):
        patient = await ctx.ehr.patient_id(subject.nin)
        found = [] if patient is None else await ctx.ehr.journal_requests.of(patient)
    shown = visible(info.context, subject, found, lambda r: r.security)
    oldest = dt.datetime.min.replace(tzinfo=dt.UTC)
    shown.sort(key=lambda r: (r.requested_at or oldest, r.id), reverse=True)
    return shown


async def journal_requests_of(
    info: Info[Context, None], subject: Subject, first: int, after: str | None
) -> JournalRequestConnection:
    """A page of the person's journal requests."""
    shown = await visible_requests(info, subject)
    chosen, page_info = page(shown, first, after)
    served(info.context, subject, CATEGORY, (f"EHR/Task/{r.id}" for _, r in chosen))
    return JournalRequestConnection(
        edges=[
            JournalRequestEdge(cursor=c, node=JournalRequest(record=r, subject=subject))
            for c, r in chosen
        ],
        page_info=page_info,
        total_count=len(shown),
    )


@fetches("JournalRequest")
async def fetch_request(
    info: Info[Context, None], subject: Subject, source: str, upstream_id: str
) -> JournalRequest | None:
    """One journal request by id, through the same checks as the list."""
    if source != "ehr":
        return None
    for record in await visible_requests(info, subject):
        if record.id == upstream_id:
            served(info.context, subject, CATEGORY, (f"EHR/Task/{record.id}",))
            return JournalRequest(record=record, subject=subject)
    return None


@strawberry.type
class JournalRequestFields:
    subject: strawberry.Private[Subject]

    @strawberry.field(
        description="The person's requests for a copy of, access to or a correction of "
        "their journal, newest first, with where each stands."
    )
    async def journal_requests(
        self, info: Info[Context, None], first: int = 20, after: str | None = None
    ) -> JournalRequestConnection | None:
        return await journal_requests_of(info, self.subject, first, after)


@strawberry.input(description="A request for a copy of, access to, or a correction of the journal.")
class RequestJournalAccessInput:
    person_id: strawberry.ID = strawberry.field(
        description="Whose journal: the viewer, or someone they act for."
    )
    kind: JournalRequestKind = strawberry.field(description="What is asked for.")
    period: DateRange | None = strawberry.field(
        default=None, description="Only this part of the journal (all of it when null)."
    )
    message: str | None = strawberry.field(
        default=None,
        description="A message to the record staff (up to 2000 characters); required for "
        "a correction: what should be corrected.",
    )
    idempotency_key: str = strawberry.field(
        description="A client-chosen key (8-128 characters); a retry with the same key and "
        "input returns the first result and files nothing twice."
    )


@strawberry.type(description="The outcome of requesting journal access.")
class RequestJournalAccessPayload:
    journal_request: JournalRequest | None = strawberry.field(description="The request as filed.")
    user_errors: list[UserError] = strawberry.field(description="Why it was not filed.")


def _validate(info: Info[Context, None], data: RequestJournalAccessInput) -> list[UserError]:
    errors = [
        *check_key(info, data.idempotency_key),
        *check_text(
            info,
            "message",
            data.message,
            limit=MAX_MESSAGE,
            required=data.kind is JournalRequestKind.CORRECTION,
        ),
    ]
    period = data.period
    if period is not None:
        today = info.context.now.date()
        backwards = period.from_ is not None and period.to is not None and period.to < period.from_
        future = any(d is not None and d > today for d in (period.from_, period.to))
        if backwards or future:
            errors.append(user_error(info, "period", "INVALID"))
    return errors


async def request_journal_access(
    info: Info[Context, None], data: RequestJournalAccessInput
) -> RequestJournalAccessPayload:
    """File the request in the EHR, once per idempotency key."""
    ctx = info.context
    errors = _validate(info, data)
    subject, denied = await acting(info, data.person_id, CATEGORY)
    if subject is None or denied or errors:
        return RequestJournalAccessPayload(journal_request=None, user_errors=[*errors, *denied])
    period = None if data.period is None else (data.period.from_, data.period.to)
    if period == (None, None):
        period = None
    message = data.message.strip() if data.message and data.message.strip() else None

    async def create(scoped: str) -> RequestRecord:
        patient = await ctx.ehr.patient_id(subject.nin)
        if patient is None:
            raise Forbidden()
        return await ctx.ehr.journal_requests.request(
            patient,
            kind=data.kind.name.lower(),
            period=period,
            message=message,
            idempotency=scoped,
        )

    record = await once(
        info,
        subject,
        data.idempotency_key,
        (data.kind.name, period, message),
        create,
        category=CATEGORY,
    )
    if isinstance(record, UserError):
        return RequestJournalAccessPayload(journal_request=None, user_errors=[record])
    served(info.context, subject, CATEGORY, (f"EHR/Task/{record.id}",), Action.WRITE)
    return RequestJournalAccessPayload(
        journal_request=JournalRequest(record=record, subject=subject), user_errors=[]
    )


@strawberry.type(description="Requests about the journal.")
class JournalRequestMutations:
    @strawberry.mutation(
        description="Ask for a copy of, access to, or a correction of the journal. Needs "
        "the `journal_requests` write permission (the person, a parent of a child "
        "under 12, a full power of attorney)."
    )
    async def request_journal_access(
        self, info: Info[Context, None], input: RequestJournalAccessInput
    ) -> RequestJournalAccessPayload:
        return await request_journal_access(info, input)

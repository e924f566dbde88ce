"""Referrals and waiting lists: where each referral to a hospital department stands."""

from __future__ import annotations

import datetime as dt
from enum import Enum

import strawberry
from strawberry.types import Info

from authz.categories import Category
from resolvers.core.access import Subject
from resolvers.core.common import PageInfo, page
from resolvers.core.context import Context
from resolvers.core.guard import require, served, visible, watch
from resolvers.core.i18n import add_texts, text
from resolvers.core.node import Node, fetches, node_id
from sources import ehr_referrals
from sources.ehr_referrals import Referral as ReferralRecord

CATEGORY = Category.REFERRALS

add_texts(
    {
        "referral.RECEIVED": {"nb": "Mottatt", "nn": "Motteken", "en": "Received"},
        "referral.ASSESSED": {"nb": "Vurdert", "nn": "Vurdert", "en": "Assessed"},
        "referral.ACCEPTED": {
            "nb": "Rett til helsehjelp, venter på time",
            "nn": "Rett til helsehjelp, ventar på time",
            "en": "Accepted, waiting for an appointment",
        },
        "referral.REJECTED": {"nb": "Avslått", "nn": "Avslått", "en": "Rejected"},
        "referral.SCHEDULED": {
            "nb": "Time er satt opp",
            "nn": "Time er sett opp",
            "en": "Scheduled",
        },
        "referral.COMPLETED": {"nb": "Avsluttet", "nn": "Avslutta", "en": "Completed"},
        "priority.ROUTINE": {"nb": "Vanlig", "nn": "Vanleg", "en": "Routine"},
        "priority.URGENT": {"nb": "Haster", "nn": "Hastar", "en": "Urgent"},
        "waitingList.WAITING": {
            "nb": "På venteliste",
            "nn": "På venteliste",
            "en": "On the waiting list",
        },
        "waitingList.PLANNED": {
            "nb": "Oppstart er planlagt",
            "nn": "Oppstart er planlagd",
            "en": "Start planned",
        },
    }
)


@strawberry.enum(description="Where a referral stands.")
class ReferralStatus(Enum):
    RECEIVED = strawberry.enum_value("RECEIVED", description="Received, not yet assessed.")
    ASSESSED = strawberry.enum_value("ASSESSED", description="Assessed by the department.")
    ACCEPTED = strawberry.enum_value(
        "ACCEPTED",
        description="Granted the right to treatment; on the waiting list for an appointment.",
    )
    REJECTED = strawberry.enum_value("REJECTED", description="Not accepted by the department.")
    SCHEDULED = strawberry.enum_value("SCHEDULED", description="An appointment is set up.")
    COMPLETED = strawberry.enum_value("COMPLETED", description="The referral is closed.")


@strawberry.enum(description="How urgent the referring clinician marked the referral.")
class ReferralPriority(Enum):
    ROUTINE = strawberry.enum_value("ROUTINE", description="Ordinary priority.")
    URGENT = strawberry.enum_value("URGENT", description="Urgent (also asap and stat).")


@strawberry.enum(description="The state of a place on a waiting list.")
class WaitingListStatus(Enum):
    WAITING = strawberry.enum_value("WAITING", description="Waiting for a start date.")
    PLANNED = strawberry.enum_value("PLANNED", description="A start date is planned.")


@strawberry.type(description="The person's place on a department's waiting list.")
class WaitingListPlace:
    record: strawberry.Private[ehr_referrals.WaitingListPlace]

    @strawberry.field(description="Waiting, or a start is planned.")
    def status(self) -> WaitingListStatus:
        return WaitingListStatus.WAITING if self.record.waitlist else WaitingListStatus.PLANNED

    @strawberry.field(description="The status in the caller's language.")
    def status_text(self, info: Info[Context, None]) -> str:
        return text(f"waitingList.{self.status().value}", info.context.language)

    @strawberry.field(description="The day the person was put on the waiting list.")
    def since(self) -> dt.date | None:
        return self.record.since

    @strawberry.field(description="When treatment is expected to start, when known.")
    def expected_start(self) -> dt.date | None:
        return self.record.expected_start


@strawberry.type(description="A referral to a hospital department and where it stands.")
class Referral(Node):
    record: strawberry.Private[ReferralRecord]
    subject: strawberry.Private[Subject]

    @strawberry.field(description="Opaque id.")
    def id(self, info: Info[Context, None]) -> strawberry.ID:
        return node_id(info, self.subject, "Referral", "ehr", self.record.id)

    @strawberry.field(description="Where the referral stands, for programs.")
    def status(self) -> ReferralStatus:
        return ReferralStatus(self.record.status.upper())

    @strawberry.field(description="Where the referral stands, in the caller's language.")
    def status_text(self, info: Info[Context, None]) -> str:
        return text(f"referral.{self.status().value}", info.context.language)

    @strawberry.field(description="When the department received the referral.")
    def received_at(self) -> dt.datetime | None:
        return self.record.received_at

    @strawberry.field(description="How urgent the referral is, when stated.")
    def priority(self) -> ReferralPriority | None:
        if self.record.priority is None:
            return None
        routine = self.record.priority == "routine"
        return ReferralPriority.ROUTINE if routine else ReferralPriority.URGENT

    @strawberry.field(description="The priority in the caller's language, when stated.")
    def priority_text(self, info: Info[Context, None]) -> str | None:
        priority = self.priority()
        return (
            None if priority is None else text(f"priority.{priority.value}", info.context.language)
        )

    @strawberry.field(description="Who referred the person (the referring clinician).")
    def referred_by(self) -> str | None:
        return self.record.referred_by

    @strawberry.field(description="The department the referral is to.")
    def department(self) -> str | None:
        return self.record.department

    @strawberry.field(description="The hospital or clinic, with its department.")
    def place(self) -> str | None:
        return self.record.place

    @strawberry.field(
        description="The latest day treatment must start by the person's right to "
        "treatment (frist for helsehjelp), once the referral is accepted."
    )
    def treatment_deadline(self) -> dt.date | None:
        return self.record.deadline

    @strawberry.field(description="The department's expected waiting time, in weeks.")
    def expected_waiting_weeks(self) -> int | None:
        return self.record.expected_wait_weeks

    @strawberry.field(description="The place on the waiting list, when the person has one.")
    def waiting_list(self, info: Info[Context, None]) -> WaitingListPlace | None:
        place = self.record.waiting_list
        if place is None or not visible(info.context, self.subject, [place], lambda p: p.security):
            return None
        return WaitingListPlace(record=place)


@strawberry.type(description="One referral in a list, with its cursor.")
class ReferralEdge:
    cursor: str = strawberry.field(description="Opaque position of this item.")
    node: Referral = strawberry.field(description="The referral.")


@strawberry.type(description="A page of referrals, newest first.")
class ReferralConnection:
    edges: list[ReferralEdge] = strawberry.field(description="The referrals on this page.")
    page_info: PageInfo = strawberry.field(description="Paging state.")
    total_count: int = strawberry.field(description="How many referrals the list holds.")


@strawberry.input(description="Which referrals to list.")
class ReferralFilter:
    status: list[ReferralStatus] | None = strawberry.field(
        default=None, description="Only referrals with these statuses (all when null)."
    )


def references(record: ReferralRecord) -> list[str]:
    """The audit references of one referral (and its waiting-list place)."""
    out = [f"EHR/ServiceRequest/{record.id}"]
    if record.waiting_list is not None:
        out.append(f"EHR/EpisodeOfCare/{record.waiting_list.id}")
    return out


async def visible_referrals(info: Info[Context, None], subject: Subject) -> list[ReferralRecord]:
    """Every referral of the person this view may see, newest first."""
    require(info.context, subject, CATEGORY)
    ctx = info.context
    async with watch(info.context, subject, CATEGORY):
        patient = await ctx.ehr.patient_id(subject.nin)
        records = [] if patient is None else await ctx.ehr.referrals.of(patient)
    shown = visible(info.context, subject, records, lambda r: r.security)
    oldest = dt.datetime.min.replace(tzinfo=dt.UTC)
    shown.sort(key=lambda r: (r.received_at or oldest, r.id), reverse=True)
    return shown


async def referrals_of(
    info: Info[Context, None],
    subject: Subject,
    first: int,
    after: str | None,
    filter: ReferralFilter | None,
) -> ReferralConnection:
    """The person's referrals this view may see, newest first."""
    shown = await visible_referrals(info, subject)
    if filter is not None and filter.status is not None:
        wanted = {s.name for s in filter.status}
        shown = [r for r in shown if r.status.upper() in wanted]
    chosen, page_info = page(shown, first, after)
    served(info.context, subject, CATEGORY, (ref for _, r in chosen for ref in references(r)))
    return ReferralConnection(
        edges=[ReferralEdge(cursor=c, node=Referral(record=r, subject=subject)) for c, r in chosen],
        page_info=page_info,
        total_count=len(shown),
    )


@fetches("Referral")
async def fetch_referral(
    info: Info[Context, None], subject: Subject, source: str, upstream_id: str
) -> Referral | None:
    """One referral by id, through the same checks as the list."""
    if source != "ehr":
        return None
    for record in await visible_referrals(info, subject):
        if record.id == upstream_id:
            served(info.context, subject, CATEGORY, references(record))
            return Referral(record=record, subject=subject)
    return None


@strawberry.type
class ReferralFields:
    subject: strawberry.Private[Subject]

    @strawberry.field(
        description="Referrals to hospital departments and their waiting-list places, "
        "newest first: status, deadline for treatment and expected waiting time."
    )
    async def referrals(
        self,
        info: Info[Context, None],
        first: int = 20,
        after: str | None = None,
        filter: ReferralFilter | None = None,
    ) -> ReferralConnection | None:
        return await referrals_of(info, self.subject, first, after, filter)

"""Video consultations: when the room opens, where it stands, and the link to join.

The join link is handed out only to those who may attend: the viewer's basis must
have WRITE on the appointment's category (the person themself, a youth for their own
categories, a parent, a proxy who manages appointments). Everyone else who may see the
appointment sees the times and the state, with `joinUrl: null` and `canJoin: false`.
"""

from __future__ import annotations

import datetime as dt
from enum import Enum

import strawberry
from strawberry.types import Info

from authz.categories import Category
from authz.policy import Action
from resolvers.core.access import Subject
from resolvers.core.context import Context
from resolvers.core.guard import may
from resolvers.core.i18n import add_texts, text
from sources import models

OPENS_BEFORE = dt.timedelta(minutes=15)  # when the EHR does not say
DEFAULT_LENGTH = dt.timedelta(minutes=30)


@strawberry.enum(description="Where a video consultation stands.")
class VideoState(Enum):
    NOT_OPEN = strawberry.enum_value("NOT_OPEN", description="The room is not open yet.")
    OPEN = strawberry.enum_value("OPEN", description="The room is open: the person may join.")
    WAITING_ROOM = strawberry.enum_value(
        "WAITING_ROOM", description="The person is in the waiting room; the clinician comes."
    )
    IN_PROGRESS = strawberry.enum_value("IN_PROGRESS", description="The consultation is on.")
    ENDED = strawberry.enum_value(
        "ENDED", description="The consultation is over (or the appointment was cancelled)."
    )


JOINABLE = frozenset({VideoState.OPEN, VideoState.WAITING_ROOM, VideoState.IN_PROGRESS})
_SESSION = {
    "waiting-room": VideoState.WAITING_ROOM,
    "in-progress": VideoState.IN_PROGRESS,
    "finished": VideoState.ENDED,
}

add_texts(
    {
        "video.NOT_OPEN": {
            "nb": "Ikke åpnet ennå",
            "nn": "Ikkje opna enno",
            "en": "Not open yet",
        },
        "video.OPEN": {"nb": "Åpen – du kan gå inn", "nn": "Open – du kan gå inn", "en": "Open"},
        "video.WAITING_ROOM": {
            "nb": "På venterommet",
            "nn": "På venterommet",
            "en": "In the waiting room",
        },
        "video.IN_PROGRESS": {"nb": "Pågår", "nn": "Går føre seg", "en": "In progress"},
        "video.ENDED": {"nb": "Avsluttet", "nn": "Avslutta", "en": "Ended"},
    }
)


def opens_at(record: models.Appointment) -> dt.datetime:
    """When the video room opens."""
    return record.start - (record.video_opens_before or OPENS_BEFORE)


def video_state(record: models.Appointment, now: dt.datetime) -> VideoState:
    """The state from the video service's report, else from the clock."""
    if record.status in ("cancelled", "noshow", "fulfilled", "entered-in-error"):
        return VideoState.ENDED
    reported = _SESSION.get(record.video_session or "")
    if reported is not None:
        return reported
    end = record.end or record.start + DEFAULT_LENGTH
    if now >= end:
        return VideoState.ENDED
    if now < opens_at(record):
        return VideoState.NOT_OPEN
    return VideoState.OPEN


def may_attend(info: Info[Context, None], subject: Subject, category: Category) -> bool:
    """True when the viewer's basis may act on appointments of this category."""
    return may(info.context, subject, category, Action.WRITE)


@strawberry.type(description="How to take part in a video consultation.")
class VideoConsultation:
    record: strawberry.Private[models.Appointment]
    subject: strawberry.Private[Subject]
    category: strawberry.Private[Category]

    @strawberry.field(description="When the video room opens (usually shortly before the start).")
    def opens_at(self) -> dt.datetime:
        return opens_at(self.record)

    @strawberry.field(description="Where the consultation stands now.")
    def state(self, info: Info[Context, None]) -> VideoState:
        return video_state(self.record, info.context.now)

    @strawberry.field(description="The state in the caller's language.")
    def state_text(self, info: Info[Context, None]) -> str:
        return text(f"video.{self.state(info).value}", info.context.language)

    @strawberry.field(
        description="The link that opens the video room. Only for a viewer who may "
        "attend (the person, a parent, a proxy who manages appointments); null for "
        "anyone else, and when the provider has not given one."
    )
    def join_url(self, info: Info[Context, None]) -> str | None:
        if not may_attend(info, self.subject, self.category):
            return None
        return self.record.video_url

    @strawberry.field(
        description="True when the viewer may join now: they may attend, the room is "
        "open and a link is there."
    )
    def can_join(self, info: Info[Context, None]) -> bool:
        return self.join_url(info) is not None and self.state(info) in JOINABLE

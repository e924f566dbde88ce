"""Marking messages to the person as read (by id or a whole conversation)."""

from __future__ import annotations

import re

import strawberry
from strawberry.types import Info

from authz.policy import Action
from resolvers.core.access import Subject
from resolvers.core.context import Context
from resolvers.core.errors import BadUserInput, Forbidden
from resolvers.core.guard import served
from resolvers.core.node import own_entity, refused_item
from resolvers.core.writes import UserError, acting, check_key, once, user_error
from resolvers.messages.messages import CATEGORY, Message, inbox, references, source_key, thread_key
from sources import models
from sources.errors import UpstreamConflict

MAX_IDS = 100
_UPSTREAM_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")


@strawberry.input(description="Which messages to mark as read: some by id, or one conversation.")
class MarkMessagesReadInput:
    person_id: strawberry.ID = strawberry.field(
        description="Whose messages: the viewer, or someone they act for."
    )
    message_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Messages to the person (`Message.id`, 1-100 of them)."
    )
    thread_id: strawberry.ID | None = strawberry.field(
        default=None, description="Every message to the person in this conversation."
    )
    idempotency_key: str = strawberry.field(
        description="A client-chosen key (8-128 characters); a retry with the same key and "
        "input returns the first result."
    )


@strawberry.type(description="The outcome of marking messages read.")
class MarkMessagesReadPayload:
    messages: list[Message] | None = strawberry.field(
        description="The messages as they are now (read)."
    )
    user_errors: list[UserError] = strawberry.field(description="Why nothing was marked.")


def _validate(info: Info[Context, None], data: MarkMessagesReadInput) -> list[UserError]:
    errors = check_key(info, data.idempotency_key)
    ids = data.message_ids
    if (ids is None) == (data.thread_id is None):
        field = "messageIds" if ids is None else "threadId"
        errors.append(user_error(info, field, "REQUIRED" if ids is None else "INVALID"))
    elif ids is not None and not 1 <= len(ids) <= MAX_IDS:
        errors.append(user_error(info, "messageIds", "REQUIRED" if not ids else "TOO_LONG"))
    return errors


def _own(info: Info[Context, None], subject: Subject, global_id: str, kind: str) -> tuple[str, str]:
    """(source, upstream id) of an id of `kind` read through this subject."""
    owned = own_entity(info, subject, global_id, kind)
    if owned is None:
        raise BadUserInput("Not an id of this person.", argument="id")
    return owned


def _targets(
    info: Info[Context, None],
    subject: Subject,
    data: MarkMessagesReadInput,
    shown: list[models.Message],
) -> list[models.Message] | list[UserError]:
    """The visible messages to mark, or a user error per id that names none of them."""
    by_id = {(source_key(m.source), m.id): m for m in shown}
    if data.thread_id is not None:
        try:
            source_id, key = _own(info, subject, data.thread_id, "MessageThread")
        except BadUserInput:
            return [user_error(info, "threadId", "INVALID")]
        found = [m for m in shown if source_key(m.source) == source_id and thread_key(m) == key]
        if not found:
            refused_item(info, subject, data.thread_id)
            return [user_error(info, "threadId", "INVALID")]
        return [m for m in found if not m.from_patient]
    chosen: list[models.Message] = []
    errors: list[UserError] = []
    for n, global_id in enumerate(data.message_ids or []):
        try:
            record = by_id.get(_own(info, subject, global_id, "Message"))
            if record is None:
                refused_item(info, subject, global_id)
        except BadUserInput:  # not an id of this person's (recorded by `own_entity`)
            record = None
        if record is None:  # absent, someone else's, or hidden: all the same
            errors.append(user_error(info, ["messageIds", str(n)], "INVALID"))
        elif record.from_patient:
            errors.append(user_error(info, ["messageIds", str(n)], "NOT_TO_PERSON"))
        elif record not in chosen:
            chosen.append(record)
    return errors or chosen


async def _mark(
    info: Info[Context, None], subject: Subject, record: models.Message
) -> models.Message:
    ctx = info.context
    if record.read or not _UPSTREAM_ID.fullmatch(record.id):
        return record
    municipality = record.source.municipality
    if municipality is not None:
        marked = await ctx.municipal.messages.mark_read(municipality, subject.nin, record.id)
    else:
        patient = await ctx.ehr.patient_id(subject.nin)
        if patient is None:
            raise Forbidden()
        marked = await ctx.ehr.messages.mark_read(patient, record.id)
    return record if marked is None else marked


async def mark_messages_read(
    info: Info[Context, None], data: MarkMessagesReadInput
) -> MarkMessagesReadPayload:
    """Mark messages to the person read, as the person or someone acting for them."""
    errors = _validate(info, data)
    subject, denied = await acting(info, data.person_id, CATEGORY)
    if subject is None or denied or errors:
        return MarkMessagesReadPayload(messages=None, user_errors=[*errors, *denied])
    targets = _targets(info, subject, data, await inbox(info, subject))
    if targets and isinstance(targets[0], UserError):
        return MarkMessagesReadPayload(
            messages=None, user_errors=[e for e in targets if isinstance(e, UserError)]
        )
    chosen = [m for m in targets if isinstance(m, models.Message)]

    async def mark(_: str) -> list[models.Message]:
        return [await _mark(info, subject, m) for m in chosen]

    parts = (tuple(data.message_ids or ()), data.thread_id)
    try:
        marked = await once(info, subject, data.idempotency_key, parts, mark, category=CATEGORY)
    except UpstreamConflict:
        field = "threadId" if data.thread_id is not None else "messageIds"
        return MarkMessagesReadPayload(
            messages=None, user_errors=[user_error(info, field, "CONFLICT")]
        )
    if isinstance(marked, UserError):
        return MarkMessagesReadPayload(messages=None, user_errors=[marked])
    served(info.context, subject, CATEGORY, references(marked), Action.WRITE)
    return MarkMessagesReadPayload(
        messages=[Message(subject_=subject, record=m) for m in marked], user_errors=[]
    )

"""Sending a message or a reply (validated, on an allowed basis, idempotent, audited)."""

from __future__ import annotations

from dataclasses import dataclass

import strawberry
from strawberry.types import Info

from authz.policy import Action
from resolvers.core.access import Subject
from resolvers.core.context import Context
from resolvers.core.errors import BadUserInput, Forbidden
from resolvers.core.guard import served
from resolvers.core.node import own_entity, refused_item
from resolvers.core.writes import UserError, acting, check_key, check_text, once, user_error
from resolvers.messages.mark_read import (
    MarkMessagesReadInput,
    MarkMessagesReadPayload,
    mark_messages_read,
)
from resolvers.messages.messages import CATEGORY, EHR_SOURCE, Message, references
from resolvers.messages.recipients import may_write_to, recipient_key, recipients
from resolvers.messages.threads import conversation
from sources import models

MAX_TEXT = 5000
MAX_SUBJECT = 200


@strawberry.input(description="A new message, or a reply in an existing conversation.")
class SendMessageInput:
    person_id: strawberry.ID = strawberry.field(
        description="Whose conversation: the viewer, or someone they act for."
    )
    text: str = strawberry.field(description="The message (1-5000 characters).")
    subject: str | None = strawberry.field(
        default=None, description="Subject line for a new conversation (up to 200 characters)."
    )
    recipient_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Whom a new conversation goes to (a `Person.messageRecipients` id). "
        "Omitted, it goes to the first of `messageRecipients` (the GP office when listed).",
    )
    thread_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Reply in this conversation (a `MessageThread.id`); the reply goes to "
        "the conversation's care provider.",
    )
    idempotency_key: str = strawberry.field(
        description="A client-chosen key (8-128 characters); a retry with the same key and "
        "input returns the first result and sends nothing twice."
    )


@strawberry.type(description="The outcome of sending a message.")
class SendMessagePayload:
    message: Message | None = strawberry.field(description="The message as sent.")
    user_errors: list[UserError] = strawberry.field(description="Why it was not sent.")


@dataclass(frozen=True, slots=True)
class Target:
    """Where a message goes: the care-side party, the system, and the thread if a reply."""

    key: str | None
    name: str
    kind: str
    municipality: str | None  # None: the EHR; else that municipality's messaging API
    thread: str | None = None
    replying_to: str | None = None


def _validate(info: Info[Context, None], data: SendMessageInput) -> list[UserError]:
    errors = [
        *check_text(info, "text", data.text, limit=MAX_TEXT),
        *check_text(
            info, "subject", data.subject, limit=MAX_SUBJECT, required=data.thread_id is None
        ),
        *check_key(info, data.idempotency_key),
    ]
    if data.thread_id is not None and data.recipient_id is not None:
        errors.append(user_error(info, "recipientId", "INVALID"))
    return errors


def _thread_ref(info: Info[Context, None], subject: Subject, thread_id: str) -> tuple[str, str]:
    owned = own_entity(info, subject, thread_id, "MessageThread")
    if owned is None:
        raise BadUserInput("threadId is not a conversation of this person.", argument="threadId")
    return owned


async def _target(
    info: Info[Context, None], subject: Subject, data: SendMessageInput
) -> Target | UserError:
    """Where the message goes, or the user error that says why it cannot."""
    if data.thread_id is not None:
        try:
            source_id, key = _thread_ref(info, subject, data.thread_id)
        except BadUserInput:
            return user_error(info, "threadId", "INVALID")
        found = await conversation(info, subject, source_id, key)
        if found is None:
            refused_item(info, subject, data.thread_id)
            return user_error(info, "threadId", "INVALID")
        party = found.care_side
        if not may_write_to(info, subject, party.counterpart_kind):
            return user_error(info, "threadId", "RECIPIENT_NOT_ALLOWED")
        municipality = None if source_id == EHR_SOURCE else party.source.municipality
        name = party.counterpart or ""
        return Target(
            party.counterpart_key, name, party.counterpart_kind, municipality, key, found.last.id
        )
    allowed = await recipients(info, subject)
    if data.recipient_id is None:
        if not allowed:
            return user_error(info, "recipientId", "REQUIRED")
        first = allowed[0]
        return Target(first.key, first.name, first.kind, first.route.municipality)
    try:
        wanted = recipient_key(data.recipient_id)
    except BadUserInput:
        return user_error(info, "recipientId", "INVALID")
    kind = {"gp": "GP", "hospital": "HOSPITAL", "municipality": "MUNICIPALITY"}.get(
        wanted.partition(":")[0]
    )
    if kind is not None and not may_write_to(info, subject, kind):
        return user_error(info, "recipientId", "RECIPIENT_NOT_ALLOWED")
    chosen = next((r for r in allowed if r.key == wanted), None)
    if chosen is None:
        return user_error(info, "recipientId", "INVALID")
    return Target(chosen.key, chosen.name, chosen.kind, chosen.route.municipality)


async def _deliver(
    info: Info[Context, None], subject: Subject, data: SendMessageInput, to: Target, scoped: str
) -> models.Message:
    ctx = info.context
    sent_by = subject.basis.value
    if to.municipality is not None:
        return await ctx.municipal.messages.send(
            to.municipality,
            subject.nin,
            subject=data.subject,
            text=data.text,
            thread_id=to.thread,
            sent_by=sent_by,
            idempotency=scoped,
        )
    patient = await ctx.ehr.patient_id(subject.nin)
    if patient is None:
        raise Forbidden()
    return await ctx.ehr.messages.send(
        patient,
        subject=data.subject,
        text=data.text,
        thread_id=to.thread,
        replying_to=to.replying_to,
        counterpart=(to.key, to.name, to.kind) if to.key else None,
        sent_by=sent_by,
        idempotency=scoped,
        now=ctx.now,
    )


async def send_message(info: Info[Context, None], data: SendMessageInput) -> SendMessagePayload:
    """Send a message as, or on behalf of, the person."""
    errors = _validate(info, data)
    subject, denied = await acting(info, data.person_id, CATEGORY)
    if subject is None or denied or errors:
        return SendMessagePayload(message=None, user_errors=[*errors, *denied])
    target = await _target(info, subject, data)
    if isinstance(target, UserError):
        return SendMessagePayload(message=None, user_errors=[target])

    async def create(scoped: str) -> models.Message:
        return await _deliver(info, subject, data, target, scoped)

    parts = (data.thread_id, data.recipient_id, data.subject, data.text)
    sent = await once(info, subject, data.idempotency_key, parts, create, category=CATEGORY)
    if isinstance(sent, UserError):
        return SendMessagePayload(message=None, user_errors=[sent])
    served(info.context, subject, CATEGORY, references([sent]), Action.WRITE)
    return SendMessagePayload(message=Message(subject_=subject, record=sent), user_errors=[])


@strawberry.type(description="Sending messages and marking them read.")
class MessageMutations:
    @strawberry.mutation(
        description="Send a message to a care provider (`recipientId`), or reply in a "
        "conversation (`threadId`). Needs the `messages` write permission on the acting "
        "basis; a parent of a 12-15-year-old may write only to the GP office and the "
        "municipality, and the young person does not see those messages."
    )
    async def send_message(
        self,
        info: Info[Context, None],
        input: SendMessageInput,
    ) -> SendMessagePayload:
        return await send_message(info, input)

    @strawberry.mutation(
        description="Mark messages to the person as read (some by id, or a whole "
        "conversation); the unread counts drop. Needs the `messages` write permission "
        "on the acting basis."
    )
    async def mark_messages_read(
        self,
        info: Info[Context, None],
        input: MarkMessagesReadInput,
    ) -> MarkMessagesReadPayload:
        return await mark_messages_read(info, input)

"""Sending a message or a reply (validated, on an allowed basis, idempotent, audited)."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from authz.policy import Action
from gateway.context import Context
from gateway.errors import BadUserInput, Forbidden
from gateway.ids import decode
from resolvers.guard import served
from resolvers.messages import Message
from resolvers.writes import UserError, acting, check_key, check_text, once, user_error

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
    thread_id: strawberry.ID | None = strawberry.field(
        default=None, description="Reply in this conversation (a `Message.threadId`)."
    )
    idempotency_key: str = strawberry.field(
        description="A client-chosen key (8-128 characters); a retry with the same key and "
        "input returns the first result and sends nothing twice."
    )


@strawberry.type(description="The outcome of sending a message.")
class SendMessagePayload:
    message: Message | None = strawberry.field(description="The message as sent.")
    user_errors: list[UserError] = strawberry.field(description="Why it was not sent.")


def _validate(info: Info[Context, None], data: SendMessageInput) -> list[UserError]:
    return [
        *check_text(info, "text", data.text, limit=MAX_TEXT),
        *check_text(
            info, "subject", data.subject, limit=MAX_SUBJECT, required=data.thread_id is None
        ),
        *check_key(info, data.idempotency_key),
    ]


def _thread(data: SendMessageInput) -> str | None:
    if data.thread_id is None:
        return None
    kind, source, key = decode(data.thread_id)
    if kind != "Thread" or source != "ehr":
        raise BadUserInput("threadId is not a conversation id.", argument="threadId")
    return key


async def send_message(info: Info[Context, None], data: SendMessageInput) -> SendMessagePayload:
    """Send a message as, or on behalf of, the person."""
    ctx = info.context
    errors = _validate(info, data)
    try:
        thread = _thread(data)
    except BadUserInput:
        errors.append(user_error(info, "threadId", "INVALID"))
        thread = None
    subject, denied = await acting(info, data.person_id, "messages")
    if subject is None or denied or errors:
        return SendMessagePayload(message=None, user_errors=[*errors, *denied])

    async def create(scoped: str) -> Message:
        patient = await ctx.ehr.patient_id(subject.nin)
        if patient is None:
            raise Forbidden()
        record = await ctx.ehr.send_message(
            patient,
            subject=data.subject,
            text=data.text,
            thread_id=thread,
            sent_by=subject.basis.value,
            idempotency=scoped,
            now=ctx.now,
        )
        return Message(record=record)

    message = await once(
        info, subject, data.idempotency_key, (thread, data.subject, data.text), create
    )
    if isinstance(message, UserError):
        return SendMessagePayload(message=None, user_errors=[message])
    served(info, subject, "messages", (f"EHR/Communication/{message.record.id}",), Action.WRITE)
    return SendMessagePayload(message=message, user_errors=[])


@strawberry.type(description="Sending messages.")
class MessageMutations:
    @strawberry.mutation(
        description="Send a message to the care provider, or reply in a "
        "conversation. Needs the `messages` write permission on "
        "the acting basis."
    )
    async def send_message(
        self,
        info: Info[Context, None],
        input: SendMessageInput,
    ) -> SendMessagePayload:
        return await send_message(info, input)

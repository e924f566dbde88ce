"""Writes. Each validates its input, checks the acting basis, is idempotent and audited."""

from __future__ import annotations

import hashlib

import strawberry
from strawberry.types import Info

from authz.policy import Action
from gateway.context import Context
from gateway.errors import BadUserInput, CategoryUnavailable, Forbidden
from gateway.i18n import text
from gateway.idempotency import KeyReused
from gateway.ids import decode
from resolvers.guard import require, served
from resolvers.messages import Message

MAX_TEXT = 5000
MAX_SUBJECT = 200


@strawberry.type(description="An expected failure of a mutation, naming the input field.")
class UserError:
    field: list[str] = strawberry.field(description='Path to the input field, e.g. ["text"].')
    code: str = strawberry.field(description="Stable code for programs.")
    message: str = strawberry.field(description="The problem in the caller's language.")


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


def _error(info: Info[Context, None], field: str, code: str) -> UserError:
    return UserError(field=[field], code=code, message=text(f"error.{code}", info.context.language))


def _validate(info: Info[Context, None], data: SendMessageInput) -> list[UserError]:
    errors = []
    if not data.text.strip():
        errors.append(_error(info, "text", "REQUIRED"))
    elif len(data.text) > MAX_TEXT:
        errors.append(_error(info, "text", "TOO_LONG"))
    if data.subject is not None and len(data.subject) > MAX_SUBJECT:
        errors.append(_error(info, "subject", "TOO_LONG"))
    if data.thread_id is None and not (data.subject or "").strip():
        errors.append(_error(info, "subject", "REQUIRED"))
    if not 8 <= len(data.idempotency_key) <= 128 or not data.idempotency_key.isprintable():
        errors.append(_error(info, "idempotencyKey", "INVALID"))
    return errors


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
        subject = await ctx.access.subject(data.person_id)
    except BadUserInput as exc:
        field = "threadId" if exc.extensions.get("argument") == "threadId" else "personId"
        return SendMessagePayload(
            message=None, user_errors=[*errors, _error(info, field, "INVALID")]
        )
    except Forbidden:
        return SendMessagePayload(
            message=None, user_errors=[*errors, _error(info, "personId", "FORBIDDEN")]
        )
    try:
        require(info, subject, "messages", Action.WRITE)
    except CategoryUnavailable:
        return SendMessagePayload(
            message=None, user_errors=[*errors, _error(info, "personId", "CATEGORY_UNAVAILABLE")]
        )
    if errors:
        return SendMessagePayload(message=None, user_errors=errors)
    caller = f"{ctx.principal.nin}:{ctx.principal.actor_client_id or ''}"
    fingerprint = hashlib.sha256(
        f"{subject.nin}\x00{thread}\x00{data.subject}\x00{data.text}".encode()
    ).hexdigest()
    scoped = ctx.idempotency.scoped_key(caller, data.idempotency_key)

    async def create() -> Message:
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

    try:
        message = await ctx.idempotency.run(caller, data.idempotency_key, fingerprint, create)
    except KeyReused:
        return SendMessagePayload(
            message=None, user_errors=[_error(info, "idempotencyKey", "KEY_REUSED")]
        )
    served(info, subject, "messages", (f"EHR/Communication/{message.record.id}",), Action.WRITE)
    return SendMessagePayload(message=message, user_errors=[])


@strawberry.type(description="Changes a citizen (or someone acting for them) can make.")
class Mutation:
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

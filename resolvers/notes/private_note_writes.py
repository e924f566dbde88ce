"""Writing, changing and deleting private notes (validated, on an allowed basis, versioned,
idempotent, audited)."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from authz import refusals
from authz.policy import Action
from resolvers.core.access import Subject
from resolvers.core.context import Context
from resolvers.core.guard import served, watch
from resolvers.core.i18n import TEXTS, Language, add_texts
from resolvers.core.ids import entity_parts
from resolvers.core.node import FETCHERS, own_entity, refused_item
from resolvers.core.writes import UserError, acting, check_key, check_text, once, user_error
from resolvers.notes.private_notes import (
    CATEGORY,
    SOURCE,
    TYPE,
    PrivateNote,
    audit_ref,
    subject_key,
)
from sources.userdata import Note, NoteContent, NoteNotFound, StaleNote

MAX_TITLE = 200
MAX_TEXT = 10_000
KEY_HELP = (
    "A client-chosen key (8-128 characters); a retry with the same key and input returns "
    "the first result and changes nothing twice."
)

_TEXTS: dict[str, dict[Language, str]] = {
    "error.STALE": {
        "nb": "Notatet er endret et annet sted siden du åpnet det. Last inn på nytt.",
        "nn": "Notatet er endra ein annan stad sidan du opna det. Last inn på nytt.",
        "en": "The note was changed elsewhere since you opened it. Reload it.",
    },
    "error.NOT_FOUND": {
        "nb": "Finner ikke dette.",
        "nn": "Finn ikkje dette.",
        "en": "This could not be found.",
    },
}
add_texts({key: entry for key, entry in _TEXTS.items() if key not in TEXTS})


@strawberry.input(description="A new private note.")
class CreatePrivateNoteInput:
    person_id: strawberry.ID = strawberry.field(
        description="Whose note: the viewer, or someone who gave them a full power of attorney."
    )
    text: str = strawberry.field(description="The note (1-10000 characters).")
    title: str | None = strawberry.field(
        default=None, description="An optional title (up to 200 characters)."
    )
    linked_id: strawberry.ID | None = strawberry.field(
        default=None, description="Link the note to an item of the same person (its `id`)."
    )
    idempotency_key: str = strawberry.field(description=KEY_HELP)


@strawberry.input(description="New content for a private note (replaces title, text and link).")
class UpdatePrivateNoteInput:
    person_id: strawberry.ID = strawberry.field(description="Whose note.")
    id: strawberry.ID = strawberry.field(description="The note's `id`.")
    expected_version: int = strawberry.field(
        description="The `version` the change is based on; STALE when the note changed since."
    )
    text: str = strawberry.field(description="The note (1-10000 characters).")
    title: str | None = strawberry.field(
        default=None, description="The title (up to 200 characters); null for none."
    )
    linked_id: strawberry.ID | None = strawberry.field(
        default=None, description="The linked item's `id`; null for no link."
    )
    idempotency_key: str = strawberry.field(description=KEY_HELP)


@strawberry.input(description="Which private note to delete.")
class DeletePrivateNoteInput:
    person_id: strawberry.ID = strawberry.field(description="Whose note.")
    id: strawberry.ID = strawberry.field(description="The note's `id`.")
    expected_version: int = strawberry.field(
        description="The `version` last shown; STALE when the note changed since."
    )
    idempotency_key: str = strawberry.field(description=KEY_HELP)


@strawberry.type(description="The outcome of writing or changing a private note.")
class PrivateNotePayload:
    note: PrivateNote | None = strawberry.field(description="The note as stored now.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was changed.")


@strawberry.type(description="The outcome of deleting a private note.")
class DeletePrivateNotePayload:
    deleted_id: strawberry.ID | None = strawberry.field(description="The deleted note's `id`.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was deleted.")


def _content(
    info: Info[Context, None], text: str, title: str | None, linked_id: str | None
) -> tuple[NoteContent, list[UserError]]:
    errors = [
        *check_text(info, "text", text, limit=MAX_TEXT),
        *check_text(info, "title", title, limit=MAX_TITLE, required=False),
    ]
    if linked_id is not None:
        parts = entity_parts(linked_id)
        if parts is None or parts[0] not in FETCHERS:
            errors.append(user_error(info, "linkedId", "INVALID"))
    shown_title = title.strip() if title is not None and title.strip() else None
    return NoteContent(text=text, title=shown_title, link=linked_id), errors


def _same_person(
    info: Info[Context, None], subject: Subject, content: NoteContent
) -> list[UserError]:
    parts = None if content.link is None else entity_parts(content.link)
    if content.link is not None and parts is not None and parts[2] != subject_key(info, subject):
        refused_item(info, subject, content.link, refusals.ID_OF_ANOTHER_PERSON)
        return [user_error(info, "linkedId", "INVALID")]
    return []


def _note_id(info: Info[Context, None], subject: Subject, global_id: str) -> str | None:
    owned = own_entity(info, subject, global_id, TYPE, SOURCE)
    return None if owned is None else owned[1]


async def create_private_note(
    info: Info[Context, None], data: CreatePrivateNoteInput
) -> PrivateNotePayload:
    """Write a new note for the person."""
    ctx = info.context
    content, errors = _content(info, data.text, data.title, data.linked_id)
    errors += check_key(info, data.idempotency_key)
    subject, denied = await acting(info, data.person_id, CATEGORY)
    if subject is None or denied or errors:
        return PrivateNotePayload(note=None, user_errors=[*errors, *denied])
    errors = _same_person(info, subject, content)
    if errors:
        return PrivateNotePayload(note=None, user_errors=errors)

    async def create(scoped: str) -> Note | UserError:
        try:
            async with watch(info.context, subject, CATEGORY, Action.WRITE):
                return await ctx.userdata.create_note(
                    subject_key(info, subject),
                    content,
                    by=subject.basis.value,
                    now=ctx.now,
                    request_key=scoped,
                )
        except NoteNotFound:  # the note this key made was deleted since
            return user_error(info, "idempotencyKey", "NOT_FOUND")

    parts = (content.title, content.text, content.link)
    note = await once(info, subject, data.idempotency_key, parts, create, category=CATEGORY)
    if isinstance(note, UserError):
        return PrivateNotePayload(note=None, user_errors=[note])
    served(info.context, subject, CATEGORY, (audit_ref(note.id),), Action.WRITE)
    return PrivateNotePayload(note=PrivateNote(note=note, subject=subject), user_errors=[])


async def update_private_note(
    info: Info[Context, None], data: UpdatePrivateNoteInput
) -> PrivateNotePayload:
    """Replace a note's content, when it is still at the version the caller read."""
    ctx = info.context
    content, errors = _content(info, data.text, data.title, data.linked_id)
    errors += check_key(info, data.idempotency_key)
    if data.expected_version < 1:
        errors.append(user_error(info, "expectedVersion", "INVALID"))
    subject, denied = await acting(info, data.person_id, CATEGORY)
    if subject is None or denied or errors:
        return PrivateNotePayload(note=None, user_errors=[*errors, *denied])
    errors = _same_person(info, subject, content)
    note_id = _note_id(info, subject, data.id)
    if note_id is None:
        errors.append(user_error(info, "id", "NOT_FOUND"))
    if errors or note_id is None:
        return PrivateNotePayload(note=None, user_errors=errors)
    found_id = note_id

    async def update(scoped: str) -> Note | UserError:
        try:
            async with watch(info.context, subject, CATEGORY, Action.WRITE):
                return await ctx.userdata.update_note(
                    subject_key(info, subject),
                    found_id,
                    content,
                    expected_version=data.expected_version,
                    by=subject.basis.value,
                    now=ctx.now,
                )
        except StaleNote:
            return user_error(info, "expectedVersion", "STALE")
        except NoteNotFound:  # a well-formed id of theirs, no such note: on the record
            refused_item(info, subject, data.id)
            return user_error(info, "id", "NOT_FOUND")

    parts = (found_id, data.expected_version, content.title, content.text, content.link)
    note = await once(info, subject, data.idempotency_key, parts, update, category=CATEGORY)
    if isinstance(note, UserError):
        return PrivateNotePayload(note=None, user_errors=[note])
    served(info.context, subject, CATEGORY, (audit_ref(note.id),), Action.WRITE)
    return PrivateNotePayload(note=PrivateNote(note=note, subject=subject), user_errors=[])


async def delete_private_note(
    info: Info[Context, None], data: DeletePrivateNoteInput
) -> DeletePrivateNotePayload:
    """Delete a note, when it is still at the version the caller read."""
    ctx = info.context
    errors = check_key(info, data.idempotency_key)
    if data.expected_version < 1:
        errors.append(user_error(info, "expectedVersion", "INVALID"))
    subject, denied = await acting(info, data.person_id, CATEGORY)
    if subject is None or denied or errors:
        return DeletePrivateNotePayload(deleted_id=None, user_errors=[*errors, *denied])
    note_id = _note_id(info, subject, data.id)
    if note_id is None:
        return DeletePrivateNotePayload(
            deleted_id=None, user_errors=[user_error(info, "id", "NOT_FOUND")]
        )
    found_id = note_id

    async def delete(scoped: str) -> UserError | None:
        try:
            async with watch(info.context, subject, CATEGORY, Action.WRITE):
                await ctx.userdata.delete_note(
                    subject_key(info, subject), found_id, expected_version=data.expected_version
                )
        except StaleNote:
            return user_error(info, "expectedVersion", "STALE")
        except NoteNotFound:  # a well-formed id of theirs, no such note: on the record
            refused_item(info, subject, data.id)
            return user_error(info, "id", "NOT_FOUND")
        return None

    failed = await once(
        info,
        subject,
        data.idempotency_key,
        ("delete", found_id, data.expected_version),
        delete,
        category=CATEGORY,
    )
    if failed is not None:
        return DeletePrivateNotePayload(deleted_id=None, user_errors=[failed])
    served(info.context, subject, CATEGORY, (audit_ref(found_id),), Action.WRITE)
    return DeletePrivateNotePayload(deleted_id=data.id, user_errors=[])


@strawberry.type(description="Writing private notes.")
class PrivateNoteMutations:
    @strawberry.mutation(
        description="Write a private note for the person. Needs the `private_notes` write "
        "permission (the person themself, or a full power of attorney)."
    )
    async def create_private_note(
        self, info: Info[Context, None], input: CreatePrivateNoteInput
    ) -> PrivateNotePayload:
        return await create_private_note(info, input)

    @strawberry.mutation(
        description="Change a private note. Send the `version` you read as "
        "`expectedVersion`; a change made meanwhile elsewhere gives a STALE user error."
    )
    async def update_private_note(
        self, info: Info[Context, None], input: UpdatePrivateNoteInput
    ) -> PrivateNotePayload:
        return await update_private_note(info, input)

    @strawberry.mutation(
        description="Delete a private note, when it is still at `expectedVersion`."
    )
    async def delete_private_note(
        self, info: Info[Context, None], input: DeletePrivateNoteInput
    ) -> DeletePrivateNotePayload:
        return await delete_private_note(info, input)

"""Private notes: the person's own notes, kept by the gateway, encrypted at rest.

A note belongs to the person it is about; a full proxy writing for the grantor writes the
grantor's note (recorded as written on the PROXY basis, never by name).
"""

from __future__ import annotations

import datetime as dt
from enum import Enum

import strawberry
from strawberry.types import Info

from authz.categories import Category
from resolvers.core.access import Subject
from resolvers.core.common import PageInfo, page
from resolvers.core.context import Context
from resolvers.core.errors import BadUserInput, CategoryUnavailable, Forbidden
from resolvers.core.guard import may, require, served, watch
from resolvers.core.i18n import text
from resolvers.core.node import Node, fetches, node_id, resolve_node
from sources.userdata import Note

CATEGORY = Category.PRIVATE_NOTES
TYPE = "PrivateNote"
SOURCE = "gw"


def audit_ref(note_id: str) -> str:
    """The audit trail's reference to a note."""
    return f"GATEWAY/PrivateNote/{note_id}"


@strawberry.enum(description="On which basis a note was written or changed (never a name).")
class NoteAuthor(Enum):
    SELF = strawberry.enum_value("SELF", description="The person themself.")
    YOUTH = strawberry.enum_value("YOUTH", description="The young person themself (13-15).")
    PARENT = strawberry.enum_value("PARENT", description="A parent, for a child.")
    PROXY = strawberry.enum_value(
        "PROXY", description="Someone holding the person's power of attorney."
    )
    PARTNER = strawberry.enum_value(
        "PARTNER", description="A partner service acting for the person."
    )


@strawberry.type(
    description="A private note the person keeps for themself (e.g. questions for the next "
    "visit). Only the person and holders of a full power of attorney see notes; care "
    "providers never do."
)
class PrivateNote(Node):
    note: strawberry.Private[Note]
    subject: strawberry.Private[Subject]

    @strawberry.field(description="Opaque id; use it to change or delete the note.")
    def id(self, info: Info[Context, None]) -> strawberry.ID:
        return node_id(info, self.subject, TYPE, SOURCE, self.note.id)

    @strawberry.field(description="The title, when one was given (up to 200 characters).")
    def title(self) -> str | None:
        return self.note.content.title

    @strawberry.field(description="The note itself (1-10000 characters).")
    def text(self) -> str:
        return self.note.content.text

    @strawberry.field(description="When it was written.")
    def created_at(self) -> dt.datetime:
        return self.note.created_at

    @strawberry.field(description="When it was last changed (the creation time if never).")
    def updated_at(self) -> dt.datetime:
        return self.note.updated_at

    @strawberry.field(
        description="Goes up by one with every change. Send the version you showed as "
        "`expectedVersion` when changing or deleting, so a change made meanwhile on "
        "another device is never silently overwritten."
    )
    def version(self) -> int:
        return self.note.version

    @strawberry.field(description="On which basis it was written (the person, or a proxy).")
    def written_by(self) -> NoteAuthor:
        return NoteAuthor(self.note.written_by)

    @strawberry.field(description="`writtenBy` in the caller's language.")
    def written_by_text(self, info: Info[Context, None]) -> str:
        return text(f"basis.{self.note.written_by}", info.context.language)

    @strawberry.field(description="On which basis it was last changed.")
    def updated_by(self) -> NoteAuthor:
        return NoteAuthor(self.note.updated_by)

    @strawberry.field(
        description="The id of the item the note is about (an appointment, a document, "
        "...), when it was linked to one."
    )
    def linked_id(self) -> strawberry.ID | None:
        link = self.note.content.link
        return None if link is None else strawberry.ID(link)

    @strawberry.field(
        description="The linked item itself, when the viewer may still see it; null when "
        "there is no link or the item is gone or hidden."
    )
    async def linked(self, info: Info[Context, None]) -> Node | None:
        link = self.note.content.link
        if link is None:
            return None
        try:
            found: Node | None = await resolve_node(info, link, asked=False)
        except (Forbidden, BadUserInput, CategoryUnavailable):
            return None
        return found


@strawberry.type(description="One private note in a list, with its cursor.")
class PrivateNoteEdge:
    cursor: str = strawberry.field(description="Opaque position of this item.")
    node: PrivateNote = strawberry.field(description="The note.")


@strawberry.type(description="A page of private notes, newest first.")
class PrivateNoteConnection:
    edges: list[PrivateNoteEdge] = strawberry.field(description="The notes on this page.")
    page_info: PageInfo = strawberry.field(description="Paging state.")
    total_count: int = strawberry.field(description="How many notes the person has.")


def subject_key(info: Info[Context, None], subject: Subject) -> str:
    """The opaque key the store files the subject's data under."""
    return info.context.ids.person_key(subject.nin)


async def visible_notes(info: Info[Context, None], subject: Subject) -> list[Note]:
    """The subject's notes, newest first, when this view may read them."""
    require(info.context, subject, CATEGORY)
    async with watch(info.context, subject, CATEGORY):
        return await info.context.userdata.notes(subject_key(info, subject))


async def private_notes_of(
    info: Info[Context, None], subject: Subject, first: int, after: str | None
) -> PrivateNoteConnection:
    """A page of the subject's notes."""
    notes = await visible_notes(info, subject)
    chosen, page_info = page(notes, first, after)
    served(info.context, subject, CATEGORY, (audit_ref(n.id) for _, n in chosen))
    return PrivateNoteConnection(
        edges=[
            PrivateNoteEdge(cursor=c, node=PrivateNote(note=n, subject=subject)) for c, n in chosen
        ],
        page_info=page_info,
        total_count=len(notes),
    )


@fetches(TYPE)
async def fetch_private_note(
    info: Info[Context, None], subject: Subject, source: str, upstream_id: str
) -> PrivateNote | None:
    """One note by id, through the same checks as the list."""
    if source != SOURCE or not may(info.context, subject, CATEGORY):
        return None
    async with watch(info.context, subject, CATEGORY):
        note = await info.context.userdata.note(subject_key(info, subject), upstream_id)
    if note is None:
        return None
    served(info.context, subject, CATEGORY, (audit_ref(note.id),))
    return PrivateNote(note=note, subject=subject)


@strawberry.type
class PrivateNoteFields:
    subject: strawberry.Private[Subject]

    @strawberry.field(
        description="The person's private notes, newest first. Only the person (and a "
        "holder of a full power of attorney) may read them; null with a "
        "CATEGORY_UNAVAILABLE error otherwise."
    )
    async def private_notes(
        self, info: Info[Context, None], first: int = 20, after: str | None = None
    ) -> PrivateNoteConnection | None:
        return await private_notes_of(info, self.subject, first, after)

"""Documents in the health record: letters, visit summaries, notes, downloaded through
the gateway."""

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
from resolvers.core.i18n import text
from resolvers.core.node import Node, fetches, node_id
from resolvers.core.ranges import DateRange, within
from sources import models

CATEGORY = Category.DOCUMENTS


@strawberry.enum(description="What kind of document it is.")
class DocumentType(Enum):
    INVITATION = strawberry.enum_value(
        "INVITATION", description="An invitation letter for an appointment."
    )
    LETTER = strawberry.enum_value("LETTER", description="Another letter from a care provider.")
    VISIT_SUMMARY = strawberry.enum_value(
        "VISIT_SUMMARY", description="A summary of a visit or a stay."
    )
    NOTE = strawberry.enum_value("NOTE", description="An outpatient or journal note.")
    INSTRUCTIONS = strawberry.enum_value(
        "INSTRUCTIONS", description="Instructions for the patient."
    )
    OTHER = strawberry.enum_value("OTHER", description="Any other kind of document.")


_TYPES = {
    "invitation": DocumentType.INVITATION,
    "letter": DocumentType.LETTER,
    "summary": DocumentType.VISIT_SUMMARY,
    "visit-summary": DocumentType.VISIT_SUMMARY,
    "note": DocumentType.NOTE,
    "instructions": DocumentType.INSTRUCTIONS,
}


@strawberry.type(description="A document in the person's health record.")
class Document(Node):
    record: strawberry.Private[models.Document]
    subject: strawberry.Private[Subject]

    @strawberry.field(description="Opaque id (also the last part of `downloadUrl`).")
    def id(self, info: Info[Context, None]) -> strawberry.ID:
        return node_id(info, self.subject, "Document", "ehr", self.record.id)

    @strawberry.field(description="The document's title, as the care provider wrote it.")
    def title(self) -> str:
        return self.record.title

    @strawberry.field(description="What kind of document it is.")
    def type(self) -> DocumentType:
        return document_type(self.record)

    @strawberry.field(description="The kind of document in the caller's language.")
    def type_text(self, info: Info[Context, None]) -> str:
        return text(f"document.{self.type().value}", info.context.language)

    @strawberry.field(description="When the document was written, when known.")
    def date(self) -> dt.datetime | None:
        return self.record.date

    @strawberry.field(description="The media type of the content, e.g. text/plain.")
    def content_type(self) -> str:
        return self.record.content_type

    @strawberry.field(description="The content's size in bytes, when the record states it.")
    def size(self) -> int | None:
        return self.record.size

    @strawberry.field(
        description="Where to download the content: a URL relative to the gateway, "
        "fetched with the same bearer token as /graphql."
    )
    def download_url(self, info: Info[Context, None]) -> str:
        return f"/documents/{self.id(info)}"


@strawberry.type(description="One document in a list, with its cursor.")
class DocumentEdge:
    cursor: str = strawberry.field(description="Opaque position of this item.")
    node: Document = strawberry.field(description="The document.")


@strawberry.type(description="A page of documents, newest first.")
class DocumentConnection:
    edges: list[DocumentEdge] = strawberry.field(description="The documents on this page.")
    page_info: PageInfo = strawberry.field(description="Paging state.")
    total_count: int = strawberry.field(description="How many documents the list holds.")


@strawberry.input(description="Which documents to list.")
class DocumentFilter:
    types: list[DocumentType] | None = strawberry.field(
        default=None, description="Only these kinds of document (all when null)."
    )
    dates: DateRange | None = strawberry.field(
        default=None, description="Only documents written on these days."
    )


async def visible_documents(info: Info[Context, None], subject: Subject) -> list[models.Document]:
    """Every document of the person this view may see, newest first."""
    require(info.context, subject, CATEGORY)
    ctx = info.context
    async with watch(info.context, subject, CATEGORY):
        patient = await ctx.ehr.patient_id(subject.nin)
        records = [] if patient is None else await ctx.ehr.documents(patient)
    shown = visible(info.context, subject, records, lambda d: d.security)
    shown.sort(key=lambda d: (d.date or dt.datetime.min.replace(tzinfo=dt.UTC), d.id), reverse=True)
    return shown


def document_type(record: models.Document) -> DocumentType:
    """The kind of document, as the graph names it."""
    return _TYPES.get(record.kind or "", DocumentType.OTHER)


async def documents_of(
    info: Info[Context, None],
    subject: Subject,
    first: int,
    after: str | None,
    filter: DocumentFilter | None = None,
) -> DocumentConnection:
    """The person's documents this view may see, newest first."""
    chosen_filter = filter or DocumentFilter()
    shown = within(await visible_documents(info, subject), lambda d: d.date, chosen_filter.dates)
    if chosen_filter.types is not None:
        kinds = set(chosen_filter.types)
        shown = [d for d in shown if document_type(d) in kinds]
    chosen, page_info = page(shown, first, after)
    served(info.context, subject, CATEGORY, (f"EHR/DocumentReference/{d.id}" for _, d in chosen))
    return DocumentConnection(
        edges=[DocumentEdge(cursor=c, node=Document(record=d, subject=subject)) for c, d in chosen],
        page_info=page_info,
        total_count=len(shown),
    )


@fetches("Document")
async def fetch_document(
    info: Info[Context, None], subject: Subject, source: str, upstream_id: str
) -> Document | None:
    """One document by id, through the same checks as the list."""
    if source != "ehr":
        return None
    for record in await visible_documents(info, subject):
        if record.id == upstream_id:
            served(info.context, subject, CATEGORY, (f"EHR/DocumentReference/{record.id}",))
            return Document(record=record, subject=subject)
    return None

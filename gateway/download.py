"""`GET /documents/{id}`: a health-record document's content, streamed through the gateway.

The same bearer token as /graphql. A document the caller may not see answers exactly as
one that does not exist (404): malformed ids, other people's documents, categories the
basis does not include and items hidden by their labels alike. Each of those refusals is
written to the audit trail with its reason before the 404 leaves, and the audit entry of
a download before the first byte of content; when the trail cannot take it, nothing is
sent (503).

It decides, filters and records through the same guard as the graph's fields
(`resolvers.core.guard`): the category decision (a denial recorded as a field's is), the
item's labels, the served record and every refused id.
"""

from __future__ import annotations

import asyncio
import logging
import re
import unicodedata
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from authz import refusals
from authz.categories import Category
from gateway.admission import admitted
from gateway.auditor import Auditor
from gateway.exchange import Exchange, guarded, request_id_of
from gateway.graphql_http import JSON
from gateway.responses import SOURCE_NAMES
from gateway.services import Services
from resolvers.core import guard
from resolvers.core.access import Subject
from resolvers.core.context import Context
from resolvers.core.errors import CategoryUnavailable, ErrorCode, GatewayError
from resolvers.core.i18n import negotiate
from resolvers.core.ids import entity_parts
from sources.documents import Download, open_binary
from sources.errors import UpstreamBadResponse, UpstreamError, UpstreamTimeout
from sources.models import Document

log = logging.getLogger("helsegraf.http")

CATEGORY = Category.DOCUMENTS
# What a download's audit records name as their operation: it has no GraphQL document to
# hash, so the route itself, the same for every download (never the id asked for).
OPERATION = "GET /documents/{id}"
_UNSAFE = re.compile(r"[^A-Za-z0-9 ._()-]+")
_NORDIC = str.maketrans({"Ø": "O", "ø": "o", "Æ": "AE", "æ": "ae"})
_EXTENSIONS = {"text/plain": ".txt", "application/pdf": ".pdf", "text/html": ".html"}


def safe_filename(title: str, content_type: str) -> str:
    """A header-safe ASCII file name for a title (accents dropped, the rest replaced)."""
    decomposed = unicodedata.normalize("NFKD", title.translate(_NORDIC))
    ascii_title = decomposed.encode("ascii", "ignore").decode()
    name = " ".join(_UNSAFE.sub(" ", ascii_title).split()).strip(" .")[:80] or "document"
    return name + _EXTENSIONS.get(content_type, "")


def _disposition(title: str, content_type: str) -> str:
    fallback = safe_filename(title, content_type)
    full = " ".join(title.replace("/", " ").replace("\\", " ").split())[:80] or "document"
    encoded = quote(full + _EXTENSIONS.get(content_type, ""), safe="")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"


async def download(request: Request) -> Response:
    """Stream one document's content to a caller who may see it; 404 to anyone else."""
    services: Services = request.app.state.services
    # Its answers depend on the caller alone: the content never, refusals always JSON.
    exchange = Exchange(request_id_of(request), JSON, vary="Authorization")
    return await guarded(
        request, exchange, services.in_flight, lambda: _serve(request, services, exchange)
    )


def _upstream_failed(exchange: Exchange, error: UpstreamError) -> Response:
    name = SOURCE_NAMES.get(error.source, f"the {error.source.lower()} service")
    if isinstance(error, UpstreamBadResponse):
        message, status = f"The document could not be read from {name}.", 502
    elif isinstance(error, UpstreamTimeout):
        message, status = f"The document could not be fetched: {name} did not answer in time.", 503
    else:
        message, status = f"The document could not be fetched: {name} is unavailable.", 503
    headers = {"retry-after": "5"} if status == 503 else None
    code = ErrorCode(error.code)
    return exchange.refuse(message, code, status, headers, source=error.source)


async def _serve(request: Request, services: Services, exchange: Exchange) -> Response:
    principal = await admitted(services, request, exchange)
    if isinstance(principal, Response):
        return principal
    context = services.context(
        principal, exchange.request_id, negotiate(request.headers.get("accept-language"))
    )
    exchange.principal = context.access.kind.value
    global_id = request.path_params["id"]
    subject: Subject | None = None
    try:
        found = await _find(context, global_id)
        if found is None:
            return await _not_found(services, context, exchange)
        subject, document = found
        assert document.content_path is not None
        opened = await open_binary(services.ehr, document.content_path, document.content_type)
    except UpstreamError as error:
        if error.code == "UPSTREAM_NOT_FOUND":
            # the record listed it, the EHR no longer has its content: absent, like any other
            guard.refused(context, subject, global_id, refusals.ITEM_UNAVAILABLE)
            return await _not_found(services, context, exchange)
        log.warning("document download failed: %s", error.code)
        if subject is not None:  # as a field's `watch` records it
            context.recorder.failed(subject.nin, subject.basis.value, CATEGORY)
        return await _failed(services, context, exchange, error)
    return await _audited(services, context, exchange, subject, document, opened)


async def _failed(
    services: Services, context: Context, exchange: Exchange, error: UpstreamError
) -> Response:
    """The upstream's failure, once what the attempt put on the record (a refusal for
    want of the registry, a failed read) is written: 503 when it cannot be."""
    if context.recorder:
        auditor = _auditor(context, exchange, services)
        if not await _recorded(auditor, context):
            return auditor.refused()
    return _upstream_failed(exchange, error)


async def _not_found(services: Services, context: Context, exchange: Exchange) -> Response:
    """404 for a document the caller may not have, the same whatever the reason: its
    refusal is written to the trail first (503 when it cannot be)."""
    auditor = _auditor(context, exchange, services)
    if not await _recorded(auditor, context):
        return auditor.refused()
    return exchange.refuse("No such document.", ErrorCode.NOT_FOUND, 404)


async def _find(context: Context, global_id: str) -> tuple[Subject, Document] | None:
    """The document and the subject it belongs to, when this viewer may see it; None
    (and the refusal recorded, with its reason) otherwise.

    The id names the person the document was listed for (see `resolvers.core.node`): only
    that person is considered, and the document must be in their record.
    """
    parts = entity_parts(global_id)
    if parts is None:
        guard.refused(context, None, global_id, refusals.MALFORMED_ID)
        return None
    type_name, source, person_key, record_id = parts
    if (type_name, source) != ("Document", "ehr"):
        guard.refused(context, None, global_id, refusals.WRONG_ID_TYPE)
        return None
    try:
        subject = await context.access.subject_by_key(person_key)  # records its own refusal
    except GatewayError:
        return None
    document, patient = await asyncio.gather(
        context.ehr.document(record_id), context.ehr.patient_id(subject.nin)
    )
    try:
        guard.require(context, subject, CATEGORY)  # records the denial, as a field does
    except CategoryUnavailable:
        return None
    if (
        document is None
        or document.content_path is None
        or patient is None
        or document.patient_id != patient
        or not guard.shown(context, subject, document.security)
    ):
        guard.refused(context, subject, global_id, refusals.ITEM_UNAVAILABLE)
        return None
    return subject, document


def _auditor(context: Context, exchange: Exchange, services: Services) -> Auditor:
    """This request's audit envelope (`gateway.auditor`)."""
    access = context.access
    return Auditor(
        services.audit, context.principal, access.kind, context.now, exchange, operation=OPERATION
    )


async def _recorded(auditor: Auditor, context: Context) -> bool:
    """True once this request's audit entries are written; False when they cannot be."""
    return await auditor.write(context.recorder.entries(**auditor.stamp()))


async def _audited(
    services: Services,
    context: Context,
    exchange: Exchange,
    subject: Subject,
    document: Document,
    opened: Download,
) -> Response:
    """Write the audit entry, then stream; without an entry, close the upstream unread."""
    guard.served(context, subject, CATEGORY, [f"EHR/DocumentReference/{document.id}"])
    auditor = _auditor(context, exchange, services)
    try:
        written = await _recorded(auditor, context)
    except BaseException:
        await opened.close()
        raise
    if not written:
        await opened.close()
        return auditor.refused()
    media = opened.content_type
    return StreamingResponse(
        opened.body,
        media_type=f"{media}; charset=utf-8" if media.startswith("text/") else media,
        headers={
            "content-disposition": _disposition(document.title, media),
            "cache-control": "no-store",
            "vary": exchange.vary,
            "x-content-type-options": "nosniff",
            "x-request-id": exchange.request_id,
        },
    )

"""`GET /documents/{id}`: a health-record document's content, streamed through the gateway.

The same bearer token as /graphql. A document the caller may not see answers exactly as
one that does not exist (404): malformed ids, other people's documents, categories the
basis does not include and items hidden by their labels alike. The audit entry is
written before the first byte of content; when it cannot be, nothing is sent.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import unicodedata
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from authz import filters
from authz.policy import Action
from gateway.access import Subject
from gateway.admission import admitted
from gateway.audit import AuditUnavailable
from gateway.context import Context
from gateway.errors import ErrorCode, GatewayError
from gateway.exchange import Exchange, guarded, request_id_of
from gateway.graphql_http import JSON
from gateway.i18n import negotiate
from gateway.ids import decode
from gateway.responses import SOURCE_NAMES
from gateway.services import Services
from sources.documents import Download, open_binary
from sources.errors import UpstreamBadResponse, UpstreamError, UpstreamTimeout
from sources.models import Document

log = logging.getLogger("helsegraf.http")

CATEGORY = "documents"
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


def _not_found(exchange: Exchange) -> Response:
    return exchange.refuse("No such document.", ErrorCode.NOT_FOUND, 404)


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
    try:
        type_name, source, key = decode(request.path_params["id"])
    except GatewayError:
        return _not_found(exchange)
    if (type_name, source) != ("Document", "ehr"):
        return _not_found(exchange)
    try:
        found = await _find(context, key)
        if found is None:
            return _not_found(exchange)
        subject, document = found
        assert document.content_path is not None
        opened = await open_binary(services.ehr, document.content_path, document.content_type)
    except UpstreamError as error:
        if error.code == "UPSTREAM_NOT_FOUND":
            return _not_found(exchange)
        log.warning("document download failed: %s", error.code)
        return _upstream_failed(exchange, error)
    return await _audited(services, context, exchange, subject, document, opened)


async def _find(context: Context, key: str) -> tuple[Subject, Document] | None:
    """The document and the subject it belongs to, when this viewer may see it.

    The id names the person the document was listed for (see `resolvers.node`): only
    that person is considered, and the document must be in their record.
    """
    person_key, dot, record_id = key.partition(".")
    if not dot:
        return None
    access = context.access
    try:
        subject = await access.subject_by_key(person_key)
    except GatewayError:
        return None
    document, patient = await asyncio.gather(
        context.ehr.document(record_id), context.ehr.patient_id(subject.nin)
    )
    if document is None or document.content_path is None or patient is None:
        return None
    if document.patient_id != patient:
        return None
    if not access.decide(subject, CATEGORY, Action.READ).allowed:
        return None
    if not filters.visible(access.policy, subject.view, document.security, now=context.now):
        return None
    return subject, document


async def _audited(
    services: Services,
    context: Context,
    exchange: Exchange,
    subject: Subject,
    document: Document,
    opened: Download,
) -> Response:
    """Write the audit entry, then stream; without an entry, close the upstream unread."""
    principal = context.principal
    context.recorder.served(
        subject.nin, subject.basis.value, CATEGORY, [f"EHR/DocumentReference/{document.id}"]
    )
    try:
        await services.audit.append(
            context.recorder.entries(
                at=context.now.astimezone(dt.UTC),
                request_id=exchange.request_id,
                actor=principal.actor_client_id or principal.nin,
                actor_kind=context.access.kind.value,
                client_id=principal.actor_client_id or principal.client_id,
            )
        )
    except AuditUnavailable:
        await opened.close()
        log.error("audit trail unavailable; withholding a document")
        return exchange.refuse(
            "The request could not be completed safely. Try again shortly.",
            ErrorCode.AUDIT_UNAVAILABLE,
            503,
            {"retry-after": "5"},
            requestId=exchange.request_id,
        )
    except BaseException:
        await opened.close()
        raise
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

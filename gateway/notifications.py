"""`POST /notifications`: upstream change notifications that end cached answers at once.

An upstream (the national portal when a power of attorney or a custody changes, the EHR
when a record changes) posts which people changed; every cached answer that touched one
of them, and every raw upstream answer about one of them, in every process, is stale from
that moment (`ResponseCache.changed` moves their generations, which both caches check).
A power of attorney concerns two people: the notification names both. The body
is signed with a shared secret (`HELSEGRAF_NOTIFICATION_SECRET`):

    POST /notifications
    x-helsegraf-signature: sha256=<hex HMAC-SHA256 of the body>
    {"events": [{"source": "national", "kind": "power-of-attorney",
                 "subjects": ["<national id>", ...]}]}

Answers: 202 `{"invalidated": n}`; 401 for a missing or wrong signature; 400 for a body
that is not such a document (never echoing it); 404 when no secret is configured. The
identity numbers are used and forgotten: never logged, never answered back.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from authz.identity import is_valid_national_id
from gateway.graphql_http import RequestError, read_body, too_large
from gateway.limits import LimitExceeded
from gateway.services import Services

log = logging.getLogger("helsegraf.notifications")

MAX_BODY = 256 * 1024
MAX_SUBJECTS = 1000
SOURCES = frozenset({"ehr", "national", "municipal"})


def signature(secret: bytes, body: bytes) -> str:
    """The signature header value for `body`."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


# Answers name how many people changed: never to be kept by any cache on the way.
_NOT_STORED = {"cache-control": "no-store"}


def _problem(status: int, message: str) -> Response:
    return JSONResponse(
        {"error": message}, status_code=status, headers={**_NOT_STORED, "content-language": "en"}
    )


def _subjects(document: Any) -> list[str] | None:
    """Every national id the document names; None when it is not a valid document."""
    events = document.get("events") if isinstance(document, dict) else None
    if not isinstance(events, list) or not events:
        return None
    out: list[str] = []
    for event in events:
        if not isinstance(event, dict) or event.get("source") not in SOURCES:
            return None
        subjects = event.get("subjects")
        if not isinstance(subjects, list) or not all(
            isinstance(s, str) and is_valid_national_id(s) for s in subjects
        ):
            return None
        out += subjects
    return out if len(out) <= MAX_SUBJECTS else None


async def notifications(request: Request) -> Response:
    """Invalidate what the notified changes make stale."""
    services: Services = request.app.state.services
    secret = services.settings.notification_secret
    if secret is None:
        return _problem(404, "Not found.")
    try:
        body = await read_body(request, MAX_BODY)  # never more than MAX_BODY in memory
    except RequestError as exc:
        return _problem(exc.status, str(exc))
    except LimitExceeded:
        status, headers = too_large(request)
        response = _problem(status, "The notification is too large.")
        response.headers.update(headers)
        return response
    sent = request.headers.get("x-helsegraf-signature", "")
    if not hmac.compare_digest(sent, signature(secret.get_secret_value().encode(), body)):
        log.warning("refused a notification with a missing or wrong signature")
        return _problem(401, "The signature is missing or wrong.")
    try:
        subjects = _subjects(orjson.loads(body))
    except orjson.JSONDecodeError:
        subjects = None
    if subjects is None:
        return _problem(
            400,
            "Send {events: [{source: ehr|national|municipal, subjects: [national id, ...]}]} "
            f"with at most {MAX_SUBJECTS} subjects.",
        )
    if services.responses is not None:
        await services.responses.changed(subjects)
    log.info("notification: %d people changed", len(set(subjects)))
    return JSONResponse({"invalidated": len(set(subjects))}, status_code=202, headers=_NOT_STORED)

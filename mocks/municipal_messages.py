"""One municipality's messaging API, for municipalities not on the shared EHR.

JSON over REST like the rest of the municipal API; the resident is named in the body:

  POST /messages/_search      {nin, unreadOnly?, pageSize?, pageToken?} -> {messages, nextPageToken}
                              newest first
  POST /messages              {nin, text, subject?, threadId?, sentBy, idempotencyKey}
                              -> 201 {message}; the same key and body again -> 200 {message}
                              (nothing sent twice); the same key with another body -> 409
  POST /messages/{id}/read    {nin} -> {message}; only messages to the resident (409 when
                              the resident wrote it); 404 for no such message of theirs

A municipality on the shared EHR keeps its messages there: every call is a 409
`messages-on-shared-ehr`. Sent messages and read marks live in memory for the life of the
app. Details never repeat a value the client sent.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mocks.population import Person
from mocks.records import Message, RecordStore
from mocks.registry import MUNICIPALITY_BY_CODE
from mocks.rest import PAGE_FIELDS, Body, JsonResponse, Problem, bad_request, read_body

MAX_TEXT = 5000
MAX_SUBJECT = 200
BASES = frozenset({"SELF", "YOUTH", "PARENT", "PROXY", "PARTNER"})
_KEY = re.compile(r"[!-~]{8,200}")
_ID = re.compile(r"[A-Za-z0-9\-]{1,64}")


class MunicipalMessages:
    """The messaging endpoints of one municipality's API."""

    def __init__(self, store: RecordStore, code: str) -> None:
        municipality = MUNICIPALITY_BY_CODE[code]
        self.store = store
        self.code = code
        self.name = municipality.name
        self.office = f"{municipality.name} kommune, helse og omsorg"
        self.shared_ehr = municipality.on_shared_ehr
        self._sent: dict[str, list[dict[str, Any]]] = {}  # nin -> messages sent here
        self._keys: dict[tuple[str, str], tuple[bytes, dict[str, Any]]] = {}
        self._read: set[str] = set()  # ids of seeded messages marked read

    # -- people and messages ---------------------------------------------------------

    def _resident(self, body: Body) -> Person:
        if self.shared_ehr:
            detail = f"{self.name} municipality keeps its messages in the shared health record."
            raise Problem(409, "messages-on-shared-ehr", "Messages are in the EHR", detail)
        person = self.store.population.by_nin(body.nin("nin"))
        if person is None or person.lives_abroad or person.address.municipality != self.code:
            detail = f"{self.name} municipality has no resident with this national identity number."
            raise Problem(404, "unknown-resident", "Unknown resident", detail)
        return person

    def _seeded(self, message: Message) -> dict[str, Any]:
        return {
            "id": message.id,
            "threadId": message.thread_id,
            "sentAt": message.sent_at.isoformat(),
            "fromResident": message.from_patient,
            "sentBy": "SELF" if message.from_patient else None,
            "subject": message.subject,
            "text": message.text,
            "read": message.read or message.id in self._read,
            "office": self.office,
            "keptFromGuardians": message.security.kept_from_guardians,
            "hidden": bool(message.security.not_shown_electronically),
        }

    def _messages(self, person: Person) -> list[dict[str, Any]]:
        seeded = [
            self._seeded(m)
            for m in self.store.record(person.nin).messages
            if m.system == "municipal"
        ]
        every = [m for m in seeded if not m.pop("hidden")] + self._sent.get(person.nin, [])
        return sorted(every, key=lambda m: (m["sentAt"], m["id"]), reverse=True)

    # -- endpoints -------------------------------------------------------------------

    async def search(self, request: Request) -> Response:
        body = await read_body(request, "nin", "unreadOnly", *PAGE_FIELDS)
        person = self._resident(body)
        unread = body.data.get("unreadOnly", False)
        if not isinstance(unread, bool):
            raise bad_request("unreadOnly must be true or false.")
        found = [
            m
            for m in self._messages(person)
            if not unread or (not m["read"] and not m["fromResident"])
        ]
        items, token = body.page(f"messages:{self.code}:{person.nin}:{unread}").take(found)
        return JsonResponse({"messages": items, "nextPageToken": token})

    async def send(self, request: Request) -> Response:
        fields = ("nin", "text", "subject", "threadId", "sentBy", "idempotencyKey")
        body = await read_body(request, *fields)
        person = self._resident(body)
        data = body.data
        key = data.get("idempotencyKey")
        if not isinstance(key, str) or not _KEY.fullmatch(key):
            raise bad_request("idempotencyKey must be 8 to 200 printable characters.")
        fingerprint = orjson.dumps(data, option=orjson.OPT_SORT_KEYS)
        earlier = self._keys.get((person.nin, key))
        if earlier is not None:
            if earlier[0] != fingerprint:
                raise Problem(
                    409,
                    "idempotency-key-reused",
                    "Idempotency key reused",
                    "idempotencyKey was used before for another message.",
                )
            return JsonResponse({"message": earlier[1]})
        message = self._new_message(person, data, key)
        self._keys[(person.nin, key)] = (fingerprint, message)
        self._sent.setdefault(person.nin, []).append(message)
        return JsonResponse({"message": message}, status_code=201)

    def _new_message(self, person: Person, data: dict[str, Any], key: str) -> dict[str, Any]:
        text, subject, thread = data.get("text"), data.get("subject"), data.get("threadId")
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
            raise bad_request(f"text must be text of 1 to {MAX_TEXT} characters.")
        if subject is not None and (
            not isinstance(subject, str) or not subject.strip() or len(subject) > MAX_SUBJECT
        ):
            raise bad_request(f"subject must be text of 1 to {MAX_SUBJECT} characters.")
        if data.get("sentBy") not in BASES:
            raise bad_request(f"sentBy must be one of {', '.join(sorted(BASES))}.")
        if thread is None:
            if subject is None:
                raise bad_request("subject is required to start a conversation.")
            thread = "mt" + _digest(f"{self.code}:{person.nin}:{key}")
        else:
            if not isinstance(thread, str) or not _ID.fullmatch(thread):
                raise bad_request("threadId must be an id from this API.")
            earlier = [m for m in self._messages(person) if m["threadId"] == thread]
            if not earlier:
                raise Problem(
                    404, "unknown-thread", "Unknown thread", "threadId names no conversation."
                )
            subject = subject or earlier[-1]["subject"]
        return {
            "id": "mm" + _digest(f"{self.code}:{person.nin}:{key}:message"),
            "threadId": thread,
            "sentAt": self.store.now().astimezone(dt.UTC).isoformat(),
            "fromResident": True,
            "sentBy": data["sentBy"],
            "subject": subject,
            "text": text,
            "read": True,
            "office": self.office,
            "keptFromGuardians": False,
        }

    async def mark_read(self, request: Request) -> Response:
        body = await read_body(request, "nin")
        person = self._resident(body)
        message_id = request.path_params["message_id"]
        found = next((m for m in self._messages(person) if m["id"] == message_id), None)
        if found is None:
            raise Problem(
                404, "unknown-message", "Unknown message", "No such message for this resident."
            )
        if found["fromResident"]:
            raise Problem(
                409,
                "not-to-resident",
                "Not a message to the resident",
                "Only messages to the resident can be marked read.",
            )
        self._read.add(message_id)
        return JsonResponse({"message": {**found, "read": True}})


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def message_routes(store: RecordStore, code: str) -> list[Route]:
    """The messaging routes of one municipality's API."""
    api = MunicipalMessages(store, code)
    return [
        Route("/messages/_search", api.search, methods=["POST"]),
        Route("/messages", api.send, methods=["POST"]),
        Route("/messages/{message_id}/read", api.mark_read, methods=["POST"]),
    ]

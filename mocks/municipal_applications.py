"""Applications for municipal care services, as one municipality's API takes them.

    POST /offerings/_search     {}                                   the services it offers
    POST /applications/_search  {nin, status?, pageSize?, pageToken?}  a resident's applications
    POST /applications          {nin, service, description, wishedStart?, contactPhone?}

Every resident with a decision has the application it decided (status `granted`, with the
`decisionId`), and some residents also have pending, rejected or withdrawn applications,
all derived from the population seed. A 12-15-year-old's pending application is kept from
their guardians (`keptFromGuardians`), as the young person asked.

Applications sent with POST are kept for the life of the app, newest first. A POST may
carry an `Idempotency-Key` header: the same key with the same body answers the first
application again (`Idempotent-Replayed: true`), never a second one; the same key with
another body is a 422 `idempotency-key-reused`. Invalid input is a 422 problem naming the
field, never repeating its value.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import re
import uuid
from collections.abc import Callable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mocks.population import OSLO, Person, Population
from mocks.rest import PAGE_FIELDS, Body, JsonResponse, Problem, read_body

SERVICES = (
    "homeNursing",
    "practicalAssistance",
    "safetyAlarm",
    "mealDelivery",
    "respiteCare",
    "nursingHome",
    "dayCentre",
)
# What each mock municipality no longer takes new applications for.
NOT_OFFERED = {"5001": frozenset({"mealDelivery"}), "5037": frozenset({"dayCentre"})}
STATUSES = ("received", "inReview", "granted", "rejected", "withdrawn")
MAX_DESCRIPTION = 2000
DECISION_DAYS = 28  # the promised time from submission to a decision
_PHONE = re.compile(r"(\+47)?\d{8}", re.ASCII)
_KEY = re.compile(r"[!-~]{8,200}", re.ASCII)
_FIELDS = ("nin", "service", "description", "wishedStart", "contactPhone")
_REASONS = {
    "homeNursing": "Trenger hjelp med medisiner og sårstell.",
    "practicalAssistance": "Trenger hjelp til rengjøring og innkjøp.",
    "safetyAlarm": "Har falt hjemme og ønsker trygghetsalarm.",
    "mealDelivery": "Klarer ikke lenger å lage middag selv.",
    "respiteCare": "Ønsker avlastning noen helger i måneden.",
    "nursingHome": "Klarer seg ikke lenger hjemme.",
    "dayCentre": "Ønsker et dagtilbud noen dager i uken.",
}

Resident = Callable[[Body], Person]
Decisions = Callable[[Person], list[dict[str, Any]]]


def invalid(field: str, detail: str, slug: str = "invalid-field") -> Problem:
    """A 422 naming `field`; `detail` says what it must be, never what it was."""
    return Problem(422, slug, "Invalid application", f"{field} {detail}")


def offered(code: str) -> list[str]:
    """The services municipality `code` takes applications for."""
    return [s for s in SERVICES if s not in NOT_OFFERED.get(code, frozenset())]


class Applications:
    """One municipality's applications: seeded ones, and those posted since start."""

    def __init__(
        self, population: Population, code: str, name: str, resident: Resident, decisions: Decisions
    ) -> None:
        self.population = population
        self.code = code
        self.unit = f"Tildelingskontoret i {name} kommune"
        self._resident = resident
        self._decisions = decisions
        self._posted: dict[str, list[dict[str, Any]]] = {}
        self._keys: dict[str, tuple[str, dict[str, Any]]] = {}

    def routes(self) -> list[Route]:
        """The routes to mount beside the municipality's other endpoints."""
        return [
            Route("/offerings/_search", self.offerings, methods=["POST"]),
            Route("/applications/_search", self.search, methods=["POST"]),
            Route("/applications", self.create, methods=["POST"]),
        ]

    def _application(
        self,
        rng: random.Random,
        service: str,
        status: str,
        submitted: dt.datetime,
        decided: dt.date | None = None,
        decision_id: str | None = None,
    ) -> dict[str, Any]:
        pending = status in ("received", "inReview")
        expected = submitted.astimezone(OSLO).date() + dt.timedelta(days=DECISION_DAYS)
        return {
            "id": f"ap-{self.code}-{rng.randrange(16**12):012x}",
            "service": service,
            "status": status,
            "submittedAt": submitted.isoformat(),
            "description": _REASONS[service],
            "wishedStart": None,
            "contactPhone": None,
            "expectedDecisionOn": expected.isoformat() if pending else None,
            "decidedOn": decided.isoformat() if decided else None,
            "decisionId": decision_id,
            "unit": self.unit,
            "keptFromGuardians": False,
        }

    def seeded(self, person: Person) -> list[dict[str, Any]]:
        """The applications a resident had before the app started, newest first."""
        rng = random.Random(f"applications:{self.population.seed}:{person.nin}")
        today = self.population.today
        out: list[dict[str, Any]] = []
        decisions = self._decisions(person)
        youth = 12 <= person.age_on(today) <= 15
        for decision in decisions:
            decided = dt.date.fromisoformat(decision["decidedOn"])
            day = decided - dt.timedelta(days=rng.randint(14, 60))
            submitted = dt.datetime.combine(day, dt.time(rng.randint(8, 20)), tzinfo=OSLO)
            out.append(
                self._application(
                    rng, decision["type"], "granted", submitted, decided, decision["id"]
                )
            )
        if decisions:
            others = [s for s in offered(self.code) if s not in {d["type"] for d in decisions}]
            for status, chance in (("inReview", 0.8), ("rejected", 0.6), ("withdrawn", 0.3)):
                if rng.random() >= chance:
                    continue
                ago = rng.randint(3, 20) if status == "inReview" else rng.randint(60, 400)
                day = today - dt.timedelta(days=ago)
                submitted = dt.datetime.combine(day, dt.time(rng.randint(8, 20)), tzinfo=OSLO)
                later = day + dt.timedelta(days=rng.randint(10, 40))
                outcome = later if status == "rejected" else None
                item = self._application(rng, rng.choice(others), status, submitted, outcome)
                item["keptFromGuardians"] = status == "inReview" and youth
                out.append(item)
        out.sort(key=lambda a: (a["submittedAt"], a["id"]), reverse=True)
        return out

    def of(self, person: Person) -> list[dict[str, Any]]:
        """Every application of a resident, newest first."""
        return [*self._posted.get(person.nin, []), *self.seeded(person)]

    async def offerings(self, request: Request) -> Response:
        body = await read_body(request, *PAGE_FIELDS)
        items, token = body.page(f"offerings:{self.code}").take(offered(self.code))
        return JsonResponse({"offerings": [{"type": s} for s in items], "nextPageToken": token})

    async def search(self, request: Request) -> Response:
        body = await read_body(request, "nin", "status", *PAGE_FIELDS)
        person = self._resident(body)
        status = body.data.get("status")
        if status is not None and status not in STATUSES:
            raise invalid("status", f"must be one of {', '.join(STATUSES)}.")
        found = [a for a in self.of(person) if status is None or a["status"] == status]
        items, token = body.page(f"applications:{self.code}:{person.nin}:{status}").take(found)
        return JsonResponse({"applications": items, "nextPageToken": token})

    def _checked(self, body: Body) -> dict[str, Any]:
        data = body.data
        service = data.get("service")
        if service not in SERVICES:
            raise invalid("service", f"must be one of {', '.join(SERVICES)}.")
        if service not in offered(self.code):
            detail = "is not a service this municipality takes applications for."
            raise invalid("service", detail, "service-not-offered")
        description = data.get("description")
        if not isinstance(description, str) or not description.strip():
            raise invalid("description", "is required: a non-blank text.")
        if len(description) > MAX_DESCRIPTION:
            raise invalid("description", f"must be at most {MAX_DESCRIPTION} characters.")
        if data.get("wishedStart") is not None:
            try:
                wished = body.optional_date("wishedStart")
            except Problem:
                raise invalid("wishedStart", "must be a date written YYYY-MM-DD.") from None
            if wished is not None and wished < self.population.today:
                raise invalid("wishedStart", "must not be in the past.")
        phone = data.get("contactPhone")
        if phone is not None and not (isinstance(phone, str) and _PHONE.fullmatch(phone)):
            raise invalid("contactPhone", "must be a Norwegian number: 8 digits, +47 optional.")
        return {name: data.get(name) for name in _FIELDS}

    async def create(self, request: Request) -> Response:
        body = await read_body(request, *_FIELDS)
        person = self._resident(body)
        fields = self._checked(body)
        key = request.headers.get("idempotency-key")
        if key is not None and not _KEY.fullmatch(key):
            detail = "must be 8 to 200 printable ASCII characters."
            raise Problem(400, "invalid-request", "Invalid request", f"Idempotency-Key {detail}")
        fingerprint = hashlib.sha256(orjson.dumps(fields, option=orjson.OPT_SORT_KEYS)).hexdigest()
        if key is not None and key in self._keys:
            first, application = self._keys[key]
            if first != fingerprint:
                detail = "was used before with another request body."
                raise invalid("Idempotency-Key", detail, "idempotency-key-reused")
            headers = {"Idempotent-Replayed": "true"}
            return JsonResponse(application, status_code=201, headers=headers)
        now = dt.datetime.now(OSLO).replace(microsecond=0)
        submitted = dt.datetime.combine(self.population.today, now.timetz())
        application = {
            **self._application(random.Random(), fields["service"], "received", submitted),
            "id": f"ap-{self.code}-{uuid.uuid4().hex[:12]}",
            "description": fields["description"],
            "wishedStart": fields["wishedStart"],
            "contactPhone": fields["contactPhone"],
        }
        self._posted.setdefault(person.nin, []).insert(0, application)
        if key is not None:
            self._keys[key] = (fingerprint, application)
        return JsonResponse(application, status_code=201)

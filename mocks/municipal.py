"""One municipality's care-services API: appointments, health-station vaccinations and
home-care decisions of its residents, as REST/JSON; applications for care services
(`mocks.municipal_applications`) and home-care visits (`mocks.home_care`) beside them.

Each app serves only people registered as living in its municipality; anyone else is an
`unknown-resident` 404 whose detail never repeats the number asked about.

Appointments carry `keptFromGuardians` (a 12-15-year-old asked to keep it from their
parents). A home visit (`Hjemmesykepleie`) takes place at the resident's home, so its
`place` is `Hjemmebesøk` with the home street, or with `street` and `city` null when the
resident lives at a confidential address (code 6 or 7).
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mocks.home_care import HomeCare
from mocks.municipal_applications import Applications
from mocks.municipal_messages import message_routes
from mocks.population import MUNICIPALITY_BY_CODE, OSLO, Person
from mocks.record_types import HOME_VISIT
from mocks.records import Appointment, RecordStore
from mocks.rest import (
    PAGE_FIELDS,
    Body,
    JsonResponse,
    Problem,
    bad_request,
    create_json_api,
    read_body,
)

_STATUS = {"booked": "booked", "fulfilled": "completed", "cancelled": "cancelled"}
_STATUS["noshow"] = "noShow"
_SERVICE_TYPES = ("homeNursing", "practicalAssistance", "safetyAlarm", "mealDelivery")


class _Municipal:
    def __init__(self, store: RecordStore, code: str) -> None:
        municipality = MUNICIPALITY_BY_CODE.get(code)
        if municipality is None:
            known = ", ".join(sorted(MUNICIPALITY_BY_CODE))
            raise ValueError(f"no mock municipality with code {code!r}; known: {known}")
        self.store = store
        self.population = store.population
        self.code = code
        self.name = municipality.name

    def _resident(self, body: Body) -> Person:
        person = self.population.by_nin(body.nin("nin"))
        if person is None or person.lives_abroad or person.address.municipality != self.code:
            detail = f"{self.name} municipality has no resident with this national identity number."
            raise Problem(404, "unknown-resident", "Unknown resident", detail)
        return person

    async def info(self, request: Request) -> Response:
        return JsonResponse({"code": self.code, "name": self.name})

    def _place(self, appointment: Appointment, person: Person) -> dict[str, Any]:
        """Where it happens: a home visit is at the resident's home, which is never
        described for a resident at a confidential address."""
        if appointment.service == HOME_VISIT:
            if person.confidential_address is not None:
                return {"name": "Hjemmebesøk", "street": None, "city": None}
            home = person.address
            return {"name": "Hjemmebesøk", "street": home.street, "city": home.city}
        place = self.store.catalogue.location_by_id[appointment.location_id]
        return {"name": place.name, "street": place.street, "city": place.city}

    def _appointment(self, appointment: Appointment, person: Person) -> dict[str, Any]:
        catalogue = self.store.catalogue
        staff = catalogue.practitioner_by_id[appointment.practitioner_id]
        end = appointment.start + dt.timedelta(minutes=appointment.minutes)
        return {
            "id": appointment.id,
            "start": appointment.start.isoformat(),
            "end": end.isoformat(),
            "status": _STATUS.get(appointment.status, appointment.status),
            "service": appointment.service,
            "place": self._place(appointment, person),
            "staff": {"name": f"{staff.given} {staff.family}", "role": staff.role},
            "video": appointment.video,
            "keptFromGuardians": appointment.security.kept_from_guardians,
        }

    async def appointments(self, request: Request) -> Response:
        body = await read_body(request, "nin", "from", "to", *PAGE_FIELDS)
        person = self._resident(body)
        start, end = body.optional_date("from"), body.optional_date("to")
        if start and end and end < start:
            raise bad_request("to must not be before from.")
        found = sorted(
            (
                a
                for a in self.store.record(person.nin).appointments
                if a.system == "municipal"
                and (start is None or a.start.astimezone(OSLO).date() >= start)
                and (end is None or a.start.astimezone(OSLO).date() <= end)
            ),
            key=lambda a: (a.start, a.id),
        )
        items, token = body.page(f"appointments:{self.code}:{person.nin}:{start}:{end}").take(found)
        return JsonResponse(
            {"appointments": [self._appointment(a, person) for a in items], "nextPageToken": token}
        )

    async def vaccinations(self, request: Request) -> Response:
        body = await read_body(request, "nin", *PAGE_FIELDS)
        person = self._resident(body)
        found = [v for v in self.store.record(person.nin).vaccinations if v.municipal]
        items, token = body.page(f"vaccinations:{self.code}:{person.nin}").take(found)
        station = f"{self.name} helsestasjon"
        shots = [
            {
                "id": v.id,
                "atc": v.atc,
                "name": v.name,
                "date": v.date.isoformat(),
                "station": station,
            }
            for v in items
        ]
        return JsonResponse({"vaccinations": shots, "nextPageToken": token})

    def _services(self, person: Person) -> list[dict[str, Any]]:
        rng = random.Random(f"services:{self.population.seed}:{person.nin}")
        today = self.population.today
        elderly = person.age_on(today) >= 67
        if rng.random() >= (0.6 if elderly else 0.03):
            return []
        kinds = rng.sample(_SERVICE_TYPES, rng.randint(1, 3 if elderly else 1))
        return [
            {
                "id": f"vd-{self.code}-{rng.randrange(16**12):012x}",
                "type": kind,
                "status": rng.choice(("granted", "granted", "granted", "ended")),
                "decidedOn": (today - dt.timedelta(days=rng.randint(10, 1500))).isoformat(),
            }
            for kind in kinds
        ]

    async def services(self, request: Request) -> Response:
        body = await read_body(request, "nin", *PAGE_FIELDS)
        person = self._resident(body)
        items, token = body.page(f"services:{self.code}:{person.nin}").take(self._services(person))
        return JsonResponse({"services": items, "nextPageToken": token})


def create_municipal_app(store: RecordStore, municipality_code: str) -> Starlette:
    """The care-services mock of one municipality; ValueError for an unknown code."""
    api = _Municipal(store, municipality_code)
    parts = (store.population, api.code, api.name, api._resident, api._services)
    return create_json_api(
        [
            Route("/info", api.info, methods=["GET"]),
            Route("/appointments/_search", api.appointments, methods=["POST"]),
            Route("/vaccinations/_search", api.vaccinations, methods=["POST"]),
            Route("/services/_search", api.services, methods=["POST"]),
            *message_routes(store, municipality_code),
            *Applications(*parts).routes(),
            *HomeCare(*parts).routes(),
        ]
    )

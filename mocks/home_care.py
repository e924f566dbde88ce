"""Home-care visits, as one municipality's API lists them.

    POST /home-care/visits/_search  {nin, from?, to?, pageSize?, pageToken?}

A resident with a granted home-nursing decision gets a morning visit every day, one with
granted practical assistance a visit every week, from three weeks back to three weeks
ahead of the population's reference day. Past visits are `done`, today's and later ones
`planned`, and a few of either are `cancelled`; all derived from the population seed.
A visit names the team, never a member of staff, and never the home's address.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mocks.population import OSLO, Person, Population
from mocks.rest import PAGE_FIELDS, Body, JsonResponse, bad_request, read_body

WINDOW_DAYS = 21
TASKS = {
    "homeNursing": ("medication", "woundCare", "personalCare", "healthCheck"),
    "practicalAssistance": ("cleaning", "laundry", "shopping"),
}
# (first hour, length in hours) of the visit window
_SLOTS = {"homeNursing": (8, 1), "practicalAssistance": (10, 2)}

Resident = Callable[[Body], Person]
Decisions = Callable[[Person], list[dict[str, Any]]]


class HomeCare:
    """One municipality's home-care visits."""

    def __init__(
        self, population: Population, code: str, name: str, resident: Resident, decisions: Decisions
    ) -> None:
        self.population = population
        self.code = code
        self.team = f"Hjemmetjenesten i {name}"
        self._resident = resident
        self._decisions = decisions

    def routes(self) -> list[Route]:
        """The routes to mount beside the municipality's other endpoints."""
        return [Route("/home-care/visits/_search", self.search, methods=["POST"])]

    def visits(self, person: Person) -> list[dict[str, Any]]:
        """Every visit of a resident in the window, in time order."""
        granted = {d["type"] for d in self._decisions(person) if d["status"] == "granted"}
        today = self.population.today
        rng = random.Random(f"home-care:{self.population.seed}:{person.nin}")
        weekday = rng.randrange(5)
        out: list[dict[str, Any]] = []
        for offset in range(-WINDOW_DAYS, WINDOW_DAYS + 1):
            day = today + dt.timedelta(days=offset)
            for service in sorted(granted & set(TASKS)):
                if service == "practicalAssistance" and day.weekday() != weekday:
                    continue
                hour, hours = _SLOTS[service]
                start = dt.datetime.combine(day, dt.time(hour), tzinfo=OSLO)
                status = "done" if day < today else "planned"
                if rng.random() < 0.06:
                    status = "cancelled"
                tasks = rng.sample(TASKS[service], rng.randint(1, 2))
                out.append(
                    {
                        "id": f"hv-{self.code}-{rng.randrange(16**12):012x}",
                        "service": service,
                        "start": start.isoformat(),
                        "end": (start + dt.timedelta(hours=hours)).isoformat(),
                        "status": status,
                        "tasks": [t for t in TASKS[service] if t in tasks],
                        "team": self.team,
                    }
                )
        return out

    async def search(self, request: Request) -> Response:
        body = await read_body(request, "nin", "from", "to", *PAGE_FIELDS)
        person = self._resident(body)
        start, end = body.optional_date("from"), body.optional_date("to")
        if start and end and end < start:
            raise bad_request("to must not be before from.")
        found = [
            v
            for v in self.visits(person)
            if (start is None or dt.date.fromisoformat(v["start"][:10]) >= start)
            and (end is None or dt.date.fromisoformat(v["start"][:10]) <= end)
        ]
        items, token = body.page(f"visits:{self.code}:{person.nin}:{start}:{end}").take(found)
        return JsonResponse({"visits": items, "nextPageToken": token})

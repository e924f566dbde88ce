"""Helpers for the appointment tests: queries, ids, the mock's own view of the data."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx

from gateway.app import create_app
from mocks.app import MockUpstreams
from mocks.fhir.appointments import held
from mocks.records import Appointment as HeldAppointment
from resolvers.core.ids import encode
from tests.conftest import REFERENCE_DAY
from tests.e2e.conftest import NOON, Harness, gateway_settings

FIELDS = """
  id start status kind service isVideo canCancel canCheckIn rescheduleRequested
  source { kind municipality }
  video { opensAt state stateText joinUrl canJoin }
"""
LIST = f"""
query($id: ID!, $filter: AppointmentFilter, $first: Int = 100, $after: String) {{
  person(id: $id) {{
    appointments(first: $first, after: $after, filter: $filter) {{
      totalCount pageInfo {{ hasNextPage endCursor }} edges {{ cursor node {{ {FIELDS} }} }}
    }}
  }}
}}
"""
NODE = f"query($id: ID!) {{ node(id: $id) {{ ... on Appointment {{ {FIELDS} }} }} }}"
PAYLOAD = f"appointment {{ {FIELDS} }} userErrors {{ field code message }}"
CANCEL = f"""mutation($input: CancelAppointmentInput!) {{
  cancelAppointment(input: $input) {{ {PAYLOAD} }} }}"""
RESCHEDULE = f"""mutation($input: RequestRescheduleInput!) {{
  requestReschedule(input: $input) {{ {PAYLOAD} }} }}"""
CHECK_IN = f"""mutation($input: CheckInInput!) {{ checkIn(input: $input) {{ {PAYLOAD} }} }}"""
BOOK = f"""mutation($input: BookAppointmentInput!) {{
  bookAppointment(input: $input) {{ {PAYLOAD} }} }}"""


def person_id(harness: Harness, persona: str) -> str:
    return harness.app_services.ids.person_id(harness.mocks.population.persona(persona).nin)


def held_by(harness: Harness, persona: str) -> list[tuple[HeldAppointment, str | None]]:
    """The appointments the mock EHR holds for a persona, with the municipality running each."""
    person = harness.mocks.population.persona(persona)
    store = harness.mocks.store
    return held(person, store.record(person.nin), store.catalogue, store.population.today)


def appointment_id(harness: Harness, persona: str, item: HeldAppointment) -> str:
    """The global id the gateway gives an EHR appointment of `persona`."""
    person = harness.mocks.population.persona(persona)
    key = harness.app_services.ids.person_key(person.nin)
    return encode("Appointment", "ehr", f"{key}.{person.fhir_id}-{item.id}")


async def listing(
    harness: Harness, viewer: str, target: str, filter: dict[str, Any] | None = None, **claims: Any
) -> dict[str, Any]:
    variables: dict[str, Any] = {"id": person_id(harness, target)}
    if filter is not None:
        variables["filter"] = filter
    body: dict[str, Any] = (await harness.query(viewer, LIST, variables, **claims)).json()
    return body


def nodes(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [e["node"] for e in body["data"]["person"]["appointments"]["edges"]]


async def mutate(
    harness: Harness,
    viewer: str,
    document: str,
    headers: dict[str, str] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = (
        await harness.query(viewer, document, {"input": fields}, headers=headers)
    ).json()
    assert "errors" not in body, body["errors"]
    payload: dict[str, Any] = next(iter(body["data"].values()))
    return payload


def today_at(hour: int, minute: int = 0) -> dt.datetime:
    return NOON.replace(hour=hour, minute=minute)


def clock_at(hour: int, minute: int = 0) -> Callable[[], dt.datetime]:
    """A gateway clock standing at this time on the reference day."""
    return lambda: today_at(hour, minute)


@asynccontextmanager
async def harness_at(
    clock: Callable[[], dt.datetime] = lambda: NOON, **overrides: Any
) -> AsyncIterator[Harness]:
    """A gateway whose clock (and settings) the test chooses, against fresh mocks."""
    mocks = MockUpstreams(size=200, today=REFERENCE_DAY, clock=clock)
    transport = httpx.ASGITransport(app=mocks.asgi())
    app = create_app(gateway_settings(mocks, **overrides), transport=transport, clock=clock)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway.test"
    ) as client:
        yield Harness(mocks, client, app.state.services)
        await app.state.services.aclose()

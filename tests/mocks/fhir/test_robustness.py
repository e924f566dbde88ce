"""Whatever query arrives, the mock answers with a Bundle or an OperationOutcome."""

from __future__ import annotations

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette

from mocks.population import Population
from tests.mocks.fhir.fhirtest import BASE, validate

NAMES = st.sampled_from(
    [
        "_id",
        "patient",
        "subject",
        "date",
        "sent",
        "status",
        "status:not",
        "category",
        "code",
        "identifier",
        "patient-read",
        "_count",
        "_sort",
        "_include",
        "_summary",
        "_elements",
        "_page",
        "_total",
        "_format",
        "date:missing",
        "whatever",
    ]
)
VALUES = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        ["ge2026-11-23", "2026-11", "-date", "count", "true", "laboratory", "0", "x|y"]
    ),
)
TYPES = st.sampled_from(["Patient", "Appointment", "Communication", "Observation", "Location"])


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(type_=TYPES, pairs=st.lists(st.tuples(NAMES, VALUES), max_size=5), strict=st.booleans())
async def test_arbitrary_queries_answer_with_fhir(
    fhir_app: Starlette,
    population: Population,
    type_: str,
    pairs: list[tuple[str, str]],
    strict: bool,
) -> None:
    params: list[tuple[str, str | int | float | bool | None]] = [
        ("patient", population.persona("kari").fhir_id),
        *pairs,
    ]
    headers = {"Prefer": "handling=strict"} if strict else {}
    transport = httpx.ASGITransport(app=fhir_app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
        response = await client.get(f"/{type_}", params=params, headers=headers)
    assert response.status_code in (200, 400, 406)
    body = response.json()
    validate(body)
    expected = "Bundle" if response.status_code == 200 else "OperationOutcome"
    assert body["resourceType"] == expected

"""Date search: prefixes, partial dates, day edges, repeated parameters, bad values."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from urllib.parse import quote

import httpx
import pytest

from mocks.fhir.appointments import held_items
from mocks.fhir.dates import parse_date_search
from mocks.fhir.model import Span
from mocks.fhir.outcome import FhirError
from mocks.population import OSLO, Population
from mocks.records import Appointment, RecordStore
from tests.mocks.fhir.fhirtest import fetch, matches

Inside = Callable[[dt.datetime, dt.datetime, dt.datetime], bool]  # (lo, hi, start)
MIDNIGHT = dt.datetime(2026, 11, 23, tzinfo=OSLO)
LAST_SECOND = dt.datetime(2026, 11, 23, 23, 59, 59, tzinfo=OSLO)


def hits(search: str, at: dt.datetime) -> bool:
    prefix, span = parse_date_search("date", search)
    return prefix(span, Span.instant(at))


@pytest.mark.parametrize(
    ("search", "at", "expected"),
    [
        pytest.param("2026-11-23", MIDNIGHT, True, id="eq-day-holds-its-first-second"),
        pytest.param("2026-11-23", LAST_SECOND, True, id="eq-day-holds-its-last-second"),
        pytest.param("eq2026-11-22", MIDNIGHT, False, id="eq-day-before-misses-midnight"),
        pytest.param("ne2026-11-23", MIDNIGHT, False, id="ne-day-excludes-the-day"),
        pytest.param("ne2026-11-22", MIDNIGHT, True, id="ne-other-day-matches"),
        pytest.param("lt2026-11-23", MIDNIGHT, False, id="lt-day-excludes-its-midnight"),
        pytest.param("lt2026-11-24", LAST_SECOND, True, id="lt-next-day-holds-last-second"),
        pytest.param("le2026-11-23", LAST_SECOND, True, id="le-day-includes-the-day"),
        pytest.param("le2026-11-22", MIDNIGHT, False, id="le-day-before-excludes-next-midnight"),
        pytest.param("gt2026-11-22", MIDNIGHT, True, id="gt-day-before-holds-midnight"),
        pytest.param("gt2026-11-23", LAST_SECOND, False, id="gt-day-excludes-the-day"),
        pytest.param("ge2026-11-23", MIDNIGHT, True, id="ge-day-includes-midnight"),
        pytest.param("ge2026-11-24", LAST_SECOND, False, id="ge-next-day-excludes-last-second"),
        pytest.param("sa2026-11-22", MIDNIGHT, True, id="sa-day-before-holds-midnight"),
        pytest.param("sa2026-11-23", LAST_SECOND, False, id="sa-day-excludes-the-day"),
        pytest.param("eb2026-11-24", LAST_SECOND, True, id="eb-next-day-holds-last-second"),
        pytest.param("eb2026-11-23", LAST_SECOND, False, id="eb-day-excludes-the-day"),
        pytest.param("2026", LAST_SECOND, True, id="year-holds-its-days"),
        pytest.param("eq2025", MIDNIGHT, False, id="other-year-misses"),
        pytest.param("2026-11", MIDNIGHT, True, id="month-holds-its-days"),
        pytest.param("lt2026-12", LAST_SECOND, True, id="lt-next-month"),
        pytest.param("ge2026-12", LAST_SECOND, False, id="ge-next-month-excludes"),
        pytest.param("2026-11-22T23:00:00Z", MIDNIGHT, True, id="utc-instant-equals-oslo-midnight"),
        pytest.param("ge2026-11-23T00:00:01+01:00", MIDNIGHT, False, id="ge-one-second-later"),
        pytest.param("le2026-11-23T00:00", MIDNIGHT, True, id="minute-precision-without-zone"),
        pytest.param("ap2026-11-23", LAST_SECOND, True, id="ap-overlaps"),
    ],
)
def test_prefix_semantics_at_the_edges(search: str, at: dt.datetime, expected: bool) -> None:
    assert hits(search, at) is expected


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("2026-13", id="month-13"),
        pytest.param("2026-02-30", id="february-30"),
        pytest.param("2026-11-23T25:00", id="hour-25"),
        pytest.param("2026-11-23T10:00+15:00", id="offset-out-of-range"),
        pytest.param("xx2026-11-23", id="unknown-prefix"),
        pytest.param("26-11-23", id="two-digit-year"),
        pytest.param("today", id="word"),
        pytest.param("", id="empty"),
    ],
)
def test_malformed_dates_are_refused_naming_the_parameter(value: str) -> None:
    with pytest.raises(FhirError) as refused:
        parse_date_search("date", value)
    assert refused.value.status == 400
    assert "'date'" in refused.value.diagnostics


def _held(records: RecordStore, nin: str) -> list[Appointment]:
    person = records.population.by_nin(nin)
    assert person is not None
    return held_items(records, person)


def oracle(records: RecordStore, nin: str, lo: dt.datetime, hi: dt.datetime) -> dict[str, bool]:
    """For each EHR appointment id: is its start within [lo, hi)?"""
    return {a.id: lo <= a.start < hi for a in _held(records, nin)}


@pytest.mark.parametrize("persona", ["kari", "ola", "per"])
@pytest.mark.parametrize(
    ("prefix", "inside"),
    [
        pytest.param("eq", lambda lo, hi, t: lo <= t < hi, id="eq"),
        pytest.param("ne", lambda lo, hi, t: not lo <= t < hi, id="ne"),
        pytest.param("lt", lambda lo, hi, t: t < lo, id="lt"),
        pytest.param("le", lambda lo, hi, t: t < hi, id="le"),
        pytest.param("gt", lambda lo, hi, t: t >= hi, id="gt"),
        pytest.param("ge", lambda lo, hi, t: t >= lo, id="ge"),
        pytest.param("sa", lambda lo, hi, t: t >= hi, id="sa"),
        pytest.param("eb", lambda lo, hi, t: t < lo, id="eb"),
    ],
)
async def test_appointment_date_search_agrees_with_the_records(
    client: httpx.AsyncClient,
    population: Population,
    records: RecordStore,
    persona: str,
    prefix: str,
    inside: Inside,
) -> None:
    person = population.persona(persona)
    ehr = held_items(records, person)
    assert ehr
    for anchor in ehr:
        day = anchor.start.date()
        lo = dt.datetime(day.year, day.month, day.day, tzinfo=OSLO)
        hi = lo + dt.timedelta(days=1)
        bundle = await fetch(
            client, "/Appointment", patient=person.fhir_id, date=f"{prefix}{day.isoformat()}"
        )
        expected = {f"{person.fhir_id}-{a.id}" for a in ehr if inside(lo, hi, a.start)}
        assert set(matches(bundle)) == expected


async def test_exact_instant_with_unencoded_plus_in_the_offset(
    client: httpx.AsyncClient, population: Population, records: RecordStore
) -> None:
    person = population.persona("kari")
    first = held_items(records, person)[0]
    wanted = f"{person.fhir_id}-{first.id}"
    stamp = first.start.isoformat()  # e.g. 2026-12-23T11:15:00+01:00
    assert "+" in stamp
    for prefix, expected in (
        ("eq", True),
        ("le", True),
        ("ge", True),
        ("lt", False),
        ("gt", False),
    ):
        # a raw '+' decodes to a space; the server reads it back as the offset sign
        response = await client.get(f"/Appointment?patient={person.fhir_id}&date={prefix}{stamp}")
        assert response.status_code == 200
        assert (wanted in matches(response.json())) is expected, prefix
        encoded = await fetch(
            client, f"/Appointment?patient={person.fhir_id}&date={quote(prefix + stamp)}"
        )
        assert (wanted in matches(encoded)) is expected, prefix


async def test_repeated_date_parameters_are_and_ed(
    client: httpx.AsyncClient, population: Population, records: RecordStore
) -> None:
    person = population.persona("kari")
    ehr = held_items(records, person)
    starts = sorted(a.start for a in ehr)
    lo, hi = starts[0].date(), starts[-1].date()
    response = await client.get(
        "/Appointment",
        params=[("patient", person.fhir_id), ("date", f"ge{lo}"), ("date", f"le{hi}")],
    )
    assert len(matches(response.json())) == len(ehr)
    response = await client.get(
        "/Appointment",
        params=[("patient", person.fhir_id), ("date", f"gt{hi}"), ("date", f"lt{lo}")],
    )
    assert response.json()["total"] == 0


async def test_a_comma_list_of_dates_is_or_ed(
    client: httpx.AsyncClient, population: Population, records: RecordStore
) -> None:
    person = population.persona("ola")
    ehr = held_items(records, person)
    days = sorted({a.start.date() for a in ehr})[:2]
    bundle = await fetch(
        client, "/Appointment", patient=person.fhir_id, date=",".join(d.isoformat() for d in days)
    )
    assert len(matches(bundle)) == sum(a.start.date() in days for a in ehr) > 0

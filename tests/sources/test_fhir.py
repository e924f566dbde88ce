"""The lenient FHIR value readers every EHR module shares, and how a record parser
treats a value they cannot read."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from sources import fhir
from sources.errors import UpstreamBadResponse
from sources.fhir_appointments import appointment


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-03-01T08:30:00+01:00", dt.datetime(2026, 3, 1, 7, 30, tzinfo=dt.UTC)),
        ("2026-03-01T08:30:00Z", dt.datetime(2026, 3, 1, 8, 30, tzinfo=dt.UTC)),
        ("2026-03-01T08:30:00", dt.datetime(2026, 3, 1, 8, 30, tzinfo=dt.UTC)),
        (None, None),
        ("", None),
        ("not a time", None),
        (20260301, None),
    ],
)
def test_when_reads_instants_and_refuses_what_is_not_one(value: Any, expected: Any) -> None:
    assert fhir.when(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-03-01", dt.date(2026, 3, 1)),
        ("2026-03-01T23:30:00-05:00", dt.date(2026, 3, 1)),
        ("2026-13-01", None),
        (None, None),
        (["2026-03-01"], None),
    ],
)
def test_day_is_the_date_as_written(value: Any, expected: Any) -> None:
    assert fhir.day(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"reference": "Practitioner/p-1"}, "p-1"),
        ({"reference": "Location/l-1"}, None),
        ({"reference": "PractitionerRole/r-1"}, None),
        ({"display": "Dr. Nobody"}, None),
        ("Practitioner/p-1", None),
        (None, None),
    ],
)
def test_ref_id_takes_only_a_reference_to_the_named_type(value: Any, expected: Any) -> None:
    assert fhir.ref_id(value, "Practitioner") == expected


def test_an_appointment_with_an_unreadable_start_is_a_bad_upstream_response() -> None:
    resource = {"resourceType": "Appointment", "id": "a-1", "status": "booked", "start": "soon"}
    with pytest.raises(UpstreamBadResponse):
        appointment(resource)


def test_an_appointment_names_its_practitioner_and_location_from_the_actors() -> None:
    resource = {
        "resourceType": "Appointment",
        "id": "a-1",
        "status": "booked",
        "start": "2026-03-01T08:30:00Z",
        "participant": [
            {"actor": {"display": "Kari"}, "status": "accepted"},
            {"actor": {"reference": "Location/l-9"}, "status": "accepted"},
            {"actor": {"reference": "Practitioner/p-3"}, "status": "accepted"},
        ],
    }
    record = appointment(resource)
    assert (record.practitioner_id, record.location_id) == ("p-3", "l-9")

"""The mock registry's own identity numbers are valid by the gateway's own rules."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authz.identity import is_valid_national_id
from authz.identity import parse_national_id as gateway_parse
from mocks import identity as registry
from mocks.population import Population


@given(
    born=st.dates(dt.date(1900, 1, 1), dt.date(2039, 12, 31)),
    serial=st.integers(0, 10_000),
    female=st.booleans(),
)
def test_every_generated_number_is_valid_for_the_gateway(
    born: dt.date, serial: int, female: bool
) -> None:
    nin = registry.synthetic_national_id(born, serial, female=female)
    parsed = gateway_parse(nin)
    assert parsed.birth_date == born
    assert parsed.synthetic
    assert not parsed.d_number
    assert (int(nin[6:9]) % 2 == 0) == female
    assert registry.parse_national_id(nin) == born


def test_every_persona_and_generated_person_is_valid_for_the_gateway() -> None:
    population = Population(size=2000, today=dt.date(2026, 11, 23))
    assert population.persona_keys
    for person in population:
        assert gateway_parse(person.nin).birth_date == person.birth_date


def _accepted(value: str) -> bool:
    try:
        registry.parse_national_id(value)
    except registry.InvalidNationalId:
        return False
    return True


@st.composite
def _candidates(draw: st.DrawFn) -> str:
    """11 digits shaped like a number (any day/month offset, any century) with, mostly,
    control digits that match, so acceptance and every kind of refusal both occur."""
    day = draw(st.integers(0, 71))
    month = draw(st.integers(0, 92))
    head = f"{day:02d}{month:02d}{draw(st.integers(0, 99)):02d}{draw(st.integers(0, 999)):03d}"
    control = registry.control_digits(head)
    if control is None or draw(st.integers(0, 4)) == 0:
        control = f"{draw(st.integers(0, 99)):02d}"
    return head + control


@given(_candidates() | st.text(alphabet="0123456789", min_size=10, max_size=12))
def test_the_registry_and_the_gateway_accept_the_same_numbers(value: str) -> None:
    assert _accepted(value) == is_valid_national_id(value)


@pytest.mark.parametrize("value", ["1234567890", "1234567890a", "26878118863"])
def test_malformed_numbers_are_refused_without_echoing_them(value: str) -> None:
    with pytest.raises(registry.InvalidNationalId) as refused:
        registry.parse_national_id(value)
    assert value not in str(refused.value)

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authz.identity import (
    InvalidNationalId,
    is_valid_national_id,
    parse_national_id,
    synthetic_national_id,
)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        pytest.param("1234567890", "exactly 11 digits", id="too-short"),
        pytest.param("123456789012", "exactly 11 digits", id="too-long"),
        pytest.param("1234567890a", "exactly 11 digits", id="letters"),
        pytest.param("١٢٣٤٥٦٧٨٩٠١", "exactly 11 digits", id="non-ascii-digits"),
        pytest.param("26878118863", "check digits", id="wrong-second-check-digit"),
        pytest.param("32818118862", "check digits", id="wrong-first-check-digit"),
    ],
)
def test_malformed_numbers_are_refused_with_a_reason(value: str, reason: str) -> None:
    with pytest.raises(InvalidNationalId, match=reason) as caught:
        parse_national_id(value)
    assert value not in str(caught.value)


def test_synthetic_number_decodes_to_its_birth_date() -> None:
    born = dt.date(1981, 7, 26)
    nin = synthetic_national_id(born, 5, female=True)
    parsed = parse_national_id(nin)
    assert parsed.birth_date == born
    assert parsed.synthetic
    assert not parsed.d_number
    assert int(nin[8]) % 2 == 0  # third individual digit even: female


def test_d_number_adds_four_to_the_first_digit() -> None:
    nin = synthetic_national_id(dt.date(1990, 3, 12), 11, female=False)
    head = str(int(nin[0]) + 4) + nin[1:9]
    from authz.identity import check_digits

    digits = check_digits(head)
    assert digits is not None
    parsed = parse_national_id(head + digits)
    assert parsed.d_number
    assert parsed.birth_date == dt.date(1990, 3, 12)


def test_repr_never_shows_the_number() -> None:
    nin = synthetic_national_id(dt.date(2001, 1, 2), 0, female=True)
    assert nin not in repr(parse_national_id(nin))
    assert nin not in str(parse_national_id(nin))


@given(
    born=st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2039, 12, 31)),
    serial=st.integers(min_value=0, max_value=10_000),
    female=st.booleans(),
)
def test_every_generated_number_is_valid(born: dt.date, serial: int, female: bool) -> None:
    nin = synthetic_national_id(born, serial, female=female)
    assert parse_national_id(nin).birth_date == born


@given(st.text(max_size=14))
def test_validation_never_crashes_on_arbitrary_text(value: str) -> None:
    assert is_valid_national_id(value) in (True, False)

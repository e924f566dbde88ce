"""The mock registry's own national identity numbers (fødselsnummer, D-number, synthetic).

A real population registry issues and checks its numbers itself; so does this one, without
borrowing the gateway's rules. Numbers are 11 digits: birth date (day + 40 for a
D-number, month + 80 for a synthetic test number), a three-digit individual number (even
for women, odd for men, its range giving the century) and two mod-11 control digits.
Errors never repeat the number they refused.
"""

from __future__ import annotations

import datetime as dt

_FIRST_WEIGHTS = (3, 7, 6, 1, 8, 9, 4, 5, 2)
_SECOND_WEIGHTS = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)


class InvalidNationalId(ValueError):
    """A string that is not a well-formed national identity number."""


def _control(digits: list[int], weights: tuple[int, ...]) -> int | None:
    """One mod-11 control digit, or None where the rule has none (remainder 10)."""
    remainder = 11 - sum(d * w for d, w in zip(digits, weights, strict=True)) % 11
    return {11: 0, 10: None}.get(remainder, remainder)


def control_digits(first_nine: str) -> str | None:
    """The two control digits that complete nine leading digits, or None if none exist."""
    digits = [int(c) for c in first_nine]
    first = _control(digits, _FIRST_WEIGHTS)
    if first is None:
        return None
    second = _control([*digits, first], _SECOND_WEIGHTS)
    return None if second is None else f"{first}{second}"


def _century(year2: int, individual: int) -> int | None:
    """The century the individual number's range places a two-digit year in, if any."""
    if individual <= 499:
        return 1900
    if individual <= 749 and year2 >= 54:
        return 1800
    if individual >= 500 and year2 <= 39:
        return 2000
    if individual >= 900 and year2 >= 40:
        return 1900
    return None


def parse_national_id(value: str) -> dt.date:
    """The birth date `value` encodes, if it is a well-formed number; else InvalidNationalId.

    Accepts ordinary numbers, D-numbers, synthetic (month + 80) and older test (month + 40)
    series.
    """
    if len(value) != 11 or not value.isascii() or not value.isdigit():
        raise InvalidNationalId("a national identity number has exactly 11 digits")
    if control_digits(value[:9]) != value[9:]:
        raise InvalidNationalId("the check digits of the national identity number do not match")
    day, month, year2 = int(value[0:2]), int(value[2:4]), int(value[4:6])
    if day > 40:
        day -= 40
    if month > 80:
        month -= 80
    elif month > 40:
        month -= 40
    century = _century(year2, int(value[6:9]))
    if century is None:
        raise InvalidNationalId("the national identity number encodes no valid birth year")
    try:
        return dt.date(century + year2, month, day)
    except ValueError:
        raise InvalidNationalId("the national identity number encodes no valid date") from None


def synthetic_national_id(birth_date: dt.date, serial: int, *, female: bool) -> str:
    """A synthetic (month + 80) number for a birth date; `serial` picks among many.

    Walks the individual numbers of the birth year's range from `serial` onwards (skipping
    the other sex's parity) until the control digits exist, so every (birth date, serial)
    pair yields a number; serials more than a few apart yield different numbers.
    """
    year = birth_date.year
    if 1900 <= year <= 1999:
        low, high = 0, 499
    elif 2000 <= year <= 2039:
        low, high = 500, 999
    else:
        raise ValueError("synthetic numbers are generated for births 1900-2039 only")
    span = high - low + 1
    head = f"{birth_date.day:02d}{birth_date.month + 80:02d}{year % 100:02d}"
    for step in range(span):
        individual = low + (serial + step) % span
        if (individual % 2 == 0) != female:
            continue
        first_nine = f"{head}{individual:03d}"
        control = control_digits(first_nine)
        if control is not None:
            return first_nine + control
    raise ValueError("no valid identity number exists for this birth date and sex")

"""Norwegian national identity numbers (fødselsnummer, D-number, synthetic test numbers).

Pure functions: validation never echoes the number it refused.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

_W1 = (3, 7, 6, 1, 8, 9, 4, 5, 2)
_W2 = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)


class InvalidNationalId(ValueError):
    """A string that is not a well-formed national identity number."""


def _check_digit(digits: tuple[int, ...] | list[int], weights: tuple[int, ...]) -> int | None:
    rest = 11 - sum(d * w for d, w in zip(digits, weights, strict=True)) % 11
    if rest == 11:
        return 0
    if rest == 10:
        return None
    return rest


def check_digits(first_nine: str) -> str | None:
    """The two mod-11 check digits for nine leading digits, or None if none exist."""
    digits = [int(c) for c in first_nine]
    k1 = _check_digit(digits, _W1)
    if k1 is None:
        return None
    k2 = _check_digit([*digits, k1], _W2)
    if k2 is None:
        return None
    return f"{k1}{k2}"


@dataclass(frozen=True, slots=True)
class NationalId:
    """A validated national identity number with its decoded birth date."""

    value: str
    birth_date: dt.date
    d_number: bool
    synthetic: bool

    def __repr__(self) -> str:  # never print the number itself
        return "NationalId(<redacted>)"

    __str__ = __repr__


def _century(year2: int, individual: int) -> int | None:
    if individual <= 499:
        return 1900
    if individual <= 749 and year2 >= 54:
        return 1800
    if individual >= 500 and year2 <= 39:
        return 2000
    if individual >= 900 and year2 >= 40:
        return 1900
    return None


def parse_national_id(value: str) -> NationalId:
    """Validate an 11-digit identity number (ordinary, D-number or synthetic +80 month)."""
    if len(value) != 11 or not value.isascii() or not value.isdigit():
        raise InvalidNationalId("a national identity number has exactly 11 digits")
    if check_digits(value[:9]) != value[9:]:
        raise InvalidNationalId("the check digits of the national identity number do not match")
    day, month, year2 = int(value[0:2]), int(value[2:4]), int(value[4:6])
    individual = int(value[6:9])
    d_number = day > 40
    if d_number:
        day -= 40
    synthetic = month > 80
    if synthetic:
        month -= 80
    elif month > 40:  # H-numbers and older test series
        month -= 40
    century = _century(year2, individual)
    if century is None:
        raise InvalidNationalId("the national identity number encodes no valid birth year")
    try:
        born = dt.date(century + year2, month, day)
    except ValueError:
        raise InvalidNationalId("the national identity number encodes no valid date") from None
    return NationalId(value=value, birth_date=born, d_number=d_number, synthetic=synthetic)


def is_valid_national_id(value: str) -> bool:
    """True when `value` parses as a national identity number."""
    try:
        parse_national_id(value)
    except InvalidNationalId:
        return False
    return True


def synthetic_national_id(birth_date: dt.date, serial: int, *, female: bool) -> str:
    """A synthetic (month + 80) identity number for a birth date; `serial` picks among many.

    Tries individual numbers from `serial` onwards until the check digits exist, so every
    (birth date, serial) pair yields a number; different serials yield different numbers
    as long as they are more than a few apart.
    """
    year = birth_date.year
    if 1900 <= year <= 1999:
        lo, hi = 0, 499
    elif 2000 <= year <= 2039:
        lo, hi = 500, 999
    else:
        raise ValueError("synthetic numbers are generated for births 1900-2039 only")
    span = hi - lo + 1
    head = f"{birth_date.day:02d}{birth_date.month + 80:02d}{year % 100:02d}"
    for step in range(span):
        individual = lo + (serial + step) % span
        if (individual % 2 == 0) != female:
            continue
        first_nine = f"{head}{individual:03d}"
        digits = check_digits(first_nine)
        if digits is not None:
            return first_nine + digits
    raise ValueError("no valid identity number exists for this birth date and sex")

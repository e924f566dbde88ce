"""FHIR date search: partial dates and instants as ranges, and the eight prefixes.

A search value such as `2026`, `2026-11`, `2026-11-23` or `2026-11-23T10:00:00+01:00`
is the range it covers (values without a timezone are read in Europe/Oslo); each
resource value is a range too. Prefixes compare the two ranges as R4 defines them
(https://hl7.org/fhir/R4/search.html#prefix), with `ap` read as "overlaps".
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from mocks.fhir.model import Span
from mocks.fhir.outcome import invalid
from mocks.population import OSLO

_VALUE = re.compile(
    r"(?P<year>\d{4})(?:-(?P<month>\d{2})(?:-(?P<day>\d{2})"
    r"(?:T(?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.(?P<fraction>\d{1,9}))?)?"
    r"(?P<tz>Z|[+-]\d{2}:\d{2})?)?)?)?"
)

DatePredicate = Callable[[Span, Span], bool]  # (search range, target range)


def _eq(s: Span, t: Span) -> bool:
    return s.lo <= t.lo and t.hi <= s.hi


PREFIXES: dict[str, DatePredicate] = {
    "eq": _eq,
    "ne": lambda s, t: not _eq(s, t),
    "gt": lambda s, t: t.hi > s.hi,
    "lt": lambda s, t: t.lo < s.lo,
    "ge": lambda s, t: t.hi > s.hi or _eq(s, t),
    "le": lambda s, t: t.lo < s.lo or _eq(s, t),
    "sa": lambda s, t: t.lo >= s.hi,
    "eb": lambda s, t: t.hi <= s.lo,
    "ap": lambda s, t: t.lo < s.hi and s.lo < t.hi,
}


def parse_date_search(param: str, raw: str) -> tuple[DatePredicate, Span]:
    """The prefix test and the range of one date search value; 400 when malformed."""
    prefix = raw[:2] if raw[:2].isalpha() else "eq"
    value = raw[2:] if raw[:2].isalpha() else raw
    if prefix not in PREFIXES:
        raise invalid(param, "unknown prefix; use eq, ne, lt, gt, le, ge, sa, eb or ap")
    # An unencoded '+' in a query string arrives as a space; take it back.
    value = value.replace(" ", "+")
    return PREFIXES[prefix], _value_span(param, value)


def _value_span(param: str, value: str) -> Span:
    found = _VALUE.fullmatch(value)
    if found is None:
        raise invalid(param, "expected a date such as 2026, 2026-11, 2026-11-23 or an instant")
    part = found.groupdict()
    try:
        year = int(part["year"])
        if part["month"] is None:
            return _local(dt.datetime(year, 1, 1), dt.datetime(year + 1, 1, 1))
        month = int(part["month"])
        if part["day"] is None:
            after = dt.datetime(year + month // 12, month % 12 + 1, 1)
            return _local(dt.datetime(year, month, 1), after)
        day = dt.date(year, month, int(part["day"]))
        if part["hour"] is None:
            start = dt.datetime(day.year, day.month, day.day)
            return _local(start, start + dt.timedelta(days=1))
        zone = _zone(part["tz"])
        at = dt.datetime(
            day.year,
            day.month,
            day.day,
            int(part["hour"]),
            int(part["minute"]),
            int(part["second"] or 0),
            int((part["fraction"] or "0").ljust(6, "0")[:6]),
            tzinfo=zone,
        )
    except ValueError:
        raise invalid(param, "not a valid calendar date or time") from None
    step = dt.timedelta(minutes=1) if part["second"] is None else dt.timedelta(seconds=1)
    return Span(at, at + step)


def _local(start: dt.datetime, end: dt.datetime) -> Span:
    return Span(start.replace(tzinfo=OSLO), end.replace(tzinfo=OSLO))


def _zone(text: str | None) -> dt.tzinfo:
    if text is None:
        return OSLO
    if text == "Z":
        return dt.UTC
    sign = -1 if text[0] == "-" else 1
    hours, minutes = int(text[1:3]), int(text[4:6])
    if hours > 14 or minutes > 59:
        raise ValueError("offset out of range")
    return dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))

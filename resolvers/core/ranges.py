"""Date-range filters the screens use ("from ... to ..."), as days in Europe/Oslo."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import TypeVar

import strawberry

from authz.relations import OSLO
from resolvers.core.errors import BadUserInput

T = TypeVar("T")
MAX_DAYS = 366 * 20


@strawberry.input(description="Days from and to, both included, in Norwegian time.")
class DateRange:
    from_: dt.date | None = strawberry.field(
        default=None, name="from", description="The first day included (open when null)."
    )
    to: dt.date | None = strawberry.field(
        default=None, description="The last day included (open when null)."
    )

    def check(self, argument: str = "filter") -> None:
        """BadUserInput when the range runs backwards or is absurdly long."""
        if self.from_ is not None and self.to is not None:
            if self.to < self.from_:
                raise BadUserInput("`to` must not be before `from`.", argument=argument)
            if (self.to - self.from_).days > MAX_DAYS:
                raise BadUserInput("The date range is too long.", argument=argument)

    def contains(self, moment: dt.datetime | dt.date | None) -> bool:
        """True when `moment` falls on a day of the range (undated items only in an open one)."""
        if self.from_ is None and self.to is None:
            return True
        if moment is None:
            return False
        day = moment.astimezone(OSLO).date() if isinstance(moment, dt.datetime) else moment
        return (self.from_ is None or day >= self.from_) and (self.to is None or day <= self.to)


def within(
    items: Iterable[T], when: Callable[[T], dt.datetime | dt.date | None], days: DateRange | None
) -> list[T]:
    """The items whose date falls in `days` (all of them without a range)."""
    if days is None:
        return list(items)
    days.check()
    return [item for item in items if days.contains(when(item))]
